"""One lock per job in the database, so that two workers never run one job at once.

PostgreSQL: a session-level advisory lock on a connection of its own, held in autocommit (no
transaction stays open while a long job runs) and dropped by the server if the worker dies.
SQLite has no such lock; the job's row in `job_runs` is the lock: a worker takes it with one
conditional UPDATE (SQLite serialises writers, so only one UPDATE can match), and a lease lets
another worker take it over after a crash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import or_, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from marketplace.db import utcnow
from portal_plugin.worker.models import JobRun

LOCK_NAMESPACE = "portal-marketplace:job:"


def advisory_key(lock_name: str) -> int:
    """A stable signed 64-bit key for pg_try_advisory_lock (the same in every worker)."""
    digest = hashlib.blake2b((LOCK_NAMESPACE + lock_name).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def ensure_rows(engine: Engine, names: list[str]) -> None:
    """Create the status row of each job that has none yet (concurrent workers may race)."""
    if not names:
        return
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    rows = [{"name": name, "last_message": "", "runs": 0, "failures": 0} for name in names]
    with engine.begin() as connection:
        connection.execute(dialect.insert(JobRun).values(rows).on_conflict_do_nothing())


@contextmanager
def job_lock(
    engine: Engine, lock_name: str, holder: str, lease: timedelta, now: datetime | None = None
) -> Iterator[bool]:
    """Yield True while this worker holds `lock_name`, False (at once) if another one does."""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, lock_name) as held:
            yield held
        return
    with _row_lock(engine, lock_name, holder, lease, now or utcnow()) as held:
        yield held


@contextmanager
def _advisory_lock(engine: Engine, lock_name: str) -> Iterator[bool]:
    key = advisory_key(lock_name)
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        held = bool(
            connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
        )
        try:
            yield held
        finally:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    except BaseException:
        # A connection in an unknown state may still hold the lock: never pool it again.
        connection.invalidate()
        raise
    finally:
        connection.close()


@contextmanager
def _row_lock(
    engine: Engine, lock_name: str, holder: str, lease: timedelta, now: datetime
) -> Iterator[bool]:
    ensure_rows(engine, [lock_name])
    with engine.begin() as connection:
        taken = connection.execute(
            update(JobRun)
            .where(
                JobRun.name == lock_name,
                or_(JobRun.lock_holder.is_(None), JobRun.locked_until < now),
            )
            .values(lock_holder=holder, locked_until=now + lease)
        ).rowcount
    if taken != 1:
        yield False
        return
    try:
        yield True
    finally:
        with engine.begin() as connection:
            connection.execute(
                update(JobRun)
                .where(JobRun.name == lock_name, JobRun.lock_holder == holder)
                .values(lock_holder=None, locked_until=None)
            )
