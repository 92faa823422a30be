"""Forecast vs sold per placement-week, read from the database for the staff page.

The traffic is the quote's (`forecast_traffic.load_traffic`, the last 28 days, once per
placement); the bookings are those sold in each week (the statuses that hold shares, and the
running or finished ones); shares come from the inventory (`stock.availability`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.calendar import tokyo_date, week_start
from marketplace.delivery.forecast_traffic import TrafficReader, load_traffic
from marketplace.delivery.outlook import SoldShare, WeekOutlook, week_outlook
from marketplace.inventory import stock
from marketplace.inventory.placements import list_placements
from marketplace.inventory.targeting import parse_targeting
from marketplace.lifecycle import SOLD_STATUSES, BookingStatus
from marketplace.models import Booking, Placement

COUNTED = SOLD_STATUSES | {BookingStatus.COMPLETED}


@dataclass(frozen=True)
class PlacementOutlook:
    placement: Placement
    weeks: tuple[WeekOutlook, ...]

    @property
    def forecast_known(self) -> bool:
        """The placement has recent traffic to forecast from (the same for all its weeks)."""
        return any(week.forecast_known for week in self.weeks)


def placement_outlooks(
    session: Session,
    now: datetime,
    *,
    cap: int,
    weeks: int = 8,
    traffic: TrafficReader = load_traffic,
) -> list[PlacementOutlook]:
    """Each active placement's running week and the `weeks` − 1 after it; the traffic read
    through `traffic` (the web process passes its `RecentTraffic`, as quotes do)."""
    first = week_start(tokyo_date(now))
    week_list = stock.week_range(first, weeks)
    result = []
    for placement in list_placements(session, active_only=True):
        recent = traffic(session, placement.id, now)
        sold_by_week: dict[date, list[SoldShare]] = {week: [] for week in week_list}
        for booking_id, shares, targeting, first_week, last_week in session.execute(
            select(
                Booking.id, Booking.shares, Booking.targeting, Booking.first_week, Booking.last_week
            )
            .where(
                Booking.placement_id == placement.id,
                Booking.status.in_(COUNTED),
                Booking.first_week <= week_list[-1],
                Booking.last_week >= first,
            )
            .order_by(Booking.id)
        ).tuples():
            share = SoldShare(booking_id, shares, parse_targeting(targeting))
            week = max(first_week, first)
            while week <= min(last_week, week_list[-1]):
                sold_by_week[week].append(share)
                week += timedelta(weeks=1)
        availability = stock.availability(session, placement, week_list, now)
        result.append(
            PlacementOutlook(
                placement,
                tuple(
                    week_outlook(
                        recent,
                        week.week_start,
                        sold_by_week[week.week_start],
                        total_shares=week.total,
                        shares_per_week=placement.shares_per_week,
                        cap=cap,
                    )
                    for week in availability
                ),
            )
        )
    return result
