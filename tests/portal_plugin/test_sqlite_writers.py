"""SQLite under concurrent writers: requests that read, then write, never fail "database is locked".

In WAL mode a transaction that began by reading cannot start writing once another connection
has committed since its read began; SQLite answers SQLITE_BUSY at once, without waiting out the
busy timeout. The demo showed it as a 500. The request's transaction is run again, taking the
write lock up front.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
from sqlalchemy import text
from sqlalchemy.orm import Session

from marketplace.db import make_engine
from portal_plugin.context import PluginContext
from tests.support.settings import make_settings

WRITERS = 8
ROUNDS = 25


def _read_then_write(session: Session) -> int:
    # The shape of most request transactions: look something up, then change it.
    value = session.execute(text("SELECT value FROM counter WHERE id = 1")).scalar_one()
    session.execute(text("UPDATE counter SET value = :value WHERE id = 1"), {"value": value + 1})
    session.execute(text("INSERT INTO writes (seen) VALUES (:seen)"), {"seen": value})
    return int(value)


def test_concurrent_writers_on_a_file_database_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER)"))
        connection.execute(text("CREATE TABLE writes (id INTEGER PRIMARY KEY, seen INTEGER)"))
        connection.execute(text("INSERT INTO counter VALUES (1, 0)"))
    ctx = PluginContext.build(make_settings(url), engine=engine)
    barrier = threading.Barrier(WRITERS)

    def writer() -> list[int]:
        barrier.wait()
        return [anyio.run(ctx.in_transaction, _read_then_write) for _ in range(ROUNDS)]

    try:
        with ThreadPoolExecutor(WRITERS) as pool:
            results = [future.result() for future in [pool.submit(writer) for _ in range(WRITERS)]]
        with engine.connect() as connection:
            final = connection.execute(text("SELECT value FROM counter")).scalar_one()
            seen = connection.execute(text("SELECT seen FROM writes ORDER BY seen")).scalars()
            assert final == WRITERS * ROUNDS
            # No lost update: every transaction saw the value the one before it wrote.
            assert list(seen) == list(range(WRITERS * ROUNDS))
        assert sorted(value for values in results for value in values) == list(
            range(WRITERS * ROUNDS)
        )
    finally:
        engine.dispose()
