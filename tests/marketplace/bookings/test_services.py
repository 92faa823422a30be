from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from marketplace.audit import Actor
from marketplace.bookings.controls import (
    advance_schedule,
    expire_hold,
    expired_hold_ids,
    pause_booking,
    resume_booking,
)
from marketplace.bookings.requests import BookingRequest
from marketplace.bookings.services import cancel_booking, confirm_booking, place_hold, quote_booking
from marketplace.errors import (
    HoldExpired,
    IdempotencyConflict,
    InvalidInput,
    SharesUnavailable,
    ShopNotApproved,
)
from marketplace.inventory import stock
from marketplace.inventory.targeting import EVERYONE, parse_targeting
from marketplace.lifecycle import ActorKind, BookingStatus, IllegalTransition, MarketplaceEventKind
from marketplace.models import AuditEntry, InventoryWeek, MarketplaceEvent
from marketplace.vocab import ShopStatus
from tests.support.marketplace_factories import NOW, WEEK, make_placement, make_shop

STAFF = Actor(ActorKind.STAFF, 1, "審査 花子")


def request(placement_id: int, shares: int = 1, weeks: int = 1, **extra: object) -> BookingRequest:
    return BookingRequest(
        placement_id=placement_id,
        first_week=WEEK,
        weeks=weeks,
        shares=shares,
        targeting=extra.pop("targeting", EVERYONE),  # type: ignore[arg-type]
    )


def week_row(session: Session, placement_id: int, week: date = WEEK) -> InventoryWeek:
    return session.execute(
        select(InventoryWeek)
        .where(InventoryWeek.placement_id == placement_id, InventoryWeek.week_start == week)
        .execution_options(populate_existing=True)
    ).scalar_one()


def test_quote_shows_price_and_availability(session: Session) -> None:
    shop = make_shop(session, in_city=False)
    placement = make_placement(session)
    targeting = parse_targeting({"districts": ["tsuruga"]})
    priced = quote_booking(
        session,
        shop.id,
        request(placement.id, shares=2, weeks=13, targeting=targeting),
        NOW,
    )
    assert priced.quote.unit_price_yen == 4_125
    assert priced.quote.discount_percent == 20
    assert priced.quote.surcharge_percent == 15
    assert [week.free for week in priced.availability] == [4] * 13
    assert priced.fits


def test_hold_confirm_and_sell(session: Session) -> None:
    shop = make_shop(session)
    placement = make_placement(session)
    booking = place_hold(
        session, shop.id, request(placement.id, shares=3, weeks=2), "key-00001", now=NOW
    )
    assert booking.status is BookingStatus.HELD
    assert booking.hold_expires_at == NOW + timedelta(minutes=15)
    assert booking.total_yen == 2_750 * 3 * 2
    assert (
        week_row(session, placement.id).held_shares,
        week_row(session, placement.id).sold_shares,
    ) == (3, 0)

    confirm_booking(session, booking.id, now=NOW + timedelta(minutes=5))
    assert booking.status is BookingStatus.IN_REVIEW  # no approved creative yet
    row = week_row(session, placement.id, WEEK + timedelta(weeks=1))
    assert (row.held_shares, row.sold_shares) == (0, 3)
    # Billing may call again after a duplicate webhook: nothing changes.
    confirm_booking(session, booking.id, now=NOW + timedelta(minutes=6))
    assert week_row(session, placement.id).sold_shares == 3
    kinds = session.scalars(
        select(MarketplaceEvent.kind).where(MarketplaceEvent.booking_id == booking.id)
    ).all()
    assert kinds == [MarketplaceEventKind.BOOKING_CONFIRMED]


def test_sold_out_week_refuses_and_names_the_week(session: Session) -> None:
    shop = make_shop(session)
    placement = make_placement(session, shares_per_week=2)
    place_hold(session, shop.id, request(placement.id, shares=2), "key-00001", now=NOW)
    with pytest.raises(SharesUnavailable) as error:
        place_hold(session, shop.id, request(placement.id, shares=1), "key-00002", now=NOW)
    assert WEEK.isoformat() in error.value.message


def test_expired_hold_frees_its_shares_by_itself(session: Session) -> None:
    shop = make_shop(session)
    placement = make_placement(session, shares_per_week=2)
    first = place_hold(session, shop.id, request(placement.id, shares=2), "key-00001", now=NOW)
    later = NOW + timedelta(minutes=16)
    assert stock.availability(session, placement, [WEEK], later)[0].free == 2
    second = place_hold(session, shop.id, request(placement.id, shares=2), "key-00002", now=later)
    assert second.status is BookingStatus.HELD
    row = week_row(session, placement.id)
    assert (row.held_shares, row.sold_shares) == (2, 0)
    # The first shop pays too late and its shares are gone.
    with pytest.raises(HoldExpired):
        confirm_booking(session, first.id, now=later)


def test_late_confirmation_succeeds_when_shares_are_still_free(session: Session) -> None:
    shop = make_shop(session)
    placement = make_placement(session)
    booking = place_hold(session, shop.id, request(placement.id, shares=2), "key-00001", now=NOW)
    confirm_booking(session, booking.id, now=NOW + timedelta(hours=1))
    row = week_row(session, placement.id)
    assert (row.held_shares, row.sold_shares) == (0, 2)


