"""A booking's delivery so far on the one measure, with the cause when it is behind.

Read from the database for the shop's booking page and the make-good credit note, so both
name the same cause (`shortfall.py` has the rule). The measure itself is `measured.measure_booking`.
Where the records come from:

* pauses: the booking's `booking_paused` / `booking_resumed` outbox events;
* disaster mode: the switch's `disaster_mode_on` / `disaster_mode_off` audit entries;
* review: the booking's own `booking_review_done` audit entry (recorded since issue 20), else
  the first approval of its creative (`creative_approved`); a booking still in review waits
  until now;
* outage: hours in which the placement's ads were offered but no impression was counted;
* reach: the quote's forecast (`bookings.services.forecast_sale`), against the other bookings.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.bookings.controls import REVIEW_DONE
from marketplace.bookings.services import forecast_sale
from marketplace.db import utcnow
from marketplace.delivery.layout import HostLayout
from marketplace.delivery.measure import DeliveryMeasure
from marketplace.delivery.measured import (
    booking_period,
    eligible_slots_by_hour,
    measure_booking,
)
from marketplace.delivery.models import DeliveryRollup
from marketplace.delivery.shortfall import (
    Cause,
    HourCounts,
    Window,
    Windows,
    deficits,
    is_behind,
    name_causes,
    ordinary_behind,
)
from marketplace.inventory.targeting import parse_targeting
from marketplace.lifecycle import BookingStatus, MarketplaceEventKind
from marketplace.models import AuditEntry, Booking, CreativeVersion, MarketplaceEvent, Placement

WAITING_FOR_REVIEW = (BookingStatus.IN_REVIEW, BookingStatus.REJECTED)


@dataclass(frozen=True)
class DeliveryProgress:
    """What a booking got so far and, when behind, why."""

    measure: DeliveryMeasure
    behind: bool
    causes: tuple[Cause, ...]
    until: datetime

    @property
    def share_of_owed(self) -> Fraction | None:
        """Valid impressions ÷ owed impressions (1 is on target), None before anything is owed."""
        owed = self.measure.owed
        return None if owed == 0 else Fraction(self.measure.impressions) / owed


def _intervals(changes: list[tuple[datetime, bool]], until: datetime) -> tuple[Window, ...]:
    """(time, on) switch changes in time order → the windows it was on, open ones up to until."""
    windows: list[Window] = []
    started: datetime | None = None
    for when, on in changes:
        if on and started is None:
            started = when
        elif not on and started is not None:
            windows.append((started, when))
            started = None
    if started is not None and started < until:
        windows.append((started, until))
    return tuple(windows)


def pause_windows(session: Session, booking_id: int, until: datetime) -> tuple[Window, ...]:
    rows = session.execute(
        select(MarketplaceEvent.occurred_at, MarketplaceEvent.kind)
        .where(
            MarketplaceEvent.booking_id == booking_id,
            MarketplaceEvent.kind.in_(
                [MarketplaceEventKind.BOOKING_PAUSED, MarketplaceEventKind.BOOKING_RESUMED]
            ),
        )
        .order_by(MarketplaceEvent.occurred_at, MarketplaceEvent.id)
    ).tuples()
    return _intervals(
        [(when, kind is MarketplaceEventKind.BOOKING_PAUSED) for when, kind in rows], until
    )


def disaster_windows(session: Session, start: datetime, until: datetime) -> tuple[Window, ...]:
    rows = session.execute(
        select(AuditEntry.occurred_at, AuditEntry.action)
        .where(
            AuditEntry.action.in_(["disaster_mode_on", "disaster_mode_off"]),
            AuditEntry.occurred_at < until,
        )
        .order_by(AuditEntry.occurred_at, AuditEntry.id)
    ).tuples()
    windows = _intervals([(when, action == "disaster_mode_on") for when, action in rows], until)
    return tuple((a, b) for a, b in windows if b > start)


def review_done_at(session: Session, booking: Booking) -> datetime | None:
    """When the booking's creative was approved for it (None: not yet, or never needed)."""
    recorded = session.scalar(
        select(func.min(AuditEntry.occurred_at)).where(
            AuditEntry.action == REVIEW_DONE,
            AuditEntry.subject_type == "booking",
            AuditEntry.subject_id == booking.id,
        )
    )
    if recorded is not None or booking.creative_id is None:
        return recorded
    versions = select(CreativeVersion.id).where(CreativeVersion.creative_id == booking.creative_id)
    return session.scalar(
        select(func.min(AuditEntry.occurred_at)).where(
            AuditEntry.action == "creative_approved",
            AuditEntry.creative_version_id.in_(versions),
        )
    )


def review_windows(
    session: Session, booking: Booking, start: datetime, until: datetime
) -> tuple[Window, ...]:
    if booking.status in WAITING_FOR_REVIEW:
        return ((start, until),) if start < until else ()
    done = review_done_at(session, booking)
    if done is None or done <= start:
        return ()
    return ((start, min(done, until)),)


def hour_counts(
    session: Session, booking: Booking, start: datetime, end: datetime
) -> list[HourCounts]:
    slots = eligible_slots_by_hour(session, booking.id, start, end)
    impressions: dict[datetime, int] = defaultdict(int)
    placement: dict[datetime, tuple[int, int]] = {}
    for hour, own, offers, seen in session.execute(
        select(
            DeliveryRollup.hour_start,
            func.sum(DeliveryRollup.impressions).filter(DeliveryRollup.booking_id == booking.id),
            func.sum(DeliveryRollup.offers),
            func.sum(DeliveryRollup.impressions),
        )
        .where(
            DeliveryRollup.placement_id == booking.placement_id,
            DeliveryRollup.hour_start >= start,
            DeliveryRollup.hour_start < end,
        )
        .group_by(DeliveryRollup.hour_start)
    ).tuples():
        impressions[hour] += int(own or 0)
        placement[hour] = (int(offers or 0), int(seen or 0))
    return [
        HourCounts(
            hour,
            slots.get(hour, 0),
            impressions.get(hour, 0),
            counting_failed=placement.get(hour, (0, 1))[0] > 0 and placement[hour][1] == 0,
        )
        for hour in sorted(set(slots) | set(impressions))
    ]


def delivery_progress(
    session: Session,
    booking: Booking,
    now: datetime | None = None,
    *,
    cap: int = HostLayout.frequency_cap,
) -> DeliveryProgress:
    """The booking's delivery up to `now` (the one measure) and the causes of any shortfall."""
    now = now or utcnow()
    start, end = booking_period(booking)
    until = min(end, now)
    measure = measure_booking(session, booking, until)
    causes: tuple[Cause, ...] = ()
    if measure.shortfall > 0:
        windows = Windows(
            paused=pause_windows(session, booking.id, until),
            disaster=disaster_windows(session, start, until),
            review=review_windows(session, booking, start, until),
        )
        found = deficits(
            hour_counts(session, booking, start, until),
            windows,
            measure.share_bought,
            measure.view_rate,
        )
        reach = None
        if ordinary_behind(found, measure.shortfall):
            placement = session.get_one(Placement, booking.placement_id)
            forecast = forecast_sale(
                session,
                placement,
                parse_targeting(booking.targeting),
                booking.shares,
                (booking.first_week, booking.last_week),
                cap=cap,
                now=now,
                sold_besides=booking.id,
            )
            reach = forecast.limit if forecast is not None else None
        causes = name_causes(found, measure.shortfall, reach)
    behind = is_behind(measure.share_bought, measure.share_delivered)
    return DeliveryProgress(measure, behind, causes, until)
