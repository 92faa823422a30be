from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from portal_plugin.cli.main import app
from recommender.artifact import list_versions, promoted_version
from tests.support.cli import point_cli_at
from tests.support.training_world import training_world

runner = CliRunner()


@pytest.fixture
def seeded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    url = point_cli_at(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'cli.db'}")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    engine = create_engine(url)
    with Session(engine) as session:
        training_world(session)
        session.commit()
    engine.dispose()
    return tmp_path / "models"


def test_train_selects_then_refresh_model_folds_in_what_is_new(seeded: Path) -> None:
    store = str(seeded)
    trained = runner.invoke(
        app, ["train", "--holdout-days", "10", "--budget-seconds", "5", "--store", store]
    )
    assert trained.exit_code == 0, trained.output
    assert "promoted" in trained.output and "selected: " in trained.output
    nightly = promoted_version(seeded)

    refreshed = runner.invoke(app, ["refresh-model", "--holdout-hours", "72", "--store", store])
    assert refreshed.exit_code == 0, refreshed.output
    assert f"new pairs into {nightly}" in refreshed.output
    assert len(list_versions(seeded)) == 2

    listed = runner.invoke(app, ["models", "list", "--store", store])
    assert listed.exit_code == 0 and " epochs" in listed.output


def test_refresh_model_without_a_trained_model_is_one_clear_line(seeded: Path) -> None:
    result = runner.invoke(app, ["refresh-model", "--store", str(seeded)])
    assert result.exit_code == 2
    assert "run `portal-marketplace train` first" in result.output
