from __future__ import annotations

import pandas as pd

from recommender.baselines import PopularityRecommender, SegmentPopularityRecommender
from recommender.dataset import Dataset
from tests.support.recommender_world import COLD_FAMILY, COLD_SENIOR


def test_global_popularity_ranks_by_distinct_users() -> None:
    frame = pd.DataFrame(
        {"user_id": ["a", "b", "c", "a", "a"], "item_id": ["x", "x", "x", "y", "y"]}
    )
    model = PopularityRecommender().fit(Dataset.construct(frame))
    recs = model.recommend(["newcomer"], 2, on_unknown="featureless")
    assert list(recs.item_id) == ["x", "y"]
    assert model.recommend(["a"], 2).empty  # a has seen everything


def test_segment_popularity_follows_the_segment(dataset: Dataset) -> None:
    model = SegmentPopularityRecommender().fit(dataset)
    assert model.segment_features_found
    features = pd.concat([COLD_FAMILY, COLD_SENIOR])
    recs = model.recommend(["new-family", "new-senior"], 5, user_features=features)
    assert (recs[recs.user_id == "new-family"].item_id < "i10").all()
    assert (recs[recs.user_id == "new-senior"].item_id >= "i10").all()
    warm = model.recommend(["u00"], 3)
    assert (warm.item_id < "i10").all()


def test_segment_popularity_without_segment_features_is_global() -> None:
    frame = pd.DataFrame({"user_id": ["a", "b", "c"], "item_id": ["x", "x", "y"]})
    features = pd.DataFrame(
        {"user_id": ["a", "b", "c"], "feature": ["gender:F", "gender:M", "gender:F"]}
    )
    model = SegmentPopularityRecommender().fit(Dataset.construct(frame, features))
    assert not model.segment_features_found
    recs = model.recommend(["z"], 2, on_unknown="featureless")
    assert list(recs.item_id) == ["x", "y"]
    custom = SegmentPopularityRecommender(prefixes=["gender"]).fit(
        Dataset.construct(frame, features)
    )
    assert custom.segment_features_found


def test_segment_popularity_keeps_rows_aligned_in_mixed_batches(dataset: Dataset) -> None:
    model = SegmentPopularityRecommender().fit(dataset)
    features = pd.concat([COLD_FAMILY, COLD_SENIOR])
    users = ["new-senior", "u00", "new-family", "u01"]
    recs = model.recommend(users, 3, user_features=features)
    family_side = {"new-family": True, "u00": True, "new-senior": False, "u01": False}
    for user, family in family_side.items():
        items = recs[recs.user_id == user].item_id
        assert len(items) == 3
        assert ((items < "i10") == family).all(), user
