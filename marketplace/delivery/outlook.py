"""Forecast vs sold per placement-week, for staff: can the bookings sold be delivered?

The quote forecasts one request against the bookings already sold (`forecast.py`); staff need
the same question asked of a whole week after the sale: each booking sold in it, forecast
against all the others, adds up to the impressions sold (share bought × the eligible slots its
residents will open) and what the week's traffic can deliver of them. A week is **oversold**
when what can be delivered falls below `forecast.WARN_BELOW` of what was sold; the bookings that
fall short are listed with the forecast's limit (sold out to the same residents, narrow, cap).

Pure: `outlook_reading.py` reads the traffic and the bookings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from marketplace.delivery.forecast import (
    WARN_BELOW,
    Limit,
    PlacementTraffic,
    SoldBooking,
    forecast,
)
from marketplace.inventory.targeting import Targeting

WEEK_DAYS = 7


@dataclass(frozen=True)
class SoldShare:
    """A booking sold in the week: its id, shares and targeting."""

    booking_id: int
    shares: int
    targeting: Targeting


@dataclass(frozen=True)
class BookingOutlook:
    booking_id: int
    shares: int
    sold: float  # impressions sold: share bought × the forecast eligible slots
    deliverable: float  # what the week's traffic leaves it after the other bookings
    limit: Limit | None

    @property
    def short(self) -> bool:
        return self.deliverable < self.sold * WARN_BELOW


@dataclass(frozen=True)
class WeekOutlook:
    week_start: date
    total_shares: int
    sold_shares: int
    bookings: tuple[BookingOutlook, ...]
    forecast_known: bool  # False without recent traffic to forecast from

    @property
    def sold(self) -> float:
        return sum(b.sold for b in self.bookings)

    @property
    def deliverable(self) -> float:
        return sum(b.deliverable for b in self.bookings)

    @property
    def ratio(self) -> float | None:
        """Deliverable ÷ sold (1 when everything sold can be delivered); None when unknown."""
        if not self.forecast_known or self.sold <= 0:
            return None
        return self.deliverable / self.sold

    @property
    def oversold(self) -> bool:
        ratio = self.ratio
        return ratio is not None and ratio < WARN_BELOW

    @property
    def short_bookings(self) -> tuple[BookingOutlook, ...]:
        return tuple(b for b in self.bookings if b.short)


def week_outlook(
    traffic: PlacementTraffic | None,
    week_start: date,
    sold: Sequence[SoldShare],
    *,
    total_shares: int,
    shares_per_week: int,
    cap: int,
) -> WeekOutlook:
    """Forecast each booking sold in the week against all the others (see the module doc)."""
    sold_shares = sum(s.shares for s in sold)
    if traffic is None:
        return WeekOutlook(week_start, total_shares, sold_shares, (), forecast_known=False)
    outlooks = []
    for booking in sold:
        others = [
            SoldBooking(other.shares / shares_per_week, other.targeting)
            for other in sold
            if other.booking_id != booking.booking_id
        ]
        result = forecast(
            traffic,
            booking.targeting,
            shares=booking.shares,
            shares_per_week=shares_per_week,
            days=WEEK_DAYS,
            cap=cap,
            sold=others,
        )
        outlooks.append(
            BookingOutlook(
                booking.booking_id, booking.shares, result.owed, result.deliverable, result.limit
            )
        )
    return WeekOutlook(week_start, total_shares, sold_shares, tuple(outlooks), forecast_known=True)
