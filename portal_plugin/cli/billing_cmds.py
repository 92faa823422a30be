"""`portal-marketplace billing check | reconcile | cancellations | make-goods | recognise |
month-end`"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import typer
from sqlalchemy.orm import Session

from billing.bookings import process_cancellations, run_month_end
from billing.check import check_ledger
from billing.errors import BillingError
from billing.make_goods import run_make_goods
from billing.recognition import recognise_revenue
from billing.rendering import invoice_documents, render_pdfs
from billing.webhooks import reconcile as reconcile_events
from marketplace.calendar import tokyo_date
from marketplace.db import make_engine, make_session_factory, utcnow
from portal_plugin.billing_setup import billing_config, stripe_provider
from portal_plugin.cli.common import database_session, fail, job_environment, settings_or_exit
from portal_plugin.worker import jobs

app = typer.Typer(no_args_is_help=True)


@app.command("check")
def check() -> None:
    """Verify that the ledger balances and agrees with invoices, payments and refunds."""
    settings = settings_or_exit()
    started = time.perf_counter()
    with database_session(settings) as session:
        report = check_ledger(session)
    for line in report.lines():
        typer.echo(line)
    typer.echo(f"checked in {time.perf_counter() - started:.2f} s")
    if not report.ok:
        raise typer.Exit(1)


@app.command("reconcile")
def reconcile(
    days: int = typer.Option(3, "--days", min=1, max=30, help="How far back to list events."),
) -> None:
    """List recent Stripe events and apply any that were missed (duplicates are no-ops)."""
    settings = settings_or_exit()
    provider = stripe_provider(settings)
    if provider is None:
        fail("STRIPE_API_KEY is not set")
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)

    @contextmanager
    def scope() -> Iterator[Session]:
        with factory.begin() as session:
            yield session

    try:
        results = reconcile_events(scope, provider, int(time.time()) - days * 86_400)
    except BillingError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    applied = [r for r in results if r[2] != "duplicate"]
    for event_id, kind, outcome in results:
        typer.echo(f"{event_id}  {kind:<40} {outcome}")
    typer.echo(f"{len(results)} events listed, {len(applied)} applied now")


@app.command("cancellations")
def cancellations() -> None:
    """Credit and refund bookings cancelled in the marketplace since the last run."""
    try:
        with job_environment(settings_or_exit()) as env:
            typer.echo(jobs.cancellations(env))
    except BillingError as exc:
        fail(str(exc))


@app.command("make-goods")
def make_goods(
    through: str = typer.Option(
        "", "--through", help="Bookings whose period ended by YYYY-MM-DD (default: yesterday)."
    ),
) -> None:
    """Credit and refund completed bookings that got less than their share (idempotent)."""
    settings = settings_or_exit()
    day = _parse_day(through) if through else tokyo_date(utcnow()) - timedelta(days=1)
    try:
        with database_session(settings) as session:
            done, unmeasured = run_make_goods(
                session,
                billing_config(settings),
                through=day,
                gateway=jobs.stripe_gateway(settings),
                today=tokyo_date(utcnow()),
                cap=settings.delivery_frequency_cap,
            )
            for result in done:
                delivered = result.share_delivered
                typer.echo(
                    f"booking {result.booking_id}: bought {float(result.share_bought):.1%}, "
                    f"delivered {float(delivered or 0):.1%} → {result.outcome}"
                )
    except BillingError as exc:
        fail(str(exc))
    for booking_id in unmeasured:
        typer.echo(f"booking {booking_id}: no delivery recorded on its placement; not handled")
    credited = sum(r.credit_yen for r in done)
    refunded = sum(r.refund_yen for r in done)
    typer.echo(
        f"{len(done)} bookings handled through {day}: ¥{credited:,} credited, "
        f"¥{refunded:,} refunded; {len(unmeasured)} not measurable"
    )


@app.command("recognise")
def recognise(
    through: str = typer.Option("", "--through", help="YYYY-MM-DD (default: today in Tokyo)."),
) -> None:
    """Recognise ad revenue straight-line up to a day (idempotent)."""
    day = _parse_day(through)
    with job_environment(settings_or_exit()) as env:
        typer.echo(jobs.recognise(env, day))


@app.command("month-end")
def month_end(
    closing_day: str = typer.Option("", "--day", help="Closing day YYYY-MM-DD (default today)."),
    pdf_dir: Path | None = typer.Option(None, "--pdf-dir", help="Also write each invoice's PDF."),
) -> None:
    """Issue next month's invoices, handle cancellations, recognise revenue."""
    settings = settings_or_exit()
    config = billing_config(settings)
    day = _parse_day(closing_day)
    try:
        with database_session(settings) as session:
            cancelled = process_cancellations(
                session, config, gateway=jobs.stripe_gateway(settings), today=day
            )
            result = run_month_end(session, config, day)
            recognised = recognise_revenue(session, day)
            issued = [(i.id, i.number) for i in result.invoices]
        if pdf_dir is not None:  # after commit: issued invoices are immutable
            with database_session(settings) as session:
                documents = invoice_documents(session, config, [id_ for id_, _ in issued])
            pdf_dir.mkdir(parents=True, exist_ok=True)
            for (_, number), pdf in zip(issued, render_pdfs(documents), strict=True):
                (pdf_dir / f"{number}.pdf").write_bytes(pdf)
    except BillingError as exc:
        fail(str(exc))
    typer.echo(
        f"{len(result.invoices)} invoices issued for {result.bookings_seen} bookings; "
        f"{cancelled} cancellations handled; ¥{recognised.amount:,} revenue recognised"
    )


def _parse_day(raw: str) -> date:
    if not raw:
        return tokyo_date(utcnow())
    try:
        return datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError:
        fail(f"not a date (YYYY-MM-DD): {raw!r}")
