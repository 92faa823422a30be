"""What one shop may hold at once (issue 16 item 1): a ready creative, caps, renewals, and the
staff's view of shops whose holds keep lapsing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.audit import SYSTEM
from marketplace.bookings.controls import expire_hold
from marketplace.bookings.holds import HoldLimits, repeated_expiries
from marketplace.bookings.requests import BookingRequest
from marketplace.bookings.services import HOLD_DURATION, cancel_booking, confirm_booking, place_hold
from marketplace.errors import CreativeRequired, HoldLimitExceeded
from marketplace.inventory.targeting import EVERYONE
from marketplace.lifecycle import BookingStatus, CreativeStatus
from marketplace.models import AuditEntry
from tests.support.marketplace_factories import (
    NOW,
    WEEK,
    make_creative,
    make_placement,
    make_shop,
)

LIMITS = HoldLimits(max_shares_per_week=2, max_share_weeks=6, max_renewals=2)


def ask(placement_id: int, shares: int = 1, weeks: int = 1, weeks_later: int = 0) -> BookingRequest:
    return BookingRequest(
        placement_id=placement_id,
        first_week=WEEK + timedelta(weeks=weeks_later),
        weeks=weeks,
        shares=shares,
        targeting=EVERYONE,
    )


def ready_shop(session: Session) -> int:
    shop = make_shop(session)
    make_creative(session, shop.id)
    return shop.id


@pytest.mark.parametrize(
    "status", [None, CreativeStatus.DRAFT, CreativeStatus.REJECTED, CreativeStatus.SUPERSEDED]
)
def test_no_hold_without_a_creative_in_review_or_approved(
    session: Session, status: CreativeStatus | None
) -> None:
    shop = make_shop(session)
    if status is not None:
        make_creative(session, shop.id, status)
    placement = make_placement(session)
    with pytest.raises(CreativeRequired) as refused:
        place_hold(session, shop.id, ask(placement.id), "key-00001", now=NOW, limits=LIMITS)
    assert "審査中または承認済みの素材が必要です" in refused.value.message


@pytest.mark.parametrize("status", [CreativeStatus.IN_REVIEW, CreativeStatus.APPROVED])
def test_a_submitted_or_approved_creative_allows_a_hold(
    session: Session, status: CreativeStatus
) -> None:
    shop = make_shop(session)
    creative = make_creative(session, shop.id, status)
    placement = make_placement(session)
    named = BookingRequest(placement.id, WEEK, 1, 1, EVERYONE, creative_id=creative.id)
    held = place_hold(session, shop.id, named, "key-00001", now=NOW, limits=LIMITS)
    assert held.status is BookingStatus.HELD


def test_a_named_draft_creative_is_refused_even_when_another_is_ready(session: Session) -> None:
    shop_id = ready_shop(session)
    draft = make_creative(session, shop_id, CreativeStatus.DRAFT)
    placement = make_placement(session)
    named = BookingRequest(placement.id, WEEK, 1, 1, EVERYONE, creative_id=draft.id)
    with pytest.raises(CreativeRequired):
        place_hold(session, shop_id, named, "key-00001", now=NOW, limits=LIMITS)


def test_one_placement_week_holds_at_most_the_cap(session: Session) -> None:
    shop_id = ready_shop(session)
    placement = make_placement(session, shares_per_week=6)
    place_hold(session, shop_id, ask(placement.id, shares=2), "key-00001", now=NOW, limits=LIMITS)
    with pytest.raises(HoldLimitExceeded) as refused:
        place_hold(session, shop_id, ask(placement.id), "key-00002", now=NOW, limits=LIMITS)
    assert refused.value.field == "shares"
    assert "2枠まで" in refused.value.message and WEEK.isoformat() in refused.value.message
    # Another week of the placement, another placement, or a paid hold: each has room again.
    place_hold(
        session, shop_id, ask(placement.id, weeks_later=1), "key-00003", now=NOW, limits=LIMITS
    )
    other = make_placement(session, feed_position=8)
    place_hold(session, shop_id, ask(other.id, shares=2), "key-00004", now=NOW, limits=LIMITS)


def test_a_paid_hold_no_longer_counts(session: Session) -> None:
    shop_id = ready_shop(session)
    placement = make_placement(session, shares_per_week=6)
    first = place_hold(
        session, shop_id, ask(placement.id, shares=2), "key-00001", now=NOW, limits=LIMITS
    )
    confirm_booking(session, first.id, now=NOW)
    again = place_hold(
        session, shop_id, ask(placement.id, shares=2), "key-00002", now=NOW, limits=LIMITS
    )
    assert again.status is BookingStatus.HELD


def test_all_holds_together_are_capped_in_share_weeks(session: Session) -> None:
    shop_id = ready_shop(session)
    placement = make_placement(session)
    place_hold(session, shop_id, ask(placement.id, weeks=4), "key-00001", now=NOW, limits=LIMITS)
    other = make_placement(session, feed_position=8)
    with pytest.raises(HoldLimitExceeded) as refused:
        place_hold(session, shop_id, ask(other.id, weeks=3), "key-00002", now=NOW, limits=LIMITS)
    assert "合計6枠・週" in refused.value.message
    assert refused.value.params == {"limit": 6, "held": 4, "asked": 3}
    place_hold(session, shop_id, ask(other.id, weeks=2), "key-00003", now=NOW, limits=LIMITS)


def test_a_lapsed_hold_no_longer_counts_towards_the_caps(session: Session) -> None:
    shop_id = ready_shop(session)
    placement = make_placement(session)
    place_hold(session, shop_id, ask(placement.id, shares=2), "key-00001", now=NOW, limits=LIMITS)
    later = NOW + HOLD_DURATION + timedelta(minutes=1)
    again = place_hold(
        session, shop_id, ask(placement.id, shares=2), "key-00002", now=later, limits=LIMITS
    )
    assert again.status is BookingStatus.HELD


def test_the_same_weeks_are_renewed_a_bounded_number_of_times(session: Session) -> None:
    """Letting a hold lapse (or cancelling it) and holding the same weeks again, forever, kept
    them from every rival: now twice a day at most, then the weeks are free for a day."""
    shop_id = ready_shop(session)
    placement = make_placement(session)
    now = NOW
    for n in range(3):  # the first hold and two renewals
        held = place_hold(
            session, shop_id, ask(placement.id, weeks=2), f"key-{n:05d}", now=now, limits=LIMITS
        )
        if n == 1:
            cancel_booking(session, held.id, SYSTEM, shop_id=shop_id, now=now)
        now = now + HOLD_DURATION + timedelta(seconds=1)
        if n != 1:
            assert expire_hold(session, held.id, now)
    with pytest.raises(HoldLimitExceeded) as refused:
        place_hold(session, shop_id, ask(placement.id), "key-00009", now=now, limits=LIMITS)
    assert refused.value.field == "first_week"
    assert "24時間に2回まで" in refused.value.message
    assert "すでに3回" in refused.value.message
    # Weeks it never held are still open to it, and a day later so are these.
    place_hold(
        session, shop_id, ask(placement.id, weeks_later=2), "key-00010", now=now, limits=LIMITS
    )
    next_day = now + timedelta(hours=24)
    place_hold(session, shop_id, ask(placement.id), "key-00011", now=next_day, limits=LIMITS)


def test_resending_the_same_key_is_not_another_hold(session: Session) -> None:
    shop_id = ready_shop(session)
    placement = make_placement(session)
    first = place_hold(
        session, shop_id, ask(placement.id, shares=2), "key-00001", now=NOW, limits=LIMITS
    )
    again = place_hold(
        session, shop_id, ask(placement.id, shares=2), "key-00001", now=NOW, limits=LIMITS
    )
    assert again.id == first.id


def test_repeatedly_lapsing_holds_are_audited_and_listed_for_staff(session: Session) -> None:
    shop_id = ready_shop(session)
    careful = ready_shop(session)
    placement = make_placement(session, shares_per_week=8)
    now = NOW
    for n in range(3):
        held = place_hold(
            session, shop_id, ask(placement.id, weeks_later=n), f"lapse-{n}", now=now, limits=LIMITS
        )
        place_hold(
            session, careful, ask(placement.id, weeks_later=n), f"calm-{n}", now=now, limits=LIMITS
        )
        now = now + HOLD_DURATION + timedelta(minutes=1)
        assert expire_hold(session, held.id, now)
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "holds_repeatedly_expired")
        ).all()
        assert len(entries) == (1 if n == 2 else 0)
    assert entries[0].shop_id == shop_id and entries[0].details["expired"] == 3
    flagged = repeated_expiries(session, now)
    # The careful shop's holds have not been expired by the job: it is not listed.
    assert [(flag.shop_id, flag.expired) for flag in flagged] == [(shop_id, 3)]
    assert repeated_expiries(session, now + timedelta(days=8)) == []
