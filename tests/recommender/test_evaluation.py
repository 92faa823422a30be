from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from recommender.base import Recommender, Users
from recommender.baselines import PopularityRecommender, SegmentPopularityRecommender
from recommender.dataset import Dataset
from recommender.errors import DataError
from recommender.evaluation import EvaluationTask, evaluate
from recommender.model import LightFMRecommender
from tests.support.recommender_world import COLD_FAMILY, COLD_SENIOR


class FixedScores(Recommender):
    """A real Recommender whose scores are given: item j scores -j (i0 best) for everyone."""

    def _fit(self, dataset: Dataset) -> None:
        pass

    def _score(self, users: Users) -> np.ndarray:
        n_items = self.dataset.n_items
        return np.tile(-np.arange(n_items, dtype=np.float64), (len(users.external), 1))


@pytest.fixture
def tiny() -> Dataset:
    # Items i0..i5 in this order; user a saw i0 in training.
    frame = pd.DataFrame({"user_id": ["a", "b"], "item_id": ["i0", "i5"]})
    return Dataset.construct(frame, items=[f"i{j}" for j in range(6)])


def test_metrics_match_hand_computation(tiny: Dataset) -> None:
    model = FixedScores().fit(tiny)
    test = pd.DataFrame({"user_id": ["a", "a", "a", "c"], "item_id": ["i0", "i1", "i4", "i2"]})
    report = evaluate({"fixed": model}, test, k=2)
    # a (warm): i0 was seen in training, so it is neither ranked nor relevant. Ranking of the
    # rest: i1, i2, i3, i4, i5. Top-2 = i1, i2 -> 1 hit of 2 relevant (i1, i4).
    warm = report.warm.models["fixed"]
    assert report.warm.n_users == 1
    assert warm.precision == pytest.approx(0.5)
    assert warm.recall == pytest.approx(0.5)
    # AUC over 5 eligible items, positives i1 (best) and i4 (4th): pairs won 3 + 1 of 2*3.
    assert warm.auc == pytest.approx(4 / 6)
    assert warm.coverage == pytest.approx(2 / 6)
    # c (cold, never seen): top-2 = i0, i1; relevant i2 -> 0 hits; AUC: i2 3rd of 6 -> 3/5.
    cold = report.cold.models["fixed"]
    assert report.cold.n_users == 1
    assert cold.precision == 0.0 and cold.recall == 0.0
    assert cold.auc == pytest.approx(3 / 5)


def test_unknown_items_and_non_candidates_are_dropped(tiny: Dataset) -> None:
    model = FixedScores().fit(tiny)
    test = pd.DataFrame({"user_id": ["a", "a", "b"], "item_id": ["zz", "i3", "i1"]})
    report = evaluate({"fixed": model}, test, k=1, candidates=["i3", "i4"])
    assert report.dropped_test_rows == 2  # zz is unknown, i1 is not a candidate
    assert report.warm.n_users == 1
    assert report.warm.models["fixed"].precision == 1.0  # i3 is the best candidate
    assert report.warm.models["fixed"].coverage == 0.5
    assert report.as_dict()["warm"]["fixed"]["precision"] == 1.0


def test_models_side_by_side_and_the_model_beats_popularity(dataset: Dataset) -> None:
    lightfm = LightFMRecommender({"no_components": 8, "epochs": 30, "learning_rate": 0.1})
    models = {
        "model": lightfm.fit(dataset),
        "popularity": PopularityRecommender().fit(dataset),
        "segment_popularity": SegmentPopularityRecommender().fit(dataset),
    }
    rows = []
    for u in range(0, 60, 2):
        rows.append((f"u{u:02d}", "i00"))
        rows.append((f"u{u + 1:02d}", "i15"))
    rows += [("new-family", "i01"), ("new-family", "i02"), ("new-senior", "i12")]
    test = pd.DataFrame(rows, columns=["user_id", "item_id"])
    features = pd.concat([COLD_FAMILY, COLD_SENIOR])
    report = evaluate(models, test, k=5, user_features=features)
    assert report.cold.n_users == 2
    out = report.as_dict()
    assert set(out["warm"]) == {"n_users", "model", "popularity", "segment_popularity"}
    assert out["warm"]["model"]["auc"] > out["warm"]["popularity"]["auc"]
    assert out["cold"]["model"]["auc"] > out["cold"]["popularity"]["auc"]
    assert not math.isnan(out["cold"]["segment_popularity"]["auc"])
    # Per-user precision (for paired comparisons) averages to the reported figure.
    task = EvaluationTask.build(dataset, test, user_features=features)
    for group in ("warm", "cold"):
        per_user = task.precisions(models["model"], group, k=5)
        assert len(per_user) == getattr(report, group).n_users
        assert per_user.mean() == pytest.approx(getattr(report, group).models["model"].precision)


def test_evaluate_refuses_bad_input(tiny: Dataset, dataset: Dataset) -> None:
    with pytest.raises(DataError, match="no models"):
        evaluate({}, pd.DataFrame({"user_id": [], "item_id": []}))
    with pytest.raises(DataError, match="missing column 'item_id'"):
        evaluate({"f": FixedScores().fit(tiny)}, pd.DataFrame({"user_id": ["a"]}))
    with pytest.raises(DataError, match="same Dataset"):
        evaluate(
            {"a": FixedScores().fit(tiny), "b": FixedScores().fit(dataset)},
            pd.DataFrame({"user_id": ["a"], "item_id": ["i0"]}),
        )
