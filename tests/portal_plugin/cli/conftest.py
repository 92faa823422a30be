"""Fixtures for the CLI tests: a database for the `billing` commands to work on."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from marketplace.db import make_engine, make_session_factory
from marketplace.lifecycle import BookingStatus, PlacementKind
from marketplace.models import Booking, Placement, Shop
from marketplace.vocab import ShopStatus
from portal_plugin.migrate import upgrade
from tests.support.settings import TEST_BANK_ACCOUNT, TEST_IDENTITY_SECRET, TEST_SECRET_KEY

ISSUER = {
    "INVOICE_ISSUER_NAME": "会津若松市",
    "INVOICE_ISSUER_REGISTRATION_NUMBER": "T7000012050002",
    "INVOICE_BANK_ACCOUNT": TEST_BANK_ACCOUNT,
}


@pytest.fixture
def billing_cli_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A migrated SQLite file with one shop's 10-week booking, and the CLI's environment set."""
    url = f"sqlite:///{tmp_path / 'billing.db'}"
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "DATABASE_URL": url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "PORTAL_IDENTITY_SECRET": TEST_IDENTITY_SECRET,
        **ISSUER,
    }.items():
        monkeypatch.setenv(name, value)
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        shop = Shop(
            business_name="会津の酒蔵",
            category="sake-brewery",
            district="tsuruga",
            contact_name="山田",
            contact_email="sake@example.jp",
            status=ShopStatus.APPROVED,
        )
        placement = Placement(
            code="p",
            name="フィード内カード",
            kind=PlacementKind.IN_FEED,
            image_width=600,
            image_height=300,
            max_image_bytes=1000,
            headline_max_chars=30,
            body_max_chars=80,
            shares_per_week=4,
            price_per_share_week_yen=11_000,
            out_of_city_price_per_share_week_yen=16_500,
        )
        session.add_all([shop, placement])
        session.flush()
        first = date(2026, 5, 4)
        session.add(
            Booking(
                shop_id=shop.id,
                placement_id=placement.id,
                shares=1,
                first_week=first,
                last_week=first + timedelta(weeks=9),
                weeks=10,
                status=BookingStatus.SCHEDULED,
                in_city_rate=True,
                unit_price_yen=11_000,
                list_price_yen=110_000,
                discount_yen=0,
                surcharge_yen=0,
                total_yen=110_000,
                tax_yen=10_000,
                idempotency_key="cli",
            )
        )
    engine.dispose()
    return url
