"""`portal-marketplace billing …` against a real (SQLite file) database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from billing.config import BillingConfig
from billing.invoices import LineDraft, issue_invoice
from marketplace.db import make_engine, make_session_factory
from portal_plugin.cli.main import app
from tests.support.settings import TEST_BANK_ACCOUNT

runner = CliRunner()


def test_month_end_writes_pdfs_and_check_passes(billing_cli_database: str, tmp_path: Path) -> None:
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


def test_check_fails_on_a_ledger_that_disagrees(billing_cli_database: str) -> None:
    engine = make_engine(billing_cli_database)
    with make_session_factory(engine).begin() as session:
        issue_invoice(
            session,
            BillingConfig(
                issuer_name="市",
                issuer_registration_number="T7000012050002",
                bank_account=TEST_BANK_ACCOUNT,
            ),
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


def test_cancellations_command_runs_when_there_are_none(billing_cli_database: str) -> None:
    result = runner.invoke(app, ["billing", "cancellations"])
    assert result.exit_code == 0 and "0 cancellations handled" in result.output


def test_reconcile_needs_stripe(billing_cli_database: str) -> None:
    result = runner.invoke(app, ["billing", "reconcile"])
    assert result.exit_code == 2 and "STRIPE_API_KEY" in result.output
