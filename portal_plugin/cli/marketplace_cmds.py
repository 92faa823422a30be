"""`portal-marketplace marketplace …`: jobs and set-up for the ad marketplace."""

from __future__ import annotations

import typer

from marketplace.booking_controls import advance_schedule, expire_hold, expired_hold_ids
from marketplace.db import make_engine, make_session_factory
from marketplace.demo_seed import seed_inventory
from marketplace.switches import is_disaster_mode
from portal_plugin.cli.common import database_session, settings_or_exit

app = typer.Typer(no_args_is_help=True)


@app.command("expire-holds")
def expire_holds() -> None:
    """Mark lapsed holds expired (their shares are already free for new bookings)."""
    settings = settings_or_exit()
    with database_session(settings) as session:
        candidates = expired_hold_ids(session)
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    expired = 0
    try:
        # One transaction per booking: each locks one booking and its weeks, in order.
        for booking_id in candidates:
            with factory.begin() as session:
                expired += expire_hold(session, booking_id)
    finally:
        engine.dispose()
    typer.echo(f"expired {expired} hold(s)")


@app.command("advance-schedule")
def advance() -> None:
    """Move bookings to live or completed by today's date in Asia/Tokyo (run daily)."""
    settings = settings_or_exit()
    with database_session(settings) as session:
        changed = advance_schedule(session)
    typer.echo(f"{changed} booking(s) changed status")


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
