from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from portal_plugin.cli.main import app
from portal_plugin.identity import verify_token
from tests.support.cli import point_cli_at
from tests.support.settings import TEST_IDENTITY_SECRET

runner = CliRunner()


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    return point_cli_at(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'cli.db'}")


def all_command_paths() -> list[list[str]]:
    paths: list[list[str]] = [[]]

    def walk(command: object, prefix: list[str]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            paths.append([*prefix, name])
            walk(sub, [*prefix, name])

    walk(get_command(app), [])
    return paths


@pytest.mark.parametrize("path", all_command_paths(), ids=lambda p: " ".join(p) or "root")
def test_every_command_has_help(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_unknown_option_is_a_usage_error() -> None:
    result = runner.invoke(app, ["seed", "--resdents", "5"])
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_missing_setting_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PORTAL_IDENTITY_SECRET", TEST_IDENTITY_SECRET)
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: configuration error: SECRET_KEY is not set"


def test_bad_database_url_is_one_clear_line(
    environment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: cannot migrate DATABASE_URL:")


def test_upgrade_seed_and_reseed(environment: str) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    seeded = runner.invoke(app, ["seed", "--residents", "300", "--days", "7"])
    assert seeded.exit_code == 0, seeded.output
    assert "seeded 300 residents" in seeded.output
    # Without an invoice issuer the demo history is skipped with a clear reason, not an error.
    assert "skipped the booking history: set INVOICE_ISSUER_NAME" in seeded.output
    again = runner.invoke(app, ["seed", "--residents", "300"])
    assert again.exit_code == 0
    assert "nothing was seeded" in again.output


def test_resident_token_prints_a_verifiable_token(environment: str) -> None:
    result = runner.invoke(
        app,
        [
            "resident-token",
            "resident-000007",
            "--age-band",
            "70+",
            "--household",
            "elderly_only",
            "--district",
            "minato",
        ],
    )
    assert result.exit_code == 0, result.output
    identity = verify_token(TEST_IDENTITY_SECRET, result.output.strip())
    assert identity.external_id == "resident-000007"
    assert identity.age_band is not None and identity.age_band.value == "70+"
    assert identity.district == "minato"


def test_resident_token_refuses_unknown_district(environment: str) -> None:
    result = runner.invoke(app, ["resident-token", "r-1", "--district", "atlantis"])
    assert result.exit_code == 2
    assert "unknown district" in result.output


def test_article_import_is_all_or_nothing(environment: str, tmp_path: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    good = {
        "id": "a-1",
        "title": "防災訓練のお知らせ",
        "url": "https://example.jp/a1",
        "category": "防災",
        "published_at": "2026-11-01T09:00:00+09:00",
    }
    bad = {**good, "id": "a-2", "category": "宇宙"}
    (tmp_path / "bad.json").write_text(json.dumps([good, bad]), encoding="utf-8")
    failed = runner.invoke(app, ["articles", "import", str(tmp_path / "bad.json")])
    assert failed.exit_code == 2
    assert "bad.json: row 2, column category" in failed.output
    assert "nothing was imported" in failed.output
    (tmp_path / "good.json").write_text(json.dumps([good]), encoding="utf-8")
    done = runner.invoke(app, ["articles", "import", str(tmp_path / "good.json")])
    assert done.exit_code == 0, done.output
    assert "1 new, 0 updated" in done.output


def test_staff_create_validates_and_refuses_duplicates(environment: str) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    args = [
        "staff",
        "create",
        "fin@city.example.jp",
        "--role",
        "finance",
        "--name",
        "財務",
        "--password",
        "a-long-password",
    ]
    assert runner.invoke(app, args).exit_code == 0
    duplicate = runner.invoke(app, args)
    assert duplicate.exit_code == 2
    assert "already exists" in duplicate.output
    weak = runner.invoke(
        app,
        [
            "staff",
            "create",
            "x@city.example.jp",
            "--role",
            "admin",
            "--name",
            "x",
            "--password",
            "short",
        ],
    )
    assert weak.exit_code == 2


def test_serve_refuses_a_malformed_malloc_arena_setting(
    environment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "two")
    result = runner.invoke(app, ["serve", "--port", "8765"])
    assert result.exit_code == 2
    assert "MALLOC_ARENA_MAX must be a positive whole number" in result.output
