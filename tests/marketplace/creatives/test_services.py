from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.bookings.controls import assign_creative
from marketplace.bookings.requests import BookingRequest
from marketplace.bookings.services import confirm_booking, place_hold
from marketplace.creatives.images import process_image
from marketplace.creatives.services import (
    approved_version,
    create_creative,
    edit_creative,
    parse_creative_text,
    placement_problems,
    shop_creative,
)
from marketplace.errors import InvalidInput, NotFound
from marketplace.inventory.targeting import EVERYONE
from marketplace.lifecycle import BookingStatus, CreativeStatus, IllegalTransition
from marketplace.models import AuditEntry
from marketplace.review.services import approve_version, reject_version, review_queue
from marketplace.review.standards import load_policy
from tests.support.images import png_bytes
from tests.support.marketplace_factories import (
    NOW,
    WEEK,
    make_placement,
    make_reviewer,
    make_shop,
)

POLICY = load_policy()


def text(headline: str = "会津の地酒、試飲できます", body: str = "鶴ヶ城から徒歩5分") -> object:
    return parse_creative_text("冬の試飲会", headline, body, "https://sake.example.jp/")


def test_text_limits_name_the_field() -> None:
    with pytest.raises(InvalidInput) as error:
        parse_creative_text("n", "あ" * 41, "", "https://example.jp/")
    assert error.value.field == "headline"
    with pytest.raises(InvalidInput) as error:
        parse_creative_text("n", "見出し", "あ" * 121, "https://example.jp/")
    assert error.value.field == "body"
    with pytest.raises(InvalidInput) as error:
        parse_creative_text("n", "見出し", "", "javascript:alert(1)")
    assert error.value.field == "landing_url"


def test_create_flags_and_queue(session: Session) -> None:
    shop = make_shop(session)
    version = create_creative(
        session,
        shop.id,
        text(headline="日本一の地酒"),
        process_image(png_bytes()),
        POLICY,  # type: ignore[arg-type]
    )
    assert version.status is CreativeStatus.IN_REVIEW
    assert version.version == 1
    assert version.precheck_flags[0]["rule"] == "superlative.unproven"
    assert version.precheck_flags[0]["text"] == "日本一"
    assert version.id in [item.version.id for item in review_queue(session)]
    assert approved_version(session, version.creative_id) is None


def test_only_approved_version_is_shown_and_edits_do_not_replace_it(session: Session) -> None:
    REVIEWER = make_reviewer(session)
    shop = make_shop(session)
    v1 = create_creative(session, shop.id, text(), process_image(png_bytes()), POLICY)  # type: ignore[arg-type]
    approve_version(session, v1.id, REVIEWER)
    v2 = edit_creative(session, shop.id, v1.creative_id, text(headline="新酒入荷"), None, POLICY)  # type: ignore[arg-type]
    assert v2.version == 2 and v2.image_sha256 == v1.image_sha256
    shown = approved_version(session, v1.creative_id)
    assert shown is not None and shown.id == v1.id
    reject_version(session, v2.id, REVIEWER, "other", "写真が不鮮明です", POLICY)
    assert v2.status is CreativeStatus.REJECTED
    assert "写真が不鮮明です" in v2.decision_reason
    v3 = edit_creative(session, shop.id, v1.creative_id, text(headline="新酒入荷!"), None, POLICY)  # type: ignore[arg-type]
    approve_version(session, v3.id, REVIEWER)
    session.refresh(v1)
    assert v1.status is CreativeStatus.SUPERSEDED
    shown = approved_version(session, v1.creative_id)
    assert shown is not None and shown.id == v3.id
    with pytest.raises(IllegalTransition):
        approve_version(session, v2.id, REVIEWER)


def test_reject_needs_reason_and_known_rule_and_is_audited(session: Session) -> None:
    REVIEWER = make_reviewer(session)
    shop = make_shop(session)
    version = create_creative(
        session, shop.id, text(headline="絶対安い"), process_image(png_bytes()), POLICY
    )  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        reject_version(session, version.id, REVIEWER, "superlative.unproven", " ", POLICY)
    with pytest.raises(InvalidInput):
        reject_version(session, version.id, REVIEWER, "no-such-rule", "理由", POLICY)
    reject_version(
        session, version.id, REVIEWER, "superlative.unproven", "根拠を示してください", POLICY
    )
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.creative_version_id == version.id)
    ).one()
    assert (entry.actor_id, entry.action, entry.rule) == (
        REVIEWER.id,
        "creative_rejected",
        "superlative.unproven",
    )
    assert entry.reason == "根拠を示してください"


