"""`portal-marketplace privacy forget RESIDENT_ID` and the raw-event retention job."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)