def test_expire_job_marks_and_releases(session: Session) -> None:
    shop = make_shop(session)
    placement = make_placement(session)
    booking = place_hold(session, shop.id, request(placement.id, shares=3), "key-00001", now=NOW)
    later = NOW + timedelta(minutes=20)
    assert booking.id in expired_hold_ids(session, later)
    assert expire_hold(session, booking.id, later)
    assert booking.status is BookingStatus.EXPIRED
    assert week_row(session, placement.id).held_shares == 0
    assert not expire_hold(session, booking.id, later)


def test_idempotency_key_books_once(session: Session) -> None:
    shop = make_shop(session)
    placement = make_placement(session)
    first = place_hold(session, shop.id, request(placement.id), "same-key-1", now=NOW)
    again = place_hold(session, shop.id, request(placement.id), "same-key-1", now=NOW)
    assert again.id == first.id
    assert week_row(session, placement.id).held_shares == 1
    with pytest.raises(IdempotencyConflict):
        place_hold(session, shop.id, request(placement.id, shares=2), "same-key-1", now=NOW)


def test_pending_shop_cannot_hold(session: Session) -> None:
    shop = make_shop(session, status=ShopStatus.PENDING)
    placement = make_placement(session)
    with pytest.raises(ShopNotApproved):
        place_hold(session, shop.id, request(placement.id), "key-00001", now=NOW)


def test_cancel_paid_booking_refunds_by_policy_and_emits_event(session: Session) -> None:
    shop = make_shop(session)
    placement = make_placement(session)
    booking = place_hold(session, shop.id, request(placement.id, weeks=2), "key-00001", now=NOW)
    confirm_booking(session, booking.id, now=NOW)
    # Cancelled on Tuesday 2027-03-23 (Tokyo) + 1 day: the first week is inside the notice.
    _, terms = cancel_booking(
        session, booking.id, Actor(ActorKind.SHOP, 1), shop_id=shop.id, now=NOW
    )
    assert booking.status is BookingStatus.CANCELLED
    assert terms.refund_yen == booking.total_yen // 2
    assert week_row(session, placement.id).sold_shares == 0
    event = session.scalars(
        select(MarketplaceEvent).where(
            MarketplaceEvent.booking_id == booking.id,
            MarketplaceEvent.kind == MarketplaceEventKind.BOOKING_CANCELLED,
        )
    ).one()
    assert event.refund_yen == terms.refund_yen
    assert event.payload["paid"] is True
    with pytest.raises(IllegalTransition):
        cancel_booking(session, booking.id, STAFF, now=NOW)


def test_cancel_hold_is_free(session: Session) -> None:
    shop = make_shop(session)
    placement = make_placement(session)
    booking = place_hold(session, shop.id, request(placement.id, shares=4), "key-00001", now=NOW)
    _, terms = cancel_booking(session, booking.id, STAFF, now=NOW)
    assert terms.refund_yen == 0
    assert week_row(session, placement.id).held_shares == 0


def test_pause_resume_and_schedule(session: Session) -> None:
    shop = make_shop(session)
    placement = make_placement(session)
    booking = place_hold(session, shop.id, request(placement.id), "key-00001", now=NOW)
    confirm_booking(session, booking.id, now=NOW)
    with pytest.raises(InvalidInput):
        pause_booking(session, booking.id, STAFF, "  ")
    pause_booking(session, booking.id, STAFF, "住民から苦情", now=NOW)
    assert booking.status is BookingStatus.PAUSED
    resume_booking(session, booking.id, STAFF, now=NOW)
    assert booking.status is BookingStatus.IN_REVIEW
    booking.status = BookingStatus.SCHEDULED
    # Monday 00:30 in Tokyo is still Sunday in UTC: the Tokyo date decides.
    advance_schedule(session, datetime(2027, 3, 28, 15, 30, tzinfo=UTC))
    assert booking.status is BookingStatus.LIVE
    advance_schedule(session, datetime(2027, 4, 4, 15, 0, tzinfo=UTC))
    assert booking.status is BookingStatus.COMPLETED


def test_database_refuses_oversell_even_without_the_service(session: Session) -> None:
    shop = make_shop(session)
    placement = make_placement(session, shares_per_week=2)
    place_hold(session, shop.id, request(placement.id, shares=2), "key-00001", now=NOW)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            text("UPDATE inventory_weeks SET sold_shares = 1 WHERE placement_id = :p"),
            {"p": placement.id},
        )


def test_audit_log_is_append_only(session: Session) -> None:
    session.add(AuditEntry(actor_kind=ActorKind.SYSTEM, action="x", subject_type="test"))
    session.flush()
    with pytest.raises(DBAPIError), session.begin_nested():
        session.execute(text("UPDATE audit_log SET reason = 'rewritten'"))
    with pytest.raises(DBAPIError), session.begin_nested():
        session.execute(text("DELETE FROM audit_log"))
