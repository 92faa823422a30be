"""`portal-marketplace backup FILE` and `restore FILE`."""

from __future__ import annotations

from pathlib import Path

import typer

from portal_plugin.backup import BackupError, backup, restore
from portal_plugin.cli.common import fail, settings_or_exit


def backup_command(
    target: Path = typer.Argument(..., help="The backup file to write (replaced if it exists)."),
) -> None:
    """Write a consistent snapshot of DATABASE_URL while the server and worker keep running
    (PostgreSQL: pg_dump's custom format; SQLite: the online backup API)."""
    settings = settings_or_exit()
    try:
        size = backup(settings.database_url, target)
    except BackupError as exc:
        fail(str(exc))
    typer.echo(f"backed up to {target} ({size:,} bytes)")


def restore_command(
    source: Path = typer.Argument(..., help="A file written by `portal-marketplace backup`."),
    yes: bool = typer.Option(False, "--yes", help="Confirm: the database's contents are replaced."),
) -> None:
    """Replace DATABASE_URL's contents with a backup (stop the server and worker first)."""
    if not yes:
        fail("restore replaces everything in DATABASE_URL; run it again with --yes")
    settings = settings_or_exit()
    try:
        restore(settings.database_url, source)
    except BackupError as exc:
        fail(str(exc))
    typer.echo(
        f"restored {source}; run `portal-marketplace db upgrade` if it is older than the code"
    )
