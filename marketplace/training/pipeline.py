"""Train the recommender from portal data, check it on a time-based holdout, and promote it.

Steps: split events at ``end - holdout_days``; train a candidate on the earlier part; evaluate
it, the popularity baselines and the currently promoted model on the holdout clicks (over the
articles a feed could show then); save the artifact; promote it only if it is not worse than
the current model on that holdout.

By default the saved model is the evaluated one, trained up to the cut: its metrics are exactly
what was measured, and the next run's holdout never overlaps its training data, so the
comparison stays fair. Residents and articles that appeared after the cut are served as cold
users and items from their features. ``refit=True`` retrains on the whole window instead; a
later run cannot then evaluate that model on its holdout without leakage, so it is compared
by its recorded holdout precision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from marketplace.training.data import TrainingFrames
from marketplace.training.frames import (
    ad_features,
    article_features,
    interactions_from_events,
    resident_features,
)
from marketplace.training.gate import judge, live_at_seconds
from recommender.artifact import promote, save_artifact
from recommender.config import LightFMConfig
from recommender.dataset import Dataset
from recommender.errors import DataError
from recommender.evaluation import EvaluationReport
from recommender.incremental import TrainingState
from recommender.model import LightFMRecommender
from recommender.selection import SearchSpace, Selection, select
from recommender.state import ModelState

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class TrainOutcome:
    version: str
    promoted: bool
    reason: str
    report: EvaluationReport
    previous_version: str | None


def features_of(frames: TrainingFrames) -> tuple[pd.DataFrame, pd.DataFrame]:
    items = article_features(frames.articles, id_column="item_id")
    if frames.ads is not None and len(frames.ads):
        items = pd.concat([items, ad_features(frames.ads)], ignore_index=True)
    return resident_features(frames.residents), items


def training_dataset(
    events: pd.DataFrame, at: datetime, users: pd.DataFrame, items: pd.DataFrame
) -> Dataset:
    interactions = interactions_from_events(events, at)
    if interactions.empty:
        raise DataError(f"no interaction events before {at.isoformat()}: nothing to learn from")
    known = users[users.user_id.isin(interactions.user_id)]
    catalogue = pd.unique(pd.concat([interactions.item_id, items.item_id]).astype(str))
    return Dataset.construct(interactions, known, items, items=catalogue)


def train_and_promote(
    frames: TrainingFrames,
    store: str | Path,
    *,
    config: LightFMConfig,
    code_version: str,
    holdout_days: int = 7,
    k: int = 10,
    tolerance: float = 0.0,
    refit: bool = False,
    space: SearchSpace | None = None,
    progress: Progress | None = None,
) -> TrainOutcome:
    """Train, evaluate on the holdout, save, and promote if not worse than the serving model.

    With a search ``space``, settings and epochs are first chosen on a validation split of the
    data before the cut (``recommender.selection``); ``config`` is where the search starts.
    Without one, ``config`` is used as it is.
    """
    report_progress: Progress = progress or (lambda stage, fraction: None)
    events = frames.events
    if events.empty:
        raise DataError("no interaction events in the database: seed or collect some first")
    end = events.occurred_at.max().to_pydatetime()
    start = events.occurred_at.min().to_pydatetime()
    cut = end - timedelta(days=holdout_days)
    users, items = features_of(frames)

    report_progress("holdout model", 0.0)
    train_events = events[events.occurred_at <= cut]
    dataset = training_dataset(train_events, cut, users, items)
    selection: Selection | None = None
    if space is not None:
        report_progress("select settings", 0.0)
        # Validation ranks what a feed could show at its own cut, as the holdout does.
        live = partial(live_at_seconds, frames)
        selection = select(dataset, config, replace(space, live_items=live))
        config = selection.config
        report_progress("select settings", 1.0)
    candidate = LightFMRecommender(config).fit(
        dataset, on_epoch=lambda done, total: report_progress("holdout model", done / total)
    )
    report_progress("evaluate", 0.0)
    verdict = judge(candidate, dataset, frames, store, users=users, cut=cut, k=k,
                    tolerance=tolerance)  # fmt: skip
    report_progress("evaluate", 1.0)

    final = candidate
    if refit:
        report_progress("final model", 0.0)
        full = training_dataset(events, end, users, items)
        final = LightFMRecommender(config).fit(
            full, on_epoch=lambda done, total: report_progress("final model", done / total)
        )
    metrics: dict[str, Any] = verdict.report.as_dict()
    metrics["decision"] = verdict.reason
    metrics["overall_precision"] = verdict.score
    info = save_artifact(
        store,
        ModelState.from_model(final),
        code_version=code_version,
        metrics=metrics,
        data_window={
            "start": start.astimezone(UTC).isoformat(),
            "end": end.astimezone(UTC).isoformat(),
            "holdout_from": cut.astimezone(UTC).isoformat(),
            "trained_until": (end if refit else cut).astimezone(UTC).isoformat(),
        },
        config=config.model_dump(mode="json"),
        selection=selection.as_dict() if selection is not None else None,
        training=TrainingState.of(final),
    )
    if verdict.promoted:
        promote(store, info.version)
    return TrainOutcome(
        info.version, verdict.promoted, verdict.reason, verdict.report, verdict.serving.version
    )
