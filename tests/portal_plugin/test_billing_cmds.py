"""`portal-marketplace billing …` against a real (SQLite file) database."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from billing.config import BillingConfig
from billing.invoices import LineDraft, issue_invoice
from marketplace.db import make_engine, make_session_factory
from marketplace.lifecycle import BookingStatus, PlacementKind
from marketplace.models import Booking, Placement, Shop
from marketplace.vocab import ShopStatus
from portal_plugin.cli.main import app
from portal_plugin.migrate import upgrade
from tests.conftest import TEST_IDENTITY_SECRET, TEST_SECRET_KEY

runner = CliRunner()
ISSUER = {
    "INVOICE_ISSUER_NAME": "会津若松市",
    "INVOICE_ISSUER_REGISTRATION_NUMBER": "T7000012050002",
}


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
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


def test_month_end_writes_pdfs_and_check_passes(database: str, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["billing", "month-end", "--day", "2026-05-31", "--pdf-dir", str(tmp_path / "pdf")]
    )
    assert result.exit_code == 0, result.output
    assert "1 invoices issued" in result.output
    assert [p.name for p in (tmp_path / "pdf").iterdir()] == ["INV-2026-000001.pdf"]
    again = runner.invoke(app, ["billing", "month-end", "--day", "2026-05-31"])
    assert "0 invoices issued" in again.output
    check = runner.invoke(app, ["billing", "check"])
    assert check.exit_code == 0, check.output
    assert "OK   every transaction's legs sum to zero" in check.output


def test_check_fails_on_a_ledger_that_disagrees(database: str) -> None:
    engine = make_engine(database)
    with make_session_factory(engine).begin() as session:
        issue_invoice(
            session,
            BillingConfig(**{"issuer_name": "市", "issuer_registration_number": "T7000012050002"}),
            shop_id=1,
            lines=[LineDraft("広告", 1_100)],
            issue_date=date(2026, 5, 1),
        )
        # A stray leg written behind the code's back (SQLite has no balance trigger).
        session.execute(
            text(
                "INSERT INTO ledger_entries (transaction_id, account_id, amount) "
                "SELECT id, 1, 7 FROM ledger_transactions LIMIT 1"
            )
        )
    engine.dispose()
    result = runner.invoke(app, ["billing", "check"])
    assert result.exit_code == 1
    assert "FAIL every transaction's legs sum to zero" in result.output
    assert "sums to 7, not zero" in result.output


def test_cancellations_command_runs_when_there_are_none(database: str) -> None:
    result = runner.invoke(app, ["billing", "cancellations"])
    assert result.exit_code == 0 and "0 cancellations handled" in result.output


def test_reconcile_needs_stripe(database: str) -> None:
    result = runner.invoke(app, ["billing", "reconcile"])
    assert result.exit_code == 2 and "STRIPE_API_KEY" in result.output
