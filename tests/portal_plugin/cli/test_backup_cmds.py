"""`portal-marketplace backup` / `restore` on SQLite (online backup API) and PostgreSQL
(pg_dump / pg_restore): a seeded database comes back with the same ledger and offset report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from portal_plugin.cli.main import app
from portal_plugin.migrate import upgrade
from tests.support.cli import point_cli_at
from tests.support.databases import throwaway_database
from tests.support.settings import BACKENDS, TEST_BANK_ACCOUNT

runner = CliRunner()


@pytest.fixture(params=BACKENDS)
def seeded(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A database with a year of bookings, invoices, payments and recognised revenue."""
    with throwaway_database(request.param, tmp_path) as url:
        upgrade(url)
        point_cli_at(monkeypatch, tmp_path, url)
        monkeypatch.setenv("INVOICE_ISSUER_NAME", "会津若松市")
        monkeypatch.setenv("INVOICE_ISSUER_REGISTRATION_NUMBER", "T7000012050002")
        monkeypatch.setenv("INVOICE_BANK_ACCOUNT", TEST_BANK_ACCOUNT)
        seeded = runner.invoke(app, ["report", "seed-demo-history", "--years", "1", "--shops", "5"])
        assert seeded.exit_code == 0, seeded.output
        yield url


def figures() -> tuple[str, str]:
    check = runner.invoke(app, ["billing", "check"])
    assert check.exit_code == 0, check.output
    offset = runner.invoke(app, ["report", "offset", "--fiscal-year", "2025", "--format", "json"])
    assert offset.exit_code == 0, offset.output
    ledger = "\n".join(line for line in check.output.splitlines() if "checked in" not in line)
    return ledger, offset.output


@pytest.mark.slow
def test_backup_then_restore_gives_the_same_ledger_and_offset(
    seeded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    before = figures()
    assert "OK" in before[0] or before[0]
    target = tmp_path / "backups" / "portal.backup"
    made = runner.invoke(app, ["backup", str(target)])
    assert made.exit_code == 0, made.output
    assert target.is_file() and not target.with_name("portal.backup.partial").exists()
    backend = make_url(seeded).get_backend_name()
    # Restored where the data was lost: a new, empty database (not even migrated).
    with throwaway_database(backend, tmp_path) as fresh:
        point_cli_at(monkeypatch, tmp_path, fresh)
        refused = runner.invoke(app, ["restore", str(target)])
        assert refused.exit_code == 2 and "--yes" in refused.output
        restored = runner.invoke(app, ["restore", str(target), "--yes"])
        assert restored.exit_code == 0, restored.output
        assert figures() == before
        # Restoring again over the restored data is the same (pg_restore --clean).
        assert runner.invoke(app, ["restore", str(target), "--yes"]).exit_code == 0
        assert figures() == before


def test_restore_refuses_a_file_that_is_not_a_backup_of_this_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    upgrade(url)
    point_cli_at(monkeypatch, tmp_path, url)
    bogus = tmp_path / "dump.backup"
    bogus.write_bytes(b"PGDMP\x01\x0e\x00 not sqlite")
    result = runner.invoke(app, ["restore", str(bogus), "--yes"])
    assert result.exit_code == 2 and "not a SQLite backup" in result.output
    missing = runner.invoke(app, ["restore", str(tmp_path / "nope"), "--yes"])
    assert missing.exit_code == 2 and "no backup file" in missing.output
