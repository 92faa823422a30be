from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics.audience import refresh_live_bookings, stored_reach
from analytics.errors import UnknownResident
from analytics.retention import forget_resident, purge_raw_events, resident_key, retention_cutoff
from analytics.shop_report_source import load_shop_report
from marketplace.calendar import TOKYO
from marketplace.delivery.models import AdImpression, AdOffer
from marketplace.delivery.relevance import UniformScorer
from marketplace.delivery.service import DeliveryService
from marketplace.delivery.tracking import TokenSigner
from marketplace.delivery.writer import EventWriter
from marketplace.models import Resident
from tests.support.analytics_world import book, deliver, shop
from tests.support.settings import TEST_IDENTITY_SECRET

MONDAY = date(2026, 6, 1)


def _key(external_id: str) -> str:
    return resident_key(TEST_IDENTITY_SECRET, external_id)


def test_resident_key_matches_delivery(tmp_path: Path) -> None:
    writer = EventWriter(None, tmp_path)  # type: ignore[arg-type]  # never started
    service = DeliveryService(
        None,  # type: ignore[arg-type]
        writer,
        TokenSigner("t" * 40),
        TEST_IDENTITY_SECRET,
        UniformScorer(),
    )
    for external_id in ("resident-1", "resident-000042", "住民-7"):
        assert service.resident_key(external_id) == _key(external_id)


def _world(session: Session) -> tuple[int, datetime]:
    booking = book(session, shop(session), MONDAY)
    session.add(Resident(external_id="resident-1", age_band="30-39", household="couple"))
    at = datetime.combine(MONDAY, time(19), tzinfo=TOKYO)
    viewers = [(_key(f"resident-{n}"), "30-39", "couple", "tsuruga") for n in range(1, 31)]
    deliver(session, booking, viewers, at, clicks_every=3)
    return booking.id, at


def test_forget_removes_profile_and_events_and_reports_stay_the_same(session: Session) -> None:
    booking_id, at = _world(session)
    before = load_shop_report(session, booking_id)
    result = forget_resident(session, "resident-1", TEST_IDENTITY_SECRET, at + timedelta(days=2))
    assert result.ad_events_deleted == 1 and result.ad_events_unlinked == 0
    assert session.scalar(select(Resident).where(Resident.external_id == "resident-1")) is None
    assert (
        session.scalar(select(func.count()).where(AdOffer.resident_key == _key("resident-1"))) == 0
    )
    after = load_shop_report(session, booking_id)
    assert (after.impressions, after.clicks) == (before.impressions, before.clicks)
    assert after.audience.equals(before.audience)
    with pytest.raises(UnknownResident):
        forget_resident(session, "resident-1", TEST_IDENTITY_SECRET, at + timedelta(days=2))


def test_forget_unlinks_events_delivery_may_still_roll_up(session: Session) -> None:
    _, at = _world(session)
    result = forget_resident(
        session, "resident-2", TEST_IDENTITY_SECRET, at + timedelta(minutes=30)
    )
    assert result.ad_events_unlinked == 1 and result.ad_events_deleted == 0
    assert (
        session.scalar(
            select(func.count()).select_from(AdOffer).where(AdOffer.resident_key.is_(None))
        )
        == 1
    )


def test_purge_deletes_old_raw_events_after_rollup_and_keeps_reports(session: Session) -> None:
    booking_id, at = _world(session)
    before = load_shop_report(session, booking_id)
    result = purge_raw_events(session, at + timedelta(days=380), months=13)
    assert result.offers == 0  # still inside 13 months
    result = purge_raw_events(session, at + timedelta(days=450), months=13)
    assert result.offers == 30 and result.impressions == 30 and result.snapshots == 1
    assert session.scalar(select(func.count()).select_from(AdImpression)) == 0
    after = load_shop_report(session, booking_id)
    assert (after.impressions, after.clicks) == (before.impressions, before.clicks)
    # Reach survives as a snapshot, so suppression decisions do not change.
    assert after.audience["suppressed"].tolist() == before.audience["suppressed"].tolist()


def test_retention_cutoff_is_a_tokyo_month_boundary() -> None:
    now = datetime(2027, 7, 15, 3, 0, tzinfo=TOKYO)
    assert retention_cutoff(now, 13) == datetime(2026, 6, 1, tzinfo=TOKYO)
    with pytest.raises(ValueError):
        retention_cutoff(now, 0)


def test_refresh_job_snapshots_recently_delivered_bookings(session: Session) -> None:
    booking_id, at = _world(session)
    assert refresh_live_bookings(session, at + timedelta(hours=2)) == 1
    stored = stored_reach(session, booking_id).set_index(["dimension", "value"])["residents"]
    assert stored[("total", "all")] == 30
    assert refresh_live_bookings(session, at + timedelta(days=3)) == 0


def test_forget_deletes_the_residents_ad_choices_too(session: Session) -> None:
    from marketplace.delivery.choices import NO_CHOICES, choices_of, hide_shop
    from marketplace.delivery.choices import set_personalized_ads as set_personalized

    booking_id, at = _world(session)
    key = _key("resident-only-choices")
    shop_id = book_shop_id(session, booking_id)
    hide_shop(session, key, shop_id, at)
    set_personalized(session, key, False, at)
    # Choices alone are data the plugin holds: forgetting finds them without profile or events.
    result = forget_resident(session, "resident-only-choices", TEST_IDENTITY_SECRET, at)
    assert result.choices_deleted == 2  # the hidden shop and the choices row
    assert choices_of(session, key) == NO_CHOICES


def book_shop_id(session: Session, booking_id: int) -> int:
    from marketplace.models import Booking

    booking = session.get(Booking, booking_id)
    assert booking is not None
    return booking.shop_id
