from __future__ import annotations

import itertools

import pandas as pd
import pytest

from recommender.baselines import SegmentPopularityRecommender
from recommender.config import LightFMConfig
from recommender.dataset import Dataset
from recommender.model import LightFMRecommender
from recommender.sample_data import make_ratings
from recommender.selection import COLD_BLENDS, SearchSpace, select, select_epochs
from recommender.workflows import build_train_dataset

START = LightFMConfig(no_components=8, segment_prefixes=("age", "gender"))


@pytest.fixture(scope="module")
def ratings() -> Dataset:
    data = make_ratings(150, 200, mean_ratings=30, seed=4)
    return build_train_dataset(data.train, data.user_features, data.item_features)


def test_selection_stops_early_keeps_only_improvements_and_reports_them(ratings: Dataset) -> None:
    grid = ({"no_components": 16}, {"learning_rate": 0.1})
    space = SearchSpace(budget_seconds=10_000, max_epochs=40, patience=2, grid=grid)
    selection = select(ratings, START, space)
    assert [t.changes for t in selection.trials] == [{}, *grid]
    assert all(1 <= t.epochs < 40 for t in selection.trials)  # early stopping stopped them
    kept = [t for t in selection.trials if t.kept]
    best = kept[-1]
    # Each kept trial beat every trial before it; the chosen epochs are the best trial's.
    scores = [t.score for t in kept]
    assert scores == sorted(scores) and best.score == max(t.score for t in selection.trials)
    assert selection.config.epochs == best.epochs
    for trial in kept:
        for key, value in trial.changes.items():
            assert getattr(selection.config, key) == value
    out = selection.as_dict()
    assert out["epochs"] == best.epochs and out["validation"]["method"] == "per_user"
    assert out["validation"]["precision@10"] == pytest.approx(best.score, abs=1e-6)
    assert out["cold_blend"] in (1.0, *COLD_BLENDS)
    # Same data, one thread, a budget that does not bind: the same choice again.
    again = select(ratings, START, space)
    assert again.config == selection.config


def test_the_budget_limits_the_search_and_reserves_the_final_fit(ratings: Dataset) -> None:
    ticks = itertools.count()
    clock = lambda: float(next(ticks))  # noqa: E731  every reading is one second later
    space = SearchSpace(budget_seconds=25, max_epochs=5, patience=1)
    selection = select(ratings, START, space, clock=clock)
    assert 1 <= len(selection.trials) < len(space.grid) + 1
    assert selection.config.epochs >= 1
    # No trial started that could not finish before the final fit's share of the budget.
    assert selection.seconds <= space.budget_seconds


def test_cold_users_blend_in_segment_popularity_as_validation_says(ratings: Dataset) -> None:
    selection = select(ratings, START, SearchSpace(budget_seconds=10_000, grid=(), patience=2))
    validation = selection.validation
    assert selection.config.cold_blend in (1.0, *COLD_BLENDS)
    # The chosen blend is at least as good as the model alone and as segment popularity alone
    # (weight 0) on the validation newcomers.
    assert validation["cold_precision"] >= validation["cold_precision_model_alone"]
    assert validation["cold_precision"] >= validation["cold_precision_segment_popularity"] - 1e-9
    assert validation["cold_users"] > 0 and validation["warm_users"] > 0


def test_select_epochs_for_fixed_settings(ratings: Dataset) -> None:
    bare = Dataset(ratings.user_map, ratings.item_map, ratings.interactions)
    epochs = select_epochs(bare, LightFMConfig(no_components=8), SearchSpace(patience=2))
    assert 1 <= epochs < 60


def test_model_serves_cold_users_by_segment_popularity_when_configured(ratings: Dataset) -> None:
    config = START.with_overrides(epochs=2, cold_blend=0.0)
    model = LightFMRecommender(config).fit(ratings)
    segments = SegmentPopularityRecommender(("age", "gender")).fit(ratings)
    features = pd.DataFrame({"user_id": ["new"] * 2, "feature": ["age:25-34", "gender:F"]})
    ours = model.recommend(["new"], 10, user_features=features)
    theirs = segments.recommend(["new"], 10, user_features=features)
    assert ours.item_id.tolist() == theirs.item_id.tolist()
    warm = ratings.user_map.external_ids[0]
    assert (
        model.recommend([warm], 10).item_id.tolist()
        != segments.recommend([warm], 10).item_id.tolist()
    )


def test_a_blend_ranks_between_the_model_and_the_segment(ratings: Dataset) -> None:
    features = pd.DataFrame({"user_id": ["new"] * 2, "feature": ["age:25-34", "gender:F"]})
    lists = {
        weight: LightFMRecommender(START.with_overrides(epochs=3, cold_blend=weight))
        .fit(ratings)
        .recommend(["new"], 20, user_features=features)
        .item_id.tolist()
        for weight in (0.0, 0.5, 1.0)
    }
    assert lists[0.5] != lists[0.0] and lists[0.5] != lists[1.0]
    assert set(lists[0.5]) <= set(lists[0.0]) | set(lists[1.0]) | set(lists[0.5])
    shared = set(lists[0.5]) & (set(lists[0.0]) | set(lists[1.0]))
    assert len(shared) >= 10  # mostly drawn from what either alone would show
