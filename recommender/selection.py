"""Model selection by validation: epochs by early stopping, settings from a small grid.

Every trial trains on a validation split of the training data (``recommender.validation``),
measures validation precision@k after each epoch and stops once it has not improved for
``patience`` epochs; the best epoch count is the trial's. Trials walk a small grid one change
at a time from the best settings so far (components, learning rate, regularisation, identity
features, normalisation) and keep a change only if it raises the validation score. The search
stops when the time budget, less the estimated cost of the final fit, is spent.

Cold users (no history) are scored by the model from their attributes, blended with their
segment's popularity in the proportion that does best on the validation newcomers
(``cold_blend``; 1 = the model alone). The score a trial is judged by is precision@k over all
validation users, warm and cold, as the promotion gate does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from recommender.base import Recommender, Users
from recommender.baselines import SegmentPopularityRecommender, blend_cold
from recommender.config import LightFMConfig
from recommender.dataset import Dataset
from recommender.evaluation import EvaluationTask
from recommender.model import LightFMRecommender
from recommender.validation import LiveItems, ValidationSplit, subsample_users, validation_split

# The model's weight in cold users' scores, tried on validation newcomers (1.0 = model alone).
COLD_BLENDS = (0.75, 0.5, 0.0)
# One change per entry, tried in this order from the best settings so far.
GRID: tuple[Mapping[str, Any], ...] = (
    {"item_identity": False},
    {"no_components": 64},
    {"learning_rate": 0.1},
    {"normalize_features": True},
    {"user_alpha": 1e-6, "item_alpha": 1e-6},
    {"user_identity": False},
    {"no_components": 16},
    {"learning_rate": 0.025},
)
DEFAULT_BUDGET_SECONDS = 120.0
# CPU seconds of this process: on a machine shared with other jobs, wall time would give the
# search fewer trials (and different choices) depending on the load.
Clock = Callable[[], float]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class SearchSpace:
    """How the search runs; the defaults suit a nightly job on 2 cores."""

    budget_seconds: float = DEFAULT_BUDGET_SECONDS
    max_epochs: int = 60
    patience: int = 4
    k: int = 10
    validation_share: float = 0.1
    cold_share: float = 0.1
    max_users: int = 20_000  # larger datasets are searched on a sample of their users
    grid: tuple[Mapping[str, Any], ...] = GRID
    seed: int = 0
    # Which items validation ranks at its cut, when the caller knows (e.g. live articles).
    live_items: LiveItems | None = None


@dataclass(frozen=True)
class Trial:
    changes: dict[str, Any]  # settings that differ from the starting config
    epochs: int  # the best epoch count
    score: float  # validation precision@k over warm and cold users at that epoch
    warm_precision: float
    cold_precision: float  # with the best blend of the model and segment popularity
    cold_blend: float  # that blend's model weight
    seconds: float
    kept: bool = False


@dataclass(frozen=True)
class Selection:
    config: LightFMConfig  # the chosen settings, epochs included
    changes: dict[str, Any]  # what differs from the starting config
    validation: dict[str, Any]
    trials: list[Trial] = field(default_factory=list)
    seconds: float = 0.0
    budget_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "epochs": self.config.epochs,
            "changes": self.changes,
            "cold_blend": self.config.cold_blend,
            "settings": self.config.model_dump(mode="json"),
            "validation": self.validation,
            "trials": [asdict(t) for t in self.trials],
            "seconds": round(self.seconds, 3),
            "budget_seconds": self.budget_seconds,
        }


@dataclass
class _Measured:
    epochs: int = 0
    score: float = -1.0
    warm: float = 0.0
    cold: float = 0.0  # the best blend's
    cold_model: float = 0.0  # the model's alone
    cold_blend: float = 1.0
    epoch_seconds: float = 0.0  # training only
    trial_epoch_seconds: float = 0.0  # training and measuring


class _Blended(Recommender):
    """A fitted model whose cold users' scores blend in segment popularity (for measuring)."""

    def __init__(
        self, model: LightFMRecommender, segments: SegmentPopularityRecommender, weight: float
    ) -> None:
        self.model, self.segments, self.weight = model, segments, weight

    def _fit(self, dataset: Dataset) -> None:
        pass

    def _score(self, users: Users) -> np.ndarray:
        scores = self.model._score(users)
        cold = np.flatnonzero(~users.warm)
        if len(cold):
            subset = Users(users.external[cold], users.internal[cold], users.features[cold])
            scores[cold] = blend_cold(scores[cold], self.segments._score(subset), self.weight)
        return scores


