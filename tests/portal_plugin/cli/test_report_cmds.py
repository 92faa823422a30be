"""`portal-marketplace report …` and `privacy …` against a real (SQLite file) database."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime, time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from analytics.costs import SYSTEM, set_cost
from analytics.retention import resident_key
from analytics.seeds import seed_services
from marketplace.calendar import TOKYO
from marketplace.db import make_engine, make_session_factory
from marketplace.delivery.models import AdOffer
from marketplace.models import Resident
from portal_plugin.cli.main import app
from portal_plugin.migrate import upgrade
from tests.support.analytics_world import book, deliver, shop
from tests.support.settings import TEST_BANK_ACCOUNT, TEST_IDENTITY_SECRET, TEST_SECRET_KEY


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.chdir(tmp_path)  # no stray .env (`make demo` writes one in the checkout)
    for name, value in {
        "DATABASE_URL": url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "PORTAL_IDENTITY_SECRET": TEST_IDENTITY_SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    yield url


def test_report_offset_json_csv_and_table(database: str) -> None:
    engine = make_engine(database)
    with make_session_factory(engine).begin() as session:
        seed_services(session, [2026])
        set_cost(session, "snow-plough", 2026, 12, 900_000, SYSTEM)  # monthly year: adds to seeds
    engine.dispose()
    runner = CliRunner()
    result = runner.invoke(app, ["report", "offset", "--fiscal-year", "2026", "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert list(payload) == [
        "fiscal_year",
        "revenue_recognised",
        "running_costs",
        "offset_ratio",
        "services",
    ]
    assert payload["fiscal_year"] == 2026 and payload["revenue_recognised"] == 0
    assert payload["offset_ratio"] == 0.0
    assert {s["name"] for s in payload["services"]} >= {"除雪車ナビ", "あいづっこプラス"}
    assert all(
        set(s) == {"name", "running_cost", "allocated_revenue", "offset_ratio"}
        for s in payload["services"]
    )
    csv_result = runner.invoke(
        app, ["report", "offset", "--fiscal-year", "2026", "--format", "csv"]
    )
    assert csv_result.exit_code == 0
    rows = list(csv.reader(io.StringIO(csv_result.output.lstrip("\ufeff"))))
    assert rows[0][0] == "サービス" and rows[-1][0] == "合計"
    table = runner.invoke(app, ["report", "offset", "--fiscal-year", "2026"])
    assert table.exit_code == 0 and "除雪車ナビ" in table.output


def test_report_offset_refuses_bad_years_and_formats(database: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["report", "offset", "--fiscal-year", "1999"])
    assert result.exit_code == 2 and "2000〜2100" in result.output
    assert (
        runner.invoke(
            app, ["report", "offset", "--fiscal-year", "2026", "--format", "xml"]
        ).exit_code
        == 2
    )
    empty = runner.invoke(app, ["report", "offset", "--fiscal-year", "2040"])
    assert empty.exit_code == 0 and "データなし" in empty.output


def test_privacy_forget_and_purge(database: str) -> None:
    engine = make_engine(database)
    with make_session_factory(engine).begin() as session:
        booking = book(session, shop(session), datetime(2026, 6, 1).date())
        session.add(Resident(external_id="resident-9", age_band="70+"))
        at = datetime.combine(booking.first_week, time(19), tzinfo=TOKYO)
        key = resident_key(TEST_IDENTITY_SECRET, "resident-9")
        deliver(session, booking, [(key, "70+", "single", "minato")] * 1, at)
    runner = CliRunner()
    result = runner.invoke(app, ["privacy", "forget", "resident-9"])
    assert result.exit_code == 0, result.output
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Resident)) == 0
        assert session.scalar(select(func.count()).where(AdOffer.resident_key == key)) == 0
    again = runner.invoke(app, ["privacy", "forget", "resident-9"])
    assert again.exit_code == 2 and "記録はありません" in again.output
    purge = runner.invoke(app, ["privacy", "purge", "--months", "1"])
    assert purge.exit_code == 0 and "deleted events before" in purge.output
    engine.dispose()


@pytest.mark.slow
def test_seed_demo_history_needs_an_issuer_and_is_idempotent(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    refused = runner.invoke(app, ["report", "seed-demo-history", "--years", "1", "--shops", "5"])
    assert refused.exit_code == 2 and "INVOICE_ISSUER_NAME" in refused.output
    monkeypatch.setenv("INVOICE_ISSUER_NAME", "会津若松市")
    monkeypatch.setenv("INVOICE_ISSUER_REGISTRATION_NUMBER", "T7000012050002")
    no_account = runner.invoke(app, ["report", "seed-demo-history", "--years", "1", "--shops", "5"])
    assert no_account.exit_code == 2 and "INVOICE_BANK_ACCOUNT" in no_account.output
    monkeypatch.setenv("INVOICE_BANK_ACCOUNT", TEST_BANK_ACCOUNT)
    seeded = runner.invoke(app, ["report", "seed-demo-history", "--years", "1", "--shops", "5"])
    assert seeded.exit_code == 0, seeded.output
    assert "demo history:" in seeded.output
    again = runner.invoke(app, ["report", "seed-demo-history", "--years", "1"])
    assert again.exit_code == 0 and "already exist" in again.output
