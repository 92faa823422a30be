"""Billing fixtures: a configured issuer, shops, and the ledger check after every money test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from billing.check import check_ledger
from billing.config import BillingConfig
from billing.tax import RoundingMode
from marketplace.booking_requests import BookingRequest
from marketplace.bookings import place_hold
from marketplace.db import utcnow
from marketplace.lifecycle import BookingStatus, PlacementKind
from marketplace.models import Booking, Placement, Shop
from marketplace.targeting import Targeting
from marketplace.vocab import ShopStatus

ISSUER_NAME = "会津若松市 スマートシティ推進室"
ISSUER_NUMBER = "T7000012050002"


@pytest.fixture
def billing_config() -> BillingConfig:
    return BillingConfig(
        issuer_name=ISSUER_NAME,
        issuer_registration_number=ISSUER_NUMBER,
        rounding=RoundingMode.FLOOR,
        due_days=30,
        monthly_after_weeks=5,
        bank_account="東邦銀行 本店営業部 普通 1234567 アイヅワカマツシ",
    )


@pytest.fixture
def make_shop(session: Session) -> Callable[..., Shop]:
    counter = iter(range(1, 10_000))

    def make(**overrides: Any) -> Shop:
        n = next(counter)
        values: dict[str, Any] = {
            "business_name": f"会津の酒蔵 {n}号店",
            "business_name_kana": f"アイヅノサカグラ{n}",
            "category": "sake-brewery",
            "district": "tsuruga",
            "contact_name": "山田 花子",
            "contact_email": f"shop{n}@example.jp",
            "status": ShopStatus.APPROVED,
        }
        values.update(overrides)
        shop = Shop(**values)
        session.add(shop)
        session.flush()
        return shop

    return make


@pytest.fixture
def placement(session: Session) -> Placement:
    placement = Placement(
        code="feed-card",
        name="フィード内カード",
        kind=PlacementKind.IN_FEED,
        feed_position=3,
        image_width=600,
        image_height=300,
        max_image_bytes=200_000,
        headline_max_chars=30,
        body_max_chars=80,
        shares_per_week=4,
        price_per_share_week_yen=11_000,
        out_of_city_price_per_share_week_yen=16_500,
    )
    session.add(placement)
    session.flush()
    return placement


@pytest.fixture
def make_booking(session: Session, placement: Placement) -> Callable[..., Booking]:
    """A booking row as the marketplace writes it (status and price already decided)."""
    counter = iter(range(1, 100_000))

    def make(
        shop: Shop,
        *,
        first_week: date = date(2026, 5, 4),
        weeks: int = 4,
        shares: int = 1,
        total_yen: int | None = None,
        status: BookingStatus = BookingStatus.HELD,
    ) -> Booking:
        total = total_yen if total_yen is not None else 11_000 * weeks * shares
        booking = Booking(
            shop_id=shop.id,
            placement_id=placement.id,
            shares=shares,
            first_week=first_week,
            last_week=first_week + timedelta(weeks=weeks - 1),
            weeks=weeks,
            status=status,
            hold_expires_at=utcnow() + timedelta(minutes=15),
            in_city_rate=True,
            unit_price_yen=11_000,
            list_price_yen=total,
            discount_yen=0,
            surcharge_yen=0,
            total_yen=total,
            tax_yen=total * 10 // 110,
            idempotency_key=f"test-{next(counter)}",
        )
        session.add(booking)
        session.flush()
        return booking

    return make


NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)  # Monday 10:00 in Tokyo


@pytest.fixture
def hold(session: Session, placement: Placement) -> Callable[..., Booking]:
    """A real hold placed through the marketplace's own service."""
    counter = iter(range(1, 100_000))

    def make(
        shop: Shop, *, first_week: date = date(2026, 5, 4), weeks: int = 4, shares: int = 1
    ) -> Booking:
        request = BookingRequest(placement.id, first_week, weeks, shares, Targeting())
        return place_hold(session, shop.id, request, f"hold-{next(counter)}", now=NOW)

    return make


@pytest.fixture(autouse=True)
def ledger_is_consistent(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every billing test that used the database, the whole ledger check must pass."""
    if "session_factory" not in request.fixturenames:
        yield
        return
    # Requested before the test so that the rolled-back connection outlives this check.
    factory: sessionmaker[Session] = request.getfixturevalue("session_factory")
    yield
    with factory() as session:
        report = check_ledger(session)
        assert report.ok, "\n".join(report.lines())