class _Validation:
    def __init__(
        self, split: ValidationSplit, space: SearchSpace, segment_prefixes: Sequence[str]
    ) -> None:
        self.split = split
        self.space = space
        self.task = EvaluationTask.build(
            split.train, split.test, user_features=split.user_features, candidates=split.candidates
        )
        self.n_warm = len(self.task.rows("warm"))
        self.n_cold = len(self.task.rows("cold"))
        self.segments = SegmentPopularityRecommender(segment_prefixes).fit(split.train)
        # Per newcomer: the bar every blend is compared with, pair by pair.
        self.segment_precisions = self.task.precisions(self.segments, "cold", k=space.k)
        self.segment_cold = float(self.segment_precisions.mean()) if self.n_cold else 0.0

    def precision(self, model: Recommender, group: str) -> float:
        if (self.n_warm if group == "warm" else self.n_cold) == 0:
            return 0.0
        return self.task.measure(model, group, k=self.space.k, auc=False).precision

    def best_blend(self, model: LightFMRecommender, cold_model: float) -> tuple[float, float]:
        """(weight, cold precision) of the blend of the model and segment popularity to use.

        Segment popularity alone (weight 0) is the bar newcomers must not fall below, so a
        blend with more of the model replaces it only if it wins by more than one standard
        error of the paired per-user difference on the validation newcomers.
        """
        if self.n_cold == 0:
            return 1.0, cold_model
        k, bar = self.space.k, self.segment_precisions
        best = (0.0, self.segment_cold)
        for weight in (1.0, *(w for w in COLD_BLENDS if w > 0)):
            blended = _Blended(model, self.segments, weight).fit(model.dataset)
            ours = self.task.precisions(blended, "cold", k=k)
            gain = ours - bar
            noise = gain.std(ddof=1) / np.sqrt(len(gain)) if len(gain) > 1 else np.inf
            if gain.mean() > noise and ours.mean() > best[1]:
                best = (weight, float(ours.mean()))
        return best

    def overall(self, warm: float, cold: float) -> float:
        total = max(self.n_warm + self.n_cold, 1)
        return (warm * self.n_warm + cold * self.n_cold) / total


def early_stopped(
    config: LightFMConfig,
    validation: _Validation,
    *,
    deadline: float,
    clock: Clock = time.process_time,
) -> _Measured:
    """Train epoch by epoch, measuring after each; the best epoch count and its scores.

    Stopping follows the model's own score; at each new best epoch the blends of the model
    and segment popularity for cold users are measured too, and the trial's score is the
    best blend's (what serving will do with the settings chosen).
    """
    space = validation.space
    best, best_own = _Measured(), -1.0
    started = clock()
    model = LightFMRecommender(config.with_overrides(epochs=1)).fit(validation.split.train)
    training = clock() - started  # the fit alone: what the final fit will cost per epoch
    epoch = 1
    while True:
        warm = validation.precision(model, "warm")
        cold = validation.precision(model, "cold")
        own = validation.overall(warm, cold)
        if own > best_own:
            best_own = own
            weight, blended = validation.best_blend(model, cold)
            best = _Measured(epoch, validation.overall(warm, blended), warm, blended, cold, weight)
        if epoch - best.epochs >= space.patience or epoch >= space.max_epochs:
            break
        if clock() >= deadline:
            break
        tick = clock()
        model.fit_partial(1)
        training += clock() - tick
        epoch += 1
    best.epoch_seconds = training / epoch
    best.trial_epoch_seconds = (clock() - started) / epoch
    return best


