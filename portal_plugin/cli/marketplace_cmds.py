"""`portal-marketplace marketplace …`: jobs and set-up for the ad marketplace."""

from __future__ import annotations

import typer

from marketplace.switches import is_disaster_mode
from portal_plugin.cli.common import database_session, job_environment, settings_or_exit
from portal_plugin.demo.inventory import seed_inventory
from portal_plugin.worker import jobs

app = typer.Typer(no_args_is_help=True)


@app.command("expire-holds")
def expire_holds() -> None:
    """Mark lapsed holds expired (their shares are already free for new bookings)."""
    with job_environment(settings_or_exit()) as env:
        typer.echo(jobs.expire_holds(env))


@app.command("advance-schedule")
def advance() -> None:
    """Move bookings to live or completed by today's date in Asia/Tokyo (the worker: 5 min)."""
    with job_environment(settings_or_exit()) as env:
        typer.echo(jobs.advance_schedule(env))


@app.command("seed-inventory")
def seed() -> None:
    """Create the demo placements (in-feed after articles 3 and 8, side gadget card)."""
    settings = settings_or_exit()
    with database_session(settings) as session:
        placements = seed_inventory(session)
        codes = ", ".join(placement.code for placement in placements)
    typer.echo(f"placements ready: {codes}")


@app.command("status")
def status() -> None:
    """Show whether disaster mode is on."""
    settings = settings_or_exit()
    with database_session(settings) as session:
        on = is_disaster_mode(session)
    typer.echo("disaster mode: ON (all ads suppressed)" if on else "disaster mode: off")
