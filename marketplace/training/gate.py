"""The promotion gate both the nightly training and the incremental refresh pass through.

A new model is evaluated beside the serving one on the same holdout clicks (the articles a
feed could show then) and promoted only if its precision@k is not below the serving model's.
A serving model that has seen part of the holdout cannot be evaluated on it without flattering
itself: it is compared by the precision it recorded when it was trained.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from marketplace.training.data import TrainingFrames
from recommender.artifact import ArtifactError, load_artifact
from recommender.base import Recommender
from recommender.baselines import PopularityRecommender, SegmentPopularityRecommender
from recommender.dataset import Dataset
from recommender.evaluation import EvaluationReport, evaluate
from recommender.frozen import ArtifactRecommender
from recommender.scorer import Scorer

FEED_FRESH_DAYS = 30  # a feed shows articles up to this old (and not expired)


@dataclass(frozen=True)
class Serving:
    """The promoted model as the gate sees it."""

    version: str | None  # None: nothing promoted (or unusable)
    model: Recommender | None  # fitted on the holdout's dataset when it may be evaluated there
    recorded: float | None  # its recorded holdout precision otherwise


def serving_model(store: str | Path, dataset: Dataset, cut: datetime) -> Serving:
    try:
        current = load_artifact(store)
    except ArtifactError:
        return Serving(None, None, None)  # nothing promoted yet, or unusable: nothing to beat
    trained_until = current.info.data_window.get("trained_until")
    if trained_until is not None and pd.Timestamp(trained_until) <= pd.Timestamp(cut):
        return Serving(
            current.info.version, ArtifactRecommender(Scorer(current)).fit(dataset), None
        )
    # It has seen (part of) this holdout: evaluating it here would flatter it.
    return Serving(current.info.version, None, current.info.metrics.get("overall_precision"))


def live_articles(frames: TrainingFrames, cut: datetime) -> pd.Series:
    """Article ids a feed could show at ``cut``: recent and not expired."""
    cut_ts = pd.Timestamp(cut)
    articles = frames.articles
    return articles[
        (articles.published_at > cut_ts - pd.Timedelta(days=FEED_FRESH_DAYS))
        & (articles.expires_at.isna() | (articles.expires_at > cut_ts))
    ].item_id


def live_at_seconds(frames: TrainingFrames, seconds: float) -> list[str]:
    """``live_articles`` at a moment given in seconds since the epoch (validation's cut)."""
    return live_articles(frames, datetime.fromtimestamp(seconds, UTC)).astype(str).tolist()


def overall_precision(report: EvaluationReport, name: str) -> float:
    total = report.warm.n_users + report.cold.n_users
    if total == 0:
        return 0.0
    warm = report.warm.models[name].precision * report.warm.n_users
    cold = report.cold.models[name].precision * report.cold.n_users
    return (warm + cold) / total


def decide(
    report: EvaluationReport, serving: Serving, *, k: int, tolerance: float
) -> tuple[bool, str, float]:
    """(promote?, the reason in one line, the new model's overall precision)."""
    new_score = overall_precision(report, "model")
    if serving.model is not None:
        baseline: float | None = overall_precision(report, "current")
        label = "current model on this holdout"
    else:
        baseline, label = serving.recorded, "current model's recorded holdout"
    if serving.version is None or baseline is None:
        return True, "no comparable model was serving", new_score
    promoted = new_score >= baseline * (1 - tolerance)
    sign = ">=" if promoted else "<"
    return promoted, f"precision@{k} {new_score:.4f} {sign} {baseline:.4f} ({label})", new_score


@dataclass(frozen=True)
class Judgement:
    report: EvaluationReport
    serving: Serving
    promoted: bool
    reason: str
    score: float  # the new model's overall holdout precision


def judge(
    model: Recommender,
    dataset: Dataset,
    frames: TrainingFrames,
    store: str | Path,
    *,
    users: pd.DataFrame,
    cut: datetime,
    k: int,
    tolerance: float,
) -> Judgement:
    """Evaluate ``model`` (trained up to ``cut`` on ``dataset``) beside the baselines and the
    serving model on the clicks after ``cut``, and decide whether it may be promoted."""
    models: dict[str, Recommender] = {
        "model": model,
        "popularity": PopularityRecommender().fit(dataset),
        "segment_popularity": SegmentPopularityRecommender().fit(dataset),
    }
    serving = serving_model(store, dataset, cut)
    if serving.model is not None:
        models["current"] = serving.model
    events = frames.events
    holdout = events[(events.occurred_at > cut) & (events.kind == "click")]
    test = holdout[["user_id", "item_id"]].drop_duplicates()
    live = live_articles(frames, cut)
    report = evaluate(models, test, k=k, user_features=users, candidates=live)
    promoted, reason, score = decide(report, serving, k=k, tolerance=tolerance)
    return Judgement(report, serving, promoted, reason, score)
