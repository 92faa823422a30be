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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from marketplace.recommender_frames import (
    ad_features,
    article_features,
    interactions_from_events,
    resident_features,
)
from marketplace.training_data import TrainingFrames
from recommender.artifact import ArtifactError, load_artifact, promote, save_artifact
from recommender.base import Recommender
from recommender.baselines import PopularityRecommender, SegmentPopularityRecommender
from recommender.config import LightFMConfig
from recommender.dataset import Dataset
from recommender.errors import DataError
from recommender.evaluation import EvaluationReport, evaluate
from recommender.frozen import ArtifactRecommender
from recommender.model import LightFMRecommender
from recommender.scorer import Scorer
from recommender.state import ModelState

FEED_FRESH_DAYS = 30  # a feed shows articles up to this old (and not expired)
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class TrainOutcome:
    version: str
    promoted: bool
    reason: str
    report: EvaluationReport
    previous_version: str | None


def _features(frames: TrainingFrames) -> tuple[pd.DataFrame, pd.DataFrame]:
    items = article_features(frames.articles)
    if frames.ads is not None and len(frames.ads):
        items = pd.concat([items, ad_features(frames.ads)], ignore_index=True)
    return resident_features(frames.residents), items


def _dataset(
    events: pd.DataFrame, at: datetime, users: pd.DataFrame, items: pd.DataFrame
) -> Dataset:
    interactions = interactions_from_events(events, at)
    if interactions.empty:
        raise DataError(f"no interaction events before {at.isoformat()}: nothing to learn from")
    known = users[users.user_id.isin(interactions.user_id)]
    catalogue = pd.unique(pd.concat([interactions.item_id, items.item_id]).astype(str))
    return Dataset.construct(interactions, known, items, items=catalogue)


def _overall_precision(report: EvaluationReport, name: str) -> float:
    total = report.warm.n_users + report.cold.n_users
    if total == 0:
        return 0.0
    warm = report.warm.models[name].precision * report.warm.n_users
    cold = report.cold.models[name].precision * report.cold.n_users
    return (warm + cold) / total


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
    progress: Progress | None = None,
) -> TrainOutcome:
    report_progress: Progress = progress or (lambda stage, fraction: None)
    events = frames.events
    if events.empty:
        raise DataError("no interaction events in the database: seed or collect some first")
    end = events.occurred_at.max().to_pydatetime()
    start = events.occurred_at.min().to_pydatetime()
    cut = end - timedelta(days=holdout_days)
    users, items = _features(frames)

    report_progress("holdout model", 0.0)
    train_events = events[events.occurred_at <= cut]
    holdout = events[(events.occurred_at > cut) & (events.kind == "click")]
    dataset = _dataset(train_events, cut, users, items)
    candidate = LightFMRecommender(config).fit(
        dataset, on_epoch=lambda done, total: report_progress("holdout model", done / total)
    )
    models: dict[str, Recommender] = {
        "model": candidate,
        "popularity": PopularityRecommender().fit(dataset),
        "segment_popularity": SegmentPopularityRecommender().fit(dataset),
    }
    previous_version: str | None = None
    recorded: float | None = None
    try:
        current = load_artifact(store)
        previous_version = current.info.version
        trained_until = current.info.data_window.get("trained_until")
        if trained_until is not None and pd.Timestamp(trained_until) <= pd.Timestamp(cut):
            models["current"] = ArtifactRecommender(Scorer(current)).fit(dataset)
        else:
            # It has seen (part of) this holdout: evaluating it here would flatter it.
            recorded = current.info.metrics.get("overall_precision")
    except ArtifactError:
        pass  # nothing promoted yet, or unusable: the new model has nothing to beat

    report_progress("evaluate", 0.0)
    cut_ts = pd.Timestamp(cut)
    articles = frames.articles
    live = articles[
        (articles.published_at > cut_ts - pd.Timedelta(days=FEED_FRESH_DAYS))
        & (articles.expires_at.isna() | (articles.expires_at > cut_ts))
    ].external_id
    test = holdout[["user_id", "item_id"]].drop_duplicates()
    report = evaluate(models, test, k=k, user_features=users, candidates=live)
    report_progress("evaluate", 1.0)

    new_score = _overall_precision(report, "model")
    if "current" in models:
        baseline: float | None = _overall_precision(report, "current")
        label = "current model on this holdout"
    else:
        baseline, label = recorded, "current model's recorded holdout"
    if previous_version is None or baseline is None:
        promoted, reason = True, "no comparable model was serving"
    else:
        promoted = new_score >= baseline * (1 - tolerance)
        sign = ">=" if promoted else "<"
        reason = f"precision@{k} {new_score:.4f} {sign} {baseline:.4f} ({label})"

    final = candidate
    if refit:
        report_progress("final model", 0.0)
        full = _dataset(events, end, users, items)
        final = LightFMRecommender(config).fit(
            full, on_epoch=lambda done, total: report_progress("final model", done / total)
        )
    metrics: dict[str, Any] = report.as_dict()
    metrics["decision"] = reason
    metrics["overall_precision"] = new_score
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
        config=config.model_dump(),
    )
    if promoted:
        promote(store, info.version)
    return TrainOutcome(info.version, promoted, reason, report, previous_version)
