"""Staff controls and the clock: pause and resume, hold expiry, and the weekly schedule."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.audit import SYSTEM, Actor, record
from marketplace.bookings.holds import note_expiry
from marketplace.bookings.services import check_creative, creative_is_approved, lock_booking
from marketplace.calendar import tokyo_date
from marketplace.db import utcnow
from marketplace.errors import InvalidInput
from marketplace.inventory import stock
from marketplace.lifecycle import (
    BOOKING_TRANSITIONS,
    BookingStatus,
    MarketplaceEventKind,
    check_transition,
)
from marketplace.models import Booking, MarketplaceEvent, Placement

# Audit action: the booking's creative passed review, so hours before it were awaiting review
# (delivery's shortfall causes read it).
REVIEW_DONE = "booking_review_done"


def running_status(booking: Booking, creative_approved: bool, today: date) -> BookingStatus:
    """Where a confirmed booking belongs by its creative's review and its dates."""
    if not creative_approved:
        return BookingStatus.IN_REVIEW
    if today >= booking.last_week + timedelta(weeks=1):
        return BookingStatus.COMPLETED
    if today >= booking.first_week:
        return BookingStatus.LIVE
    return BookingStatus.SCHEDULED


def pause_booking(
    session: Session, booking_id: int, actor: Actor, reason: str, now: datetime | None = None
) -> Booking:
    """Staff stop a booking from being shown; the reason is kept and shown to the shop."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("停止の理由を入力してください", field="reason")
    now = now or utcnow()
    booking = lock_booking(session, booking_id)
    booking.status = check_transition(
        "予約", BOOKING_TRANSITIONS, booking.status, BookingStatus.PAUSED
    )
    booking.status_reason = reason[:1000]
    _event(session, booking, MarketplaceEventKind.BOOKING_PAUSED, now, reason=booking.status_reason)
    record(
        session,
        actor,
        "booking_paused",
        "booking",
        booking.id,
        shop_id=booking.shop_id,
        reason=reason,
    )
    return booking


def resume_booking(
    session: Session, booking_id: int, actor: Actor, now: datetime | None = None
) -> Booking:
    now = now or utcnow()
    booking = lock_booking(session, booking_id)
    target = running_status(
        booking, creative_is_approved(session, booking.creative_id), tokyo_date(now)
    )
    booking.status = check_transition("予約", BOOKING_TRANSITIONS, booking.status, target)
    booking.status_reason = ""
    _event(session, booking, MarketplaceEventKind.BOOKING_RESUMED, now)
    record(session, actor, "booking_resumed", "booking", booking.id, shop_id=booking.shop_id)
    return booking


def _event(
    session: Session, booking: Booking, kind: MarketplaceEventKind, now: datetime, **payload: str
) -> None:
    session.add(
        MarketplaceEvent(
            kind=kind,
            booking_id=booking.id,
            shop_id=booking.shop_id,
            payload=payload,
            occurred_at=now,
        )
    )


def expired_hold_ids(session: Session, now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    return list(
        session.scalars(
            select(Booking.id).where(
                Booking.status == BookingStatus.HELD, Booking.hold_expires_at <= now
            )
        )
    )


def expire_hold(session: Session, booking_id: int, now: datetime | None = None) -> bool:
    """Mark one lapsed hold expired and free its shares. Run each in its own transaction."""
    now = now or utcnow()
    booking = lock_booking(session, booking_id)
    if booking.status is not BookingStatus.HELD or (
        booking.hold_expires_at is not None and booking.hold_expires_at > now
    ):
        return False
    booking.status = check_transition(
        "予約", BOOKING_TRANSITIONS, booking.status, BookingStatus.EXPIRED
    )
    placement = session.get_one(Placement, booking.placement_id)
    stock.release_shares(
        session,
        placement,
        booking.id,
        stock.week_range(booking.first_week, booking.weeks),
        booking.shares,
        sold=False,
        now=now,
    )
    note_expiry(session, booking.shop_id, now)
    return True


def advance_schedule(session: Session, now: datetime | None = None) -> int:
    """Move scheduled bookings to live and live ones to completed by the Tokyo date."""
    today = tokyo_date(now or utcnow())
    changed = 0
    candidates = session.scalars(
        select(Booking).where(Booking.status.in_([BookingStatus.SCHEDULED, BookingStatus.LIVE]))
    )
    for booking in candidates:
        target = running_status(booking, True, today)
        if target is not booking.status:
            booking.status = check_transition("予約", BOOKING_TRANSITIONS, booking.status, target)
            record(session, SYSTEM, f"booking_{target.value}", "booking", booking.id)
            changed += 1
    return changed


def on_creative_approved(session: Session, creative_id: int, now: datetime | None = None) -> int:
    """Bookings waiting for this creative's review move on to the schedule."""
    today = tokyo_date(now or utcnow())
    moved = 0
    waiting = session.scalars(
        select(Booking).where(
            Booking.creative_id == creative_id, Booking.status == BookingStatus.IN_REVIEW
        )
    )
    for booking in waiting:
        booking.status = check_transition(
            "予約", BOOKING_TRANSITIONS, booking.status, BookingStatus.APPROVED
        )
        target = running_status(booking, True, today)
        booking.status = check_transition("予約", BOOKING_TRANSITIONS, booking.status, target)
        record(session, SYSTEM, REVIEW_DONE, "booking", booking.id, shop_id=booking.shop_id, at=now)
        moved += 1
    return moved


