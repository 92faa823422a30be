"""`portal-marketplace staff create …`"""

from __future__ import annotations

import typer

from marketplace.accounts.passwords import WeakPassword
from marketplace.accounts.staff import InvalidEmail, StaffAlreadyExists, create_staff
from marketplace.vocab import StaffRole
from portal_plugin.cli.common import database_session, fail, settings_or_exit

app = typer.Typer(no_args_is_help=True)


@app.command("create")
def create(
    email: str = typer.Argument(..., help="Login email."),
    role: StaffRole = typer.Option(..., "--role", help="reviewer, finance or admin."),
    name: str = typer.Option(..., "--name", help="Display name."),
    password: str = typer.Option(
        ...,
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="Password (prompted if omitted).",
    ),
) -> None:
    """Create a staff account."""
    settings = settings_or_exit()
    try:
        with database_session(settings) as session:
            create_staff(session, email, name, password, role)
    except (InvalidEmail, WeakPassword) as exc:
        fail(str(exc))
    except StaffAlreadyExists:
        fail(f"a staff account for {email} already exists")
    typer.echo(f"created {role.value} account {email}")
