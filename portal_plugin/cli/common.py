"""Shared plumbing for CLI commands: settings, one-line errors, database sessions, progress."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from marketplace.db import make_engine, make_session_factory
from portal_plugin.settings import Settings, SettingsError, load_settings
from portal_plugin.worker.jobs import JobEnv

err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc))


@contextmanager
def database_session(settings: Settings) -> Iterator[Session]:
    """One transaction for a whole command: it commits at the end or writes nothing."""
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine).begin() as session:
            yield session
    except OperationalError as exc:
        fail(f"cannot use the database at DATABASE_URL: {str(exc.orig).strip().splitlines()[0]}")
    finally:
        engine.dispose()


@contextmanager
def job_environment(settings: Settings) -> Iterator[JobEnv]:
    """A database for a periodic job (which opens its own transactions) or the worker."""
    engine = make_engine(settings.database_url)
    try:
        yield JobEnv(settings, engine, make_session_factory(engine))
    except OperationalError as exc:
        fail(f"cannot use the database at DATABASE_URL: {str(exc.orig).strip().splitlines()[0]}")
    finally:
        engine.dispose()
