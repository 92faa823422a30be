from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from marketplace.training.data import load_training_frames
from marketplace.training.gate import Serving, decide
from marketplace.training.pipeline import train_and_promote
from marketplace.training.refresh import refresh_and_promote
from recommender.artifact import ArtifactError, load_artifact, promoted_version
from recommender.config import LightFMConfig
from recommender.evaluation import EvaluationReport, GroupReport, Metrics
from tests.support.training_world import training_world

CONFIG = LightFMConfig(no_components=8, epochs=5, num_threads=1)


def test_refresh_folds_in_new_events_and_passes_the_gate(session: Session, tmp_path: Path) -> None:
    training_world(session)
    frames = load_training_frames(session)
    nightly = train_and_promote(frames, tmp_path, config=CONFIG, code_version="t", holdout_days=10)
    outcome = refresh_and_promote(frames, tmp_path, code_version="t", holdout_hours=72)
    assert outcome.version is not None and outcome.previous_version == nightly.version
    assert outcome.new_pairs > 0
    assert outcome.report is not None and "current" in outcome.report.warm.models
    # The same gate: promoted exactly when not worse than the serving model on this holdout.
    warm = outcome.report.warm.models
    assert ("<" not in outcome.reason) == outcome.promoted
    assert warm["model"].precision >= 0 and "current model on this holdout" in outcome.reason
    refreshed = load_artifact(tmp_path, outcome.version)
    window = refreshed.info.data_window
    assert window["refreshed_from"] == nightly.version
    assert (
        window["trained_until"]
        == window["holdout_from"]
        > load_artifact(tmp_path, nightly.version).info.data_window["trained_until"]
    )
    assert refreshed.info.config == load_artifact(tmp_path, nightly.version).info.config
    assert refreshed.info.metrics["new_pairs"] == outcome.new_pairs
    assert promoted_version(tmp_path) == (outcome.version if outcome.promoted else nightly.version)

    # Nothing new since the serving model's cut: nothing to do.
    if outcome.promoted:
        again = refresh_and_promote(frames, tmp_path, code_version="t", holdout_hours=72)
        assert again.version is None and "nothing new" in again.reason


def test_refresh_needs_a_model_with_training_state(session: Session, tmp_path: Path) -> None:
    training_world(session)
    frames = load_training_frames(session)
    with pytest.raises(ArtifactError, match="run `portal-marketplace train` first"):
        refresh_and_promote(frames, tmp_path, code_version="t")


def _report(model: float, current: float) -> EvaluationReport:
    def group(n: int) -> GroupReport:
        return GroupReport(
            n,
            {
                "model": Metrics(model, 0.0, 0.5, 0.1),
                "current": Metrics(current, 0.0, 0.5, 0.1),
            },
        )

    return EvaluationReport(10, group(100), group(0), 0)


def test_the_gate_refuses_a_worse_model() -> None:
    serving = Serving("v1", model=object(), recorded=None)  # type: ignore[arg-type]
    promoted, reason, _ = decide(_report(0.02, 0.03), serving, k=10, tolerance=0.0)
    assert not promoted and reason.startswith("precision@10 0.0200 < 0.0300")
    assert decide(_report(0.03, 0.03), serving, k=10, tolerance=0.0)[0]
    assert decide(_report(0.029, 0.03), serving, k=10, tolerance=0.05)[0]
    recorded = Serving("v1", model=None, recorded=0.05)
    assert not decide(_report(0.04, 0.0), recorded, k=10, tolerance=0.0)[0]
    assert decide(_report(0.0, 0.0), Serving(None, None, None), k=10, tolerance=0.0)[0]