def on_creative_rejected(session: Session, creative_id: int, reason: str) -> int:
    """Bookings waiting for this creative are rejected too, with the reviewer's reason."""
    moved = 0
    for booking in session.scalars(
        select(Booking).where(
            Booking.creative_id == creative_id, Booking.status == BookingStatus.IN_REVIEW
        )
    ):
        booking.status = check_transition(
            "予約", BOOKING_TRANSITIONS, booking.status, BookingStatus.REJECTED
        )
        booking.status_reason = reason
        moved += 1
    return moved


ASSIGNABLE = frozenset(
    {
        BookingStatus.HELD,
        BookingStatus.IN_REVIEW,
        BookingStatus.REJECTED,
        BookingStatus.APPROVED,
        BookingStatus.SCHEDULED,
        BookingStatus.LIVE,
    }
)


def assign_creative(
    session: Session,
    shop_id: int,
    booking_id: int,
    creative_id: int,
    actor: Actor,
    now: datetime | None = None,
) -> Booking:
    """Choose the creative a booking shows. A running booking only takes an approved one."""
    now = now or utcnow()
    booking = lock_booking(session, booking_id, shop_id)
    if booking.status not in ASSIGNABLE:
        raise InvalidInput("この状態の申し込みでは素材を変更できません", field="creative_id")
    placement = session.get_one(Placement, booking.placement_id)
    check_creative(
        session, shop_id, creative_id, placement, (booking.first_week, booking.last_week)
    )
    approved = creative_is_approved(session, creative_id)
    waiting = (BookingStatus.HELD, BookingStatus.IN_REVIEW, BookingStatus.REJECTED)
    if booking.status not in waiting and not approved:
        raise InvalidInput(
            "掲載が決まった申し込みには、承認済みの素材だけを選べます", field="creative_id"
        )
    booking.creative_id = creative_id
    if booking.status is BookingStatus.REJECTED:
        booking.status = check_transition(
            "予約", BOOKING_TRANSITIONS, booking.status, BookingStatus.IN_REVIEW
        )
        booking.status_reason = ""
    if booking.status is BookingStatus.IN_REVIEW and approved:
        booking.status = check_transition(
            "予約", BOOKING_TRANSITIONS, booking.status, BookingStatus.APPROVED
        )
        target = running_status(booking, True, tokyo_date(now))
        booking.status = check_transition("予約", BOOKING_TRANSITIONS, booking.status, target)
        record(session, actor, REVIEW_DONE, "booking", booking.id, shop_id=shop_id, at=now)
    record(
        session,
        actor,
        "booking_creative_assigned",
        "booking",
        booking.id,
        shop_id=shop_id,
        creative_id=creative_id,
    )
    return booking