def test_other_shops_creative_is_not_found(session: Session) -> None:
    owner, other = make_shop(session), make_shop(session)
    version = create_creative(session, owner.id, text(), process_image(png_bytes()), POLICY)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        shop_creative(session, other.id, version.creative_id)
    with pytest.raises(NotFound):
        edit_creative(session, other.id, version.creative_id, text(), None, POLICY)  # type: ignore[arg-type]


def test_approval_moves_waiting_bookings_to_the_schedule(session: Session) -> None:
    REVIEWER = make_reviewer(session)
    shop = make_shop(session)
    placement = make_placement(session)
    version = create_creative(session, shop.id, text(), process_image(png_bytes()), POLICY)  # type: ignore[arg-type]
    assert placement_problems(placement, version) == []
    booking = place_hold(
        session,
        shop.id,
        BookingRequest(placement.id, WEEK, 1, 1, EVERYONE, version.creative_id),
        "key-00001",
        now=NOW,
    )
    confirm_booking(session, booking.id, now=NOW)
    assert booking.status is BookingStatus.IN_REVIEW
    approve_version(session, version.id, REVIEWER, now=NOW)
    assert booking.status is BookingStatus.SCHEDULED


def test_placement_rules(session: Session) -> None:
    shop = make_shop(session)
    narrow = make_placement(session, headline_max_chars=5, image_width=300, image_height=250)
    version = create_creative(session, shop.id, text(), process_image(png_bytes()), POLICY)  # type: ignore[arg-type]
    problems = placement_problems(narrow, version)
    assert any("見出し" in problem for problem in problems)
    assert any("縦横比" in problem for problem in problems)


def test_choosing_an_approved_creative_schedules_a_waiting_booking(session: Session) -> None:
    reviewer = make_reviewer(session)
    shop, other = make_shop(session), make_shop(session)
    placement = make_placement(session)
    booking = place_hold(
        session, shop.id, BookingRequest(placement.id, WEEK, 1, 1, EVERYONE), "key-00001", now=NOW
    )
    confirm_booking(session, booking.id, now=NOW)
    assert booking.status is BookingStatus.IN_REVIEW
    pending = create_creative(session, shop.id, text(), process_image(png_bytes()), POLICY)  # type: ignore[arg-type]
    assign_creative(session, shop.id, booking.id, pending.creative_id, reviewer, now=NOW)
    assert booking.status is BookingStatus.IN_REVIEW
    approve_version(session, pending.id, reviewer, now=NOW)
    assert booking.status is BookingStatus.SCHEDULED
    # A scheduled booking cannot switch to a creative nobody has reviewed.
    unreviewed = create_creative(session, shop.id, text(), process_image(png_bytes()), POLICY)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        assign_creative(session, shop.id, booking.id, unreviewed.creative_id, reviewer, now=NOW)
    foreign = create_creative(session, other.id, text(), process_image(png_bytes()), POLICY)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        assign_creative(session, shop.id, booking.id, foreign.creative_id, reviewer, now=NOW)
    with pytest.raises(NotFound):
        assign_creative(session, other.id, booking.id, foreign.creative_id, reviewer, now=NOW)


def test_rejection_stops_waiting_bookings_until_a_new_version(session: Session) -> None:
    reviewer = make_reviewer(session)
    shop = make_shop(session)
    placement = make_placement(session)
    version = create_creative(
        session, shop.id, text(headline="日本一"), process_image(png_bytes()), POLICY
    )  # type: ignore[arg-type]
    booking = place_hold(
        session,
        shop.id,
        BookingRequest(placement.id, WEEK, 1, 1, EVERYONE, version.creative_id),
        "key-00001",
        now=NOW,
    )
    confirm_booking(session, booking.id, now=NOW)
    reject_version(
        session, version.id, reviewer, "superlative.unproven", "根拠がありません", POLICY
    )
    assert booking.status is BookingStatus.REJECTED
    assert "根拠がありません" in booking.status_reason
    fixed = edit_creative(
        session, shop.id, version.creative_id, text(headline="会津の味"), None, POLICY
    )  # type: ignore[arg-type]
    assert booking.status is BookingStatus.IN_REVIEW and booking.status_reason == ""
    approve_version(session, fixed.id, reviewer, now=NOW)
    assert booking.status is BookingStatus.SCHEDULED
