"""`portal-marketplace privacy forget RESIDENT_ID` and `privacy purge` (raw-event retention)."""

from __future__ import annotations

import typer

from analytics.errors import AnalyticsError
from analytics.retention import forget_resident, purge_raw_events
from marketplace.db import utcnow
from portal_plugin.cli.common import database_session, fail, settings_or_exit

app = typer.Typer(no_args_is_help=True)


@app.command("forget")
def forget(
    resident_id: str = typer.Argument(..., help="The host portal's pseudonymous resident id."),
) -> None:
    """Remove one resident's profile and events; reports (built from rollups) stay the same."""
    resident_id = resident_id.strip()
    if not resident_id or len(resident_id) > 64:
        fail("RESIDENT_ID must be 1–64 characters")
    settings = settings_or_exit()
    try:
        with database_session(settings) as session:
            result = forget_resident(
                session, resident_id, settings.portal_identity_secret, utcnow()
            )
    except AnalyticsError as exc:
        fail(exc.message)
    typer.echo(
        f"forgot resident {resident_id}: {result.interactions_deleted} interactions and "
        f"{result.ad_events_deleted} ad events deleted, {result.ad_events_unlinked} recent ad "
        "events unlinked (anonymous until purged)"
    )


@app.command("purge")
def purge(
    months: int | None = typer.Option(
        None, "--months", min=1, max=120, help="Retention in months (default: settings, 13)."
    ),
) -> None:
    """Delete raw events older than the retention period, after they are rolled up."""
    settings = settings_or_exit()
    with database_session(settings) as session:
        result = purge_raw_events(session, utcnow(), months or settings.raw_event_retention_months)
    typer.echo(
        f"deleted events before {result.cutoff.isoformat()}: {result.offers} offers, "
        f"{result.impressions} impressions, {result.clicks} clicks, "
        f"{result.opportunities} slot counts, {result.interactions} interactions "
        f"({result.snapshots} bookings' audience reach saved first)"
    )


@app.command("refresh-reach")
def refresh_reach() -> None:
    """Save audience-reach snapshots of bookings delivered in the last day (run every few minutes)."""
    from analytics.audience import refresh_live_bookings

    settings = settings_or_exit()
    with database_session(settings) as session:
        count = refresh_live_bookings(session, utcnow())
    typer.echo(f"saved the audience reach of {count} bookings")
