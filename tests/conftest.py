"""Shared fixtures: one fresh database per run and backend, rolled-back sessions, app clients.

Every database test runs on SQLite, and also on PostgreSQL when TEST_DATABASE_URL is set
(`.ci/run` sets it). Each run creates its own PostgreSQL database and drops it at the end.
Fixtures that several directories share come from the plugins below; constants and helpers
come from tests/support (nothing imports this file).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from marketplace.db import make_engine
from portal_plugin.app import create_app
from portal_plugin.identity import ResidentIdentity, mint_token
from portal_plugin.migrate import upgrade
from portal_plugin.settings import Settings
from tests.support.databases import throwaway_database
from tests.support.settings import BACKENDS, TEST_IDENTITY_SECRET, make_settings

pytest_plugins = [
    "tests.support.billing_fixtures",
    "tests.support.delivery_fixtures",
    "tests.support.mail_fixtures",
]


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database for this test run, on each available backend."""
    with throwaway_database(request.param, tmp_path_factory.mktemp("db")) as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside an outer transaction that is rolled back after the test."""
    with engine.connect() as connection:
        outer = connection.begin()
        yield connection
        outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    # Commits inside the code under test become savepoints of the outer transaction.
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def settings(database_url: str, tmp_path: Any) -> Settings:
    return make_settings(
        database_url, model_store_dir=tmp_path / "models", delivery_spool_dir=tmp_path / "spool"
    )


@pytest.fixture
def app(settings: Settings, engine: Engine, session_factory: sessionmaker[Session]) -> Starlette:
    app = create_app(settings, engine=engine)
    app.state.ctx.session_factory = session_factory
    return app


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    # https so that Secure cookies are sent back, as a browser would on the real site.
    with TestClient(app, base_url="https://testserver") as client:
        yield client


@pytest.fixture
def resident_token() -> Callable[..., str]:
    def mint(external_id: str = "resident-000001", **attributes: Any) -> str:
        return mint_token(
            TEST_IDENTITY_SECRET, ResidentIdentity(external_id=external_id, **attributes)
        )

    return mint
