"""Fold new interactions into the serving model between nightly trainings.

The nightly model is trained up to its cut and is blind to everything since: residents who
registered, articles published, what everyone read. ``refresh_and_promote`` continues the
promoted model's own training (LightFM ``fit_partial``) on the pairs that are new or renewed
since its ``trained_until``, with new residents and articles laid out as fresh rows, for a few
epochs instead of a full retrain. The result passes the same promotion gate as the nightly
training: evaluated beside the serving model on the clicks after the refresh's own cut, and
promoted only if not worse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sqlalchemy.orm import Session

from marketplace.training.data import TrainingFrames, load_training_frames
from marketplace.training.gate import judge
from marketplace.training.pipeline import features_of, training_dataset
from recommender.artifact import (
    ArtifactError,
    load_training_state,
    promote,
    promoted_version,
    read_info,
    save_artifact,
)
from recommender.config import LightFMConfig
from recommender.dataset import Dataset
from recommender.errors import DataError
from recommender.evaluation import EvaluationReport
from recommender.incremental import TrainingState, resume
from recommender.state import ModelState

DEFAULT_EPOCHS = 3
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class RefreshOutcome:
    version: str | None  # None when there was nothing to fold in
    promoted: bool
    reason: str
    report: EvaluationReport | None
    previous_version: str | None
    new_pairs: int = 0


def new_pairs(dataset: Dataset, since: datetime) -> sp.csr_matrix:
    """The dataset's pairs whose latest interaction is after ``since`` (same shape)."""
    assert dataset.last_seen is not None, "training datasets carry timestamps"
    matrix = dataset.interactions
    fresh = dataset.last_seen > pd.Timestamp(since).timestamp()
    # Copies of the index arrays: eliminate_zeros works in place and must not touch the dataset.
    out = sp.csr_matrix(
        (
            np.where(fresh, matrix.data, 0).astype(np.float32),
            matrix.indices.copy(),
            matrix.indptr.copy(),
        ),
        shape=matrix.shape,
    )
    out.eliminate_zeros()
    return out


def refresh_and_promote(
    frames: TrainingFrames,
    store: str | Path,
    *,
    code_version: str,
    holdout_hours: int = 24,
    epochs: int = DEFAULT_EPOCHS,
    k: int = 10,
    tolerance: float = 0.0,
    progress: Progress | None = None,
) -> RefreshOutcome:
    """Continue the promoted model on what is new, gate it, save it, promote if not worse."""
    report_progress: Progress = progress or (lambda stage, fraction: None)
    version = promoted_version(store)
    if version is None:
        raise ArtifactError(f"no promoted model in {store}: run `portal-marketplace train` first")
    info = read_info(store, version)
    state = load_training_state(store, version)
    events = frames.events
    if events.empty:
        raise DataError("no interaction events in the database: seed or collect some first")
    end = events.occurred_at.max().to_pydatetime()
    cut = end - timedelta(hours=holdout_hours)
    trained_until = info.data_window.get("trained_until")
    since = pd.Timestamp(trained_until).to_pydatetime() if trained_until else None
    if since is None or cut <= since:
        return RefreshOutcome(
            None, False, "nothing new to fold in before the holdout", None, version
        )
    users, items = features_of(frames)
    report_progress("fold in", 0.0)
    dataset = training_dataset(events[events.occurred_at <= cut], cut, users, items)
    fresh = new_pairs(dataset, since)
    if fresh.nnz == 0:
        return RefreshOutcome(None, False, "no new interactions since the last training",
                              None, version)  # fmt: skip
    config = LightFMConfig.from_mapping(info.config)
    model = resume(config, dataset, state).fit_partial(
        epochs,
        interactions=fresh,
        on_epoch=lambda done, total: report_progress("fold in", done / total),
    )
    report_progress("evaluate", 0.0)
    verdict = judge(model, dataset, frames, store, users=users, cut=cut, k=k,
                    tolerance=tolerance)  # fmt: skip
    report_progress("evaluate", 1.0)
    metrics: dict[str, Any] = verdict.report.as_dict()
    metrics.update(decision=verdict.reason, overall_precision=verdict.score, refreshed_from=version,
                   new_pairs=int(fresh.nnz), refresh_epochs=epochs)  # fmt: skip
    saved = save_artifact(
        store,
        ModelState.from_model(model),
        code_version=code_version,
        metrics=metrics,
        data_window={
            **info.data_window,
            "end": end.astimezone(UTC).isoformat(),
            "holdout_from": cut.astimezone(UTC).isoformat(),
            "trained_until": cut.astimezone(UTC).isoformat(),
            "refreshed_from": version,
        },
        config=info.config,
        selection=info.selection,
        training=TrainingState.of(model),
    )
    if verdict.promoted:
        promote(store, saved.version)
    return RefreshOutcome(
        saved.version, verdict.promoted, verdict.reason, verdict.report, version, int(fresh.nnz)
    )


def refresh_from_database(
    session: Session, store: str | Path, *, code_version: str, **options: Any
) -> RefreshOutcome:
    """The periodic job: read the training data, then ``refresh_and_promote``.

    A scheduler calls this every few hours with its own session; it only reads the database.
    A run with nothing new returns at once (``version`` None).
    """
    return refresh_and_promote(
        load_training_frames(session), store, code_version=code_version, **options
    )
