"""`portal-marketplace db …`"""

from __future__ import annotations

import typer
from alembic.util.exc import CommandError
from sqlalchemy.exc import OperationalError

from portal_plugin import migrate
from portal_plugin.cli.common import fail, settings_or_exit

app = typer.Typer(no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations to DATABASE_URL."""
    settings = settings_or_exit()
    try:
        migrate.upgrade(settings.database_url, revision)
    except OperationalError as exc:
        fail(f"cannot migrate DATABASE_URL: {str(exc.orig).strip().splitlines()[0]}")
    except CommandError as exc:
        fail(str(exc))
    typer.echo(f"database is at revision {revision}")


@app.command("check")
def check() -> None:
    """Fail if the models and the migrations disagree."""
    settings = settings_or_exit()
    try:
        migrate.check(settings.database_url)
    except CommandError as exc:
        fail(str(exc), code=1)
    typer.echo("models and migrations agree")
