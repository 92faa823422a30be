"""Backups of the whole database: pg_dump / pg_restore on PostgreSQL, the online backup API on
SQLite. Both copy a consistent snapshot while the server and the worker keep running."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from marketplace.db import normalise_database_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"


class BackupError(Exception):
    """Why a backup or restore could not run; one line for the operator. Command line only
    (never an HTTP answer), so not a `DomainError`."""


def backend_of(database_url: str) -> str:
    url = make_url(normalise_database_url(database_url))
    if url.get_backend_name() in ("sqlite", "postgresql"):
        return url.get_backend_name()
    raise BackupError(f"backups support SQLite and PostgreSQL, not {url.get_backend_name()}")


def backup(database_url: str, target: Path) -> int:
    """Write a snapshot of the database to `target`; returns its size in bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    if backend_of(database_url) == "sqlite":
        with _sqlite(database_url, must_exist=True) as source, sqlite3.connect(partial) as copy:
            source.backup(copy)
        copy.close()
    else:
        url, env = _libpq(database_url)
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}", url], env)
    partial.replace(target)  # a failed backup never leaves a file that looks whole
    return target.stat().st_size


def restore(database_url: str, source: Path) -> None:
    """Replace the database's contents with the snapshot in `source`."""
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    with source.open("rb") as handle:
        head = handle.read(16)
    if backend_of(database_url) == "sqlite":
        if head != SQLITE_MAGIC:
            raise BackupError(f"{source} is not a SQLite backup (DATABASE_URL is SQLite)")
        with sqlite3.connect(source) as snapshot, _sqlite(database_url) as database:
            snapshot.backup(database)
        return
    if not head.startswith(PG_CUSTOM_MAGIC):
        raise BackupError(f"{source} is not a pg_dump backup (DATABASE_URL is PostgreSQL)")
    url, env = _libpq(database_url)
    _run(
        [
            _tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
            "--exit-on-error", f"--dbname={url}", str(source),
        ],
        env,
    )  # fmt: skip


class _sqlite:
    """A plain sqlite3 connection to the URL's file, closed on exit (sqlite3's own context
    manager only commits)."""

    def __init__(self, database_url: str, must_exist: bool = False) -> None:
        path = make_url(database_url).database or ""
        if not path or path == ":memory:":
            raise BackupError("DATABASE_URL names no SQLite file")
        if must_exist and not Path(path).is_file():
            raise BackupError(f"no SQLite database at {path}")
        self.connection = sqlite3.connect(path, timeout=30)

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *_exc: object) -> None:
        self.connection.close()


def _libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """The URL for libpq's tools, with the password passed in the environment (not in argv,
    where any local user could read it)."""
    url: URL = make_url(normalise_database_url(database_url))
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return path


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(
            f"{Path(command[0]).name} failed: {lines[0] if lines else done.returncode}"
        )
