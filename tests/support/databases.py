"""Creating and dropping a throwaway database per test run and backend."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from marketplace.db import normalise_database_url


def postgres_admin_url() -> str:
    return normalise_database_url(os.environ["TEST_DATABASE_URL"])


@contextmanager
def throwaway_database(backend: str, folder: Path) -> Iterator[str]:
    """Yield the URL of a new, empty database; drop it afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'test-{uuid.uuid4().hex[:8]}.db'}"
        return
    admin_url = postgres_admin_url()
    name = f"pm_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
