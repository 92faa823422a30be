"""A booking's delivery so far (the one measure) as the shop's booking page shows it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from sqlalchemy.orm import Session

from marketplace.delivery.measured import booking_period
from marketplace.delivery.shortfall import Cause
from marketplace.delivery.shortfall_reading import delivery_progress
from marketplace.lifecycle import BookingStatus
from marketplace.models import Booking

# A booking the shop bought and that has started: its delivery can be shown.
MEASURED_STATUSES = frozenset(
    {
        BookingStatus.IN_REVIEW,
        BookingStatus.APPROVED,
        BookingStatus.SCHEDULED,
        BookingStatus.LIVE,
        BookingStatus.PAUSED,
        BookingStatus.REJECTED,
        BookingStatus.COMPLETED,
    }
)


def percent(value: Fraction | None) -> str:
    """12.3% (one decimal, rounded down so a booking short by a hair is not shown on target)."""
    if value is None:
        return "—"
    return f"{math.floor(value * 1000) / 10:.1f}%"


@dataclass(frozen=True)
class DeliveryView:
    impressions: int
    owed: int
    share_bought: str
    share_delivered: str
    # The meter: delivered over owed, 0–100 (capped: ahead of target shows full).
    meter: int
    behind: bool
    causes: tuple[Cause, ...]
    until: datetime
    finished: bool
    measured: bool

    @property
    def checking(self) -> bool:
        return self.causes == (Cause.CHECKING,)


def delivery_view(
    session: Session, booking: Booking, now: datetime, cap: int
) -> DeliveryView | None:
    """None before the booking's first day, and for bookings that were never sold."""
    start, end = booking_period(booking)
    if booking.status not in MEASURED_STATUSES or now < start:
        return None
    progress = delivery_progress(session, booking, now, cap=cap)
    measure = progress.measure
    ratio = progress.share_of_owed
    return DeliveryView(
        impressions=measure.impressions,
        owed=math.floor(measure.owed),
        share_bought=percent(measure.share_bought),
        share_delivered=percent(measure.share_delivered),
        meter=100 if ratio is None else min(100, math.floor(ratio * 100)),
        behind=progress.behind,
        causes=progress.causes if progress.behind else (),
        until=progress.until,
        finished=now >= end,
        measured=measure.eligible_slots > 0,
    )
