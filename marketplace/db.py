"""SQLAlchemy plumbing shared by every package: the declarative base, engines and sessions.

The caller (a request or a job) owns the session and its transaction; nothing here opens a
session on its own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Integer,
    MetaData,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# Stable constraint names keep Alembic migrations reproducible on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# SQLite only auto-increments INTEGER PRIMARY KEY, so big ids are INTEGER there.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")

# JSONB on PostgreSQL (indexable, compact); plain JSON text elsewhere.
JSONDocument = JSON().with_variant(postgresql.JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC.

    SQLite drops the offset, so values are normalised to UTC on the way in and re-labelled as
    UTC on the way out. Naive datetimes are refused: they are always a bug here.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written without a driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and delays BEGIN; take it over
    # (SQLAlchemy's documented recipe) so SQLite transactions behave like PostgreSQL's.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


# An engine with this execution option begins SQLite transactions with BEGIN IMMEDIATE.
SQLITE_BEGIN_IMMEDIATE = "sqlite_begin_immediate"


def _begin_sqlite_transaction(connection: Any) -> None:
    # IMMEDIATE takes the write lock at BEGIN, waiting out the busy timeout for it; a plain
    # (deferred) BEGIN lets readers run side by side but cannot wait when it upgrades later.
    immediate = connection.get_execution_options().get(SQLITE_BEGIN_IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_sqlite_busy(exc: OperationalError) -> bool:
    """SQLite refused a lock ("database is locked"): the whole transaction may run again."""
    orig = exc.orig
    if not isinstance(orig, sqlite3.OperationalError):
        return False
    name = getattr(orig, "sqlite_errorname", "")
    return name.startswith("SQLITE_BUSY") or "database is locked" in str(orig)


T = TypeVar("T")


def run_transaction(
    factory: sessionmaker[Session], work: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    """`work(session, *args, **kwargs)` in one transaction: committed, or rolled back on error.

    On SQLite (WAL), a transaction that read first and then writes gets "database is locked"
    at once, without waiting, when another connection committed since its read began. Nothing
    of it was written, so it runs once more from the start, this time holding the write lock
    from BEGIN (the busy timeout waits for it). `work` must touch nothing but the session.
    """
    try:
        with factory.begin() as session:
            return work(session, *args, **kwargs)
    except OperationalError as exc:
        bind = factory.kw.get("bind")
        if not (is_sqlite_busy(exc) and isinstance(bind, Engine)):
            raise
    immediate = bind.execution_options(**{SQLITE_BEGIN_IMMEDIATE: True})
    with factory(bind=immediate) as session, session.begin():
        return work(session, *args, **kwargs)


CONNECT_TIMEOUT_SECONDS = 5


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout."""
    url = normalise_database_url(url)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _configure_sqlite_connection)
        event.listen(engine, "begin", _begin_sqlite_transaction)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if url.startswith("postgresql"):
        # An unreachable server (a partition, not a refused port) must not hold the refresh
        # loop, the event writer or a request for the operating system's minutes-long timeout.
        kwargs.setdefault("connect_args", {"connect_timeout": CONNECT_TIMEOUT_SECONDS})
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(bind=engine, expire_on_commit=False)


__all__ = [
    "Base",
    "BigIntId",
    "JSONDocument",
    "UTCDateTime",
    "make_engine",
    "make_session_factory",
    "normalise_database_url",
    "run_transaction",
    "utcnow",
]


def ping(session: Session) -> None:
    """Raise if the database cannot answer a trivial query."""
    session.execute(text("SELECT 1"))
