"""How far behind each placement's running bookings are, on the one measure (`measure.py`).

For monitoring: per placement, the impressions its live and paused bookings are owed so far
(share bought × seen eligible slots, from the hourly rollups) against the valid impressions
they got. Lag = owed − delivered, summed over the placement's bookings; negative when ahead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.delivery.measured import booking_period, measure_booking
from marketplace.lifecycle import BookingStatus
from marketplace.models import Booking, Placement

# Paused bookings are owed their hours too: the shop bought them (see measure.py).
RUNNING = (BookingStatus.LIVE, BookingStatus.PAUSED)


@dataclass(frozen=True)
class PlacementDelivery:
    placement: str  # the placement's code
    bookings: int
    owed: Fraction
    delivered: int

    @property
    def lag(self) -> Fraction:
        return self.owed - self.delivered


def delivery_by_placement(session: Session, now: datetime) -> list[PlacementDelivery]:
    """Running bookings whose period has begun, measured up to `now`, per placement code."""
    totals: dict[str, tuple[int, Fraction, int]] = {}
    rows = session.execute(
        select(Booking, Placement.code)
        .join(Placement, Placement.id == Booking.placement_id)
        .where(Booking.status.in_(RUNNING))
        .order_by(Placement.code, Booking.id)
    ).tuples()
    for booking, code in rows:
        if booking_period(booking)[0] > now:
            continue
        measure = measure_booking(session, booking, until=now)
        count, owed, delivered = totals.get(code, (0, Fraction(0), 0))
        totals[code] = (count + 1, owed + measure.owed, delivered + measure.impressions)
    return [
        PlacementDelivery(code, count, owed, delivered)
        for code, (count, owed, delivered) in totals.items()
    ]
