"""`portal-marketplace seed`: a deterministic synthetic city, with progress."""

from __future__ import annotations

import time

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from portal_plugin.cli.common import database_session, settings_or_exit
from portal_plugin.settings import Settings


def seed(
    residents: int = typer.Option(
        115_000, "--residents", min=100, max=1_000_000, help="Number of residents."
    ),
    seed: int = typer.Option(
        0, "--seed", min=0, help="Random seed; the same seed gives the same city."
    ),
    days: int = typer.Option(90, "--days", min=7, max=365, help="Days of interaction history."),
) -> None:
    """Seed a synthetic Aizu-scale city (residents, articles, shops, events)."""
    # Imported here so that other commands do not pay for numpy/pandas start-up.
    from marketplace.synthetic import generate_city
    from marketplace.synthetic.loader import database_is_seeded, load_city
    from portal_plugin.demo.accounts import seed_demo_accounts
    from portal_plugin.demo.campaigns import seed_demo_campaigns
    from portal_plugin.demo.flyers import seed_demo_flyers
    from portal_plugin.demo.house_ads import seed_house_ads
    from portal_plugin.demo.inventory import seed_inventory

    settings = settings_or_exit()
    started = time.perf_counter()
    with database_session(settings) as session:
        seed_inventory(session)  # idempotent: the demo ad placements
        seed_house_ads(session)  # idempotent: the city's own ads for unsold slots
        seed_demo_campaigns(session)  # idempotent: demo bookings, once shops exist
        seed_demo_flyers(session)  # idempotent: demo flyers and shop pages
        seed_demo_accounts(session)  # idempotent: the README's demo staff and shop accounts
        if database_is_seeded(session):
            typer.echo("the database already holds a city; nothing was seeded (reusing it)")
            return
    with Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    ) as bar:
        tasks: dict[str, object] = {}

        def report(stage: str, fraction: float) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=1.0)
            bar.update(tasks[stage], completed=fraction)  # type: ignore[arg-type]

        n_articles = max(50, min(2_000, residents // 50))
        n_shops = max(20, min(300, residents // 300))
        city = generate_city(
            residents, n_articles=n_articles, n_shops=n_shops, days=days, seed=seed, progress=report
        )
        with database_session(settings) as session:
            summary = load_city(session, city, progress=report)
            seed_demo_campaigns(session)
            seed_demo_flyers(session)
            seed_demo_accounts(session)
    _seed_history(settings)
    typer.echo(
        f"seeded {summary.residents:,} residents, {summary.articles:,} articles, {summary.shops:,} shops "
        f"and {summary.events:,} events in {time.perf_counter() - started:.1f}s"
    )


def _seed_history(settings: Settings) -> None:
    """Two fiscal years of bookings, invoices, payments and refunds, so reports have figures."""
    from billing.errors import IssuerNotConfigured
    from portal_plugin.cli.report_cmds import describe_history, run_demo_history

    typer.echo("seeding two fiscal years of bookings, invoices and payments …")
    try:
        history = run_demo_history(settings)
    except IssuerNotConfigured:
        typer.echo(
            "skipped the booking history: set INVOICE_ISSUER_NAME, "
            "INVOICE_ISSUER_REGISTRATION_NUMBER and INVOICE_BANK_ACCOUNT to issue demo invoices"
        )
        return
    typer.echo(describe_history(history))
