"""Delivery fixtures that several test directories share (a plugin, see tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from marketplace.db import make_engine
from portal_plugin.migrate import upgrade
from tests.support.databases import throwaway_database
from tests.support.settings import BACKENDS


@pytest.fixture(scope="module", params=BACKENDS)
def world_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database for one test module, for tests.support.delivery_world to commit to."""
    with throwaway_database(request.param, tmp_path_factory.mktemp("world")) as url:
        upgrade(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()
