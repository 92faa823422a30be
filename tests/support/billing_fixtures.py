"""Billing fixtures that billing and proof tests share (a pytest plugin, see tests/conftest.py).

A configured issuer, shops, a placement, holds placed through the marketplace, the ledger check
after a money test, and the fake Stripe server with a provider and an app client pointed at it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from billing.check import check_ledger
from billing.config import BillingConfig
from billing.providers.stripe import StripeProvider
from billing.stripe_adapter import RetryPolicy, StripeGateway
from billing.tax import RoundingMode
from marketplace.bookings.requests import BookingRequest
from marketplace.bookings.services import place_hold
from marketplace.inventory.targeting import Targeting
from marketplace.lifecycle import PlacementKind
from marketplace.models import Booking, Placement, Shop
from marketplace.vocab import ShopStatus
from portal_plugin.app import create_app
from tests.support.billing_world import ISSUER_NAME, ISSUER_NUMBER, NOW
from tests.support.fake_stripe import FAKE_STRIPE_WEBHOOK_SECRET, FakeStripe
from tests.support.settings import make_settings


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
def hold(session: Session, placement: Placement) -> Callable[..., Booking]:
    """A real hold placed through the marketplace's own service."""
    counter = iter(range(1, 100_000))

    def make(
        shop: Shop, *, first_week: date = date(2026, 5, 4), weeks: int = 4, shares: int = 1
    ) -> Booking:
        request = BookingRequest(placement.id, first_week, weeks, shares, Targeting())
        return place_hold(session, shop.id, request, f"hold-{next(counter)}", now=NOW)

    return make


@pytest.fixture
def ledger_is_consistent(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that used the database, the whole ledger check must pass.

    Every billing test uses it (tests/billing/conftest.py); other tests ask for it by name.
    """
    if "session_factory" not in request.fixturenames:
        yield
        return
    # Requested before the test so that the rolled-back connection outlives this check.
    factory: sessionmaker[Session] = request.getfixturevalue("session_factory")
    yield
    with factory() as session:
        report = check_ledger(session)
        assert report.ok, "\n".join(report.lines())


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_stripe_provider(fake_stripe: FakeStripe, billing_config: BillingConfig) -> StripeProvider:
    """The Stripe provider talking to the fake server, without retries or waiting."""
    gateway = StripeGateway(
        "sk_test_fake",
        api_base=fake_stripe.url,
        max_network_retries=0,
        retry=RetryPolicy(attempts=3, first_delay=0.0),
        sleep=lambda _: None,
    )
    return StripeProvider(gateway, billing_config)


@pytest.fixture
def fake_stripe_client(
    database_url: str,
    engine: Engine,
    session_factory: sessionmaker[Session],
    fake_stripe: FakeStripe,
) -> Iterator[TestClient]:
    """The app with Stripe pointed at the fake server, so its webhook route is live."""
    settings = make_settings(
        database_url,
        stripe_api_key="sk_test_fake",
        stripe_api_base=fake_stripe.url,
        stripe_webhook_secret=FAKE_STRIPE_WEBHOOK_SECRET,
        stripe_max_network_retries=0,
    )
    app = create_app(settings, engine=engine)
    app.state.ctx.session_factory = session_factory
    with TestClient(app, base_url="https://testserver") as client:
        yield client
