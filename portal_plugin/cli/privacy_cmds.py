"""`portal-marketplace privacy forget RESIDENT_ID`, `privacy purge` (raw-event retention) and
`privacy inventory` (the residents' data inventory for the review board)."""

from __future__ import annotations

import json
from enum import StrEnum

import typer

from analytics.errors import AnalyticsError
from analytics.retention import forget_resident
from marketplace.db import utcnow
from portal_plugin.cli.common import database_session, fail, job_environment, settings_or_exit
from portal_plugin.privacy_inventory import (
    InventoryIncomplete,
    as_json,
    as_markdown,
    build_inventory,
)
from portal_plugin.schema import metadata
from portal_plugin.worker import jobs

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
        f"events unlinked (anonymous until purged), {result.choices_deleted} ad choices deleted"
    )


@app.command("purge")
def purge(
    months: int | None = typer.Option(
        None, "--months", min=1, max=120, help="Retention in months (default: settings, 13)."
    ),
) -> None:
    """Delete raw events older than the retention period, after they are rolled up."""
    with job_environment(settings_or_exit()) as env:
        typer.echo(jobs.purge(env, months))


@app.command("refresh-reach")
def refresh_reach() -> None:
    """Save audience-reach snapshots of bookings delivered in the last day (run every few minutes)."""
    with job_environment(settings_or_exit()) as env:
        typer.echo(jobs.refresh_reach(env))


class InventoryFormat(StrEnum):
    MD = "md"
    JSON = "json"


@app.command("inventory")
def inventory(
    output: InventoryFormat = typer.Option(
        InventoryFormat.MD, "--format", help="md (for the review board) or json."
    ),
) -> None:
    """Every table and column of residents' data: purpose, basis, retention, readers, transfers."""
    try:
        built = build_inventory(metadata, settings_or_exit())
    except InventoryIncomplete as exc:
        fail(f"residents' data the inventory cannot describe: {exc}")
    if output is InventoryFormat.JSON:
        typer.echo(json.dumps(as_json(built), ensure_ascii=False, indent=2))
    else:
        typer.echo(as_markdown(built))
