"""`portal-marketplace report offset --fiscal-year 2026 [--format table|csv|json]`"""

from __future__ import annotations

import enum
import json
import sys
from typing import TYPE_CHECKING

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from analytics.dashboard import LABELS, load_offset_report
from analytics.errors import AnalyticsError
from analytics.export import ReportTable, to_csv
from analytics.inputs import parse_fiscal_year
from analytics.offset import OffsetReport, services_table
from portal_plugin.cli.common import database_session, fail, settings_or_exit

if TYPE_CHECKING:
    from portal_plugin.demo.history import HistorySummary
    from portal_plugin.settings import Settings

app = typer.Typer(no_args_is_help=True)


class OutputFormat(enum.StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


@app.command("offset")
def offset(
    fiscal_year: str = typer.Option(
        ..., "--fiscal-year", help="Fiscal year (April–March), e.g. 2026."
    ),
    output: OutputFormat = typer.Option(OutputFormat.TABLE, "--format", help="table, csv or json."),
) -> None:
    """How much of the citizen services' running costs local ads paid for, from the ledger."""
    try:
        year = parse_fiscal_year(fiscal_year, "--fiscal-year")
    except AnalyticsError as exc:
        fail(exc.message)
    settings = settings_or_exit()
    with database_session(settings) as session:
        report = load_offset_report(session, year)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(report.as_json(), ensure_ascii=False))
    elif output is OutputFormat.CSV:
        sys.stdout.buffer.write(to_csv(_csv_table(report)))
        sys.stdout.flush()
    else:
        _print_table(report)


def _csv_table(report: OffsetReport) -> ReportTable:
    frame = services_table(report)
    total = pd.DataFrame(
        [
            {
                "name": "合計",
                "running_cost": report.running_costs,
                "allocated_revenue": report.revenue_recognised,
                "offset_ratio": report.offset_ratio,
            }
        ]
    )
    frame = pd.concat([frame, total], ignore_index=True) if not frame.empty else total
    frame["offset_ratio"] = frame["offset_ratio"].astype(object)
    return ReportTable(
        "offset", f"{report.fiscal_year}年度 広告収入による運営費の充当", frame, LABELS
    )


def _print_table(report: OffsetReport) -> None:
    console = Console()
    if not report.has_data:
        console.print(
            f"{report.fiscal_year}年度: 認識済みの広告収入も運営費もまだ登録されていません（データなし）。"
        )
        return
    table = Table(
        title=f"{report.fiscal_year}年度 広告収入による運営費の充当（{report.method.value}）"
    )
    table.add_column("サービス")
    table.add_column("運営費", justify="right")
    table.add_column("充当した広告収入", justify="right")
    table.add_column("割合", justify="right")
    for share in report.allocation.shares:
        table.add_row(
            share.name,
            f"¥{share.running_cost:,}",
            f"¥{share.allocated_revenue:,}",
            _percent(share.offset_ratio),
        )
    table.add_row(
        "合計",
        f"¥{report.running_costs:,}",
        f"¥{report.revenue_recognised:,}",
        _percent(report.offset_ratio),
        style="bold",
    )
    console.print(table)
    if report.allocation.surplus > 0:
        console.print(f"運営費を上回った広告収入: ¥{report.allocation.surplus:,}")


def run_demo_history(
    settings: Settings, *, years: int = 2, shops: int = 40, seed: int = 0
) -> HistorySummary:
    """Seed the demo's booking history in one transaction; raises BillingError (e.g. no issuer)."""
    from marketplace.calendar import tokyo_date
    from marketplace.db import utcnow
    from portal_plugin.billing_setup import billing_config
    from portal_plugin.demo.history import seed_history

    with database_session(settings) as session:
        return seed_history(
            session,
            billing_config(settings),
            today=tokyo_date(utcnow()),
            years=years,
            shops=shops,
            seed=seed,
        )


def describe_history(summary: HistorySummary) -> str:
    if summary.skipped:
        return "invoices already exist; no demo history was added (reusing it)"
    return (
        f"demo history: {summary.bookings} bookings, {summary.invoices} invoices, "
        f"{summary.payments} payments, {summary.credit_notes} cancellations credited, "
        f"¥{summary.recognised_revenue:,} revenue recognised"
    )


@app.command("seed-demo-history")
def seed_demo_history(
    years: int = typer.Option(2, "--years", min=1, max=5, help="Fiscal years of history."),
    shops: int = typer.Option(40, "--shops", min=1, max=1000, help="Shops that advertise."),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed (same seed, same history)."),
) -> None:
    """Demo: bookings, invoices, payments and refunds through the real services (idempotent)."""
    from billing.errors import BillingError

    settings = settings_or_exit()
    try:
        summary = run_demo_history(settings, years=years, shops=shops, seed=seed)
    except BillingError as exc:
        fail(str(exc))
    typer.echo(describe_history(summary))
