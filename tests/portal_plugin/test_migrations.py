from __future__ import annotations

from pathlib import Path

import pytest
from alembic.util.exc import CommandError
from sqlalchemy import Column, Integer, MetaData, Table, inspect

from marketplace.db import make_engine
from portal_plugin import migrate
from portal_plugin.schema import metadata
from tests.support.databases import throwaway_database
from tests.support.settings import BACKENDS


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_apply_from_empty_and_match_the_models(backend: str, tmp_path: Path) -> None:
    with throwaway_database(backend, tmp_path) as url:
        migrate.upgrade(url)
        migrate.check(url)  # raises if autogenerate would find any difference
        engine = make_engine(url)
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())
        engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_downgrade_to_empty_and_back(backend: str, tmp_path: Path) -> None:
    with throwaway_database(backend, tmp_path) as url:
        migrate.upgrade(url)
        migrate.downgrade(url, "base")
        engine = make_engine(url)
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        engine.dispose()
        migrate.upgrade(url)
        migrate.check(url)


def test_check_notices_a_table_missing_from_the_migrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with throwaway_database("sqlite", tmp_path) as url:
        migrate.upgrade(url)
        extra = MetaData()
        for table in metadata.tables.values():
            table.to_metadata(extra)
        Table("unmigrated_things", extra, Column("id", Integer, primary_key=True))
        monkeypatch.setattr("portal_plugin.schema.metadata", extra)
        import portal_plugin.migrations  # noqa: F401  (env.py re-imports schema.metadata)

        with pytest.raises(CommandError, match="New upgrade operations detected"):
            migrate.check(url)