def select(
    dataset: Dataset,
    start: LightFMConfig | None = None,
    space: SearchSpace | None = None,
    *,
    clock: Clock = time.process_time,
    progress: Progress | None = None,
) -> Selection:
    """Choose epochs and settings for ``dataset`` on a validation split of it."""
    space = space or SearchSpace()
    start = start or LightFMConfig()
    report: Progress = progress or (lambda message: None)
    began = clock()
    sample = subsample_users(dataset, space.max_users, space.seed)
    split = validation_split(
        sample,
        share=space.validation_share,
        cold_share=space.cold_share,
        seed=space.seed,
        live_items=space.live_items,
    )
    validation = _Validation(split, space, start.segment_prefixes)
    # The final fit runs on the whole dataset: reserve its estimated time from the budget.
    scale = dataset.interactions.nnz / max(split.train.interactions.nnz, 1)
    deadline = began + space.budget_seconds

    def reserve(measured: _Measured) -> float:
        return measured.epoch_seconds * scale * max(measured.epochs, 1)

    trials: list[Trial] = []
    report("trial 1: starting settings")
    t0 = clock()
    best = early_stopped(
        start, validation, deadline=deadline - space.budget_seconds / 2, clock=clock
    )
    trials.append(
        Trial(
            {}, best.epochs, best.score, best.warm, best.cold, best.cold_blend, clock() - t0, True
        )
    )
    current = start
    for changes in space.grid:
        candidate = current.with_overrides(**changes)
        if candidate == current or not _valid(candidate, dataset):
            continue
        # A trial costs about as long as the best one did; start it only if that still fits.
        estimate = best.trial_epoch_seconds * (best.epochs + space.patience)
        if clock() + estimate + reserve(best) > deadline:
            break
        report(f"trial {len(trials) + 1}: {changes}")
        t0 = clock()
        measured = early_stopped(
            candidate, validation, deadline=deadline - reserve(best), clock=clock
        )
        kept = measured.score > best.score
        trials.append(
            Trial(
                dict(changes),
                measured.epochs,
                measured.score,
                measured.warm,
                measured.cold,
                measured.cold_blend,
                clock() - t0,
                kept,
            )
        )
        if kept:
            best, current = measured, candidate
    chosen = current.with_overrides(epochs=max(best.epochs, 1), cold_blend=best.cold_blend)
    changes = {
        key: value
        for key, value in chosen.model_dump(mode="json").items()
        if value != start.model_dump(mode="json")[key]
    }
    return Selection(
        config=chosen,
        changes=changes,
        validation={
            "method": split.method,
            "users_searched": sample.n_users,
            "warm_users": validation.n_warm,
            "cold_users": validation.n_cold,
            f"precision@{space.k}": round(best.score, 6),
            "warm_precision": round(best.warm, 6),
            "cold_precision": round(best.cold, 6),
            "cold_precision_model_alone": round(best.cold_model, 6),
            "cold_precision_segment_popularity": round(validation.segment_cold, 6),
        },
        trials=trials,
        seconds=clock() - began,
        budget_seconds=space.budget_seconds,
    )


def select_epochs(
    dataset: Dataset,
    config: LightFMConfig,
    space: SearchSpace | None = None,
    *,
    clock: Clock = time.process_time,
) -> int:
    """Early stopping alone, for fixed settings (e.g. a collaborative-only baseline)."""
    space = space or SearchSpace()
    sample = subsample_users(dataset, space.max_users, space.seed)
    split = validation_split(
        sample,
        share=space.validation_share,
        cold_share=space.cold_share,
        seed=space.seed,
        live_items=space.live_items,
    )
    validation = _Validation(split, space, config.segment_prefixes)
    measured = early_stopped(
        config, validation, deadline=clock() + space.budget_seconds, clock=clock
    )
    return max(measured.epochs, 1)


def _valid(config: LightFMConfig, dataset: Dataset) -> bool:
    """Whether a side keeps at least one kind of feature (LightFM needs a non-empty matrix)."""
    users = config.user_identity or (
        dataset.user_features is not None and len(dataset.user_features.names) > 0
    )
    items = config.item_identity or (
        dataset.item_features is not None and len(dataset.item_features.names) > 0
    )
    return users and items


__all__: Sequence[str] = ["GRID", "SearchSpace", "Selection", "Trial", "select", "select_epochs"]
