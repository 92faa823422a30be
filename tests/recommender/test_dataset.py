from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from recommender.dataset import Dataset, IdMap
from recommender.errors import DataError, UnknownIdError


def test_construct_builds_id_maps_and_sums_duplicates() -> None:
    interactions = pd.DataFrame(
        {"user_id": ["a", "b", "a", "a"], "item_id": ["x", "x", "y", "x"], "weight": [1, 2, 3, 4]}
    )
    ds = Dataset.construct(interactions)
    assert list(ds.user_map.external_ids) == ["a", "b"]
    assert list(ds.item_map.external_ids) == ["x", "y"]
    dense = ds.interactions.toarray()
    np.testing.assert_array_equal(dense, [[5.0, 3.0], [2.0, 0.0]])


def test_ids_are_compared_as_strings() -> None:
    ds = Dataset.construct(pd.DataFrame({"user_id": [1, 2], "item_id": [10, 10]}))
    assert "1" in ds.user_map and 1 in ds.user_map
    np.testing.assert_array_equal(ds.user_map.to_internal([2, "1"]), [1, 0])
    with pytest.raises(UnknownIdError, match="unknown user_id '3'"):
        ds.user_map.to_internal([3], what="user_id")


def test_dataset_is_immutable(dataset: Dataset) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        dataset.interactions = None  # type: ignore[misc]


def test_features_become_sparse_rows(dataset: Dataset) -> None:
    assert dataset.user_features is not None and dataset.item_features is not None
    assert dataset.user_features.matrix.shape == (60, 4)
    assert dataset.item_features.matrix.shape == (20, 7)
    row = dataset.user_features.matrix[dataset.user_map.to_internal(["u00"])[0]]
    names = dataset.user_features.names.to_external(row.indices)
    assert set(names) == {"age:30-39", "household:young_children"}


def test_declared_items_may_have_features_but_no_interactions() -> None:
    interactions = pd.DataFrame({"user_id": ["a"], "item_id": ["x"]})
    features = pd.DataFrame({"item_id": ["x", "new"], "feature": ["tag:a", "tag:b"]})
    ds = Dataset.construct(interactions, item_features=features, items=["x", "new"])
    assert ds.n_items == 2 and ds.interactions.shape == (1, 2)
    with pytest.raises(UnknownIdError, match="item_id 'new' at row 1 has no interactions"):
        Dataset.construct(interactions, item_features=features)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"user": ["a"], "item_id": ["x"]}), "missing column 'user_id'"),
        (pd.DataFrame({"user_id": ["a", None], "item_id": ["x", "y"]}), "empty 'user_id' at row 1"),
        (pd.DataFrame({"user_id": ["a"], "item_id": [" "]}), "empty 'item_id' at row 0"),
        (
            pd.DataFrame({"user_id": ["a", "b"], "item_id": ["x", "y"], "weight": [1, np.nan]}),
            "'weight' at row 1 is nan, not a number",
        ),
        (
            pd.DataFrame({"user_id": ["a", "b"], "item_id": ["x", "y"], "weight": ["1", "lots"]}),
            "'weight' at row 1 is 'lots', not a number",
        ),
        (
            pd.DataFrame({"user_id": ["a"], "item_id": ["x"], "weight": [-1.0]}),
            "'weight' at row 0 is negative",
        ),
        (
            pd.DataFrame({"user_id": ["a"], "item_id": ["x"], "timestamp": ["yesterday"]}),
            "'timestamp' at row 0 is 'yesterday'",
        ),
        (pd.DataFrame({"user_id": [], "item_id": []}), "no rows"),
    ],
)
def test_bad_interactions_name_the_column_and_row(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(DataError, match=message):
        Dataset.construct(frame)


def test_duplicates_can_be_refused() -> None:
    frame = pd.DataFrame({"user_id": ["a", "b", "a"], "item_id": ["x", "x", "x"]})
    with pytest.raises(DataError, match=r"duplicate \('a', 'x'\) at row 2"):
        Dataset.construct(frame, duplicates="refuse")


def test_bad_features_are_refused() -> None:
    interactions = pd.DataFrame({"user_id": ["a"], "item_id": ["x"]})
    with pytest.raises(UnknownIdError, match="user_features: user_id 'ghost' at row 0"):
        Dataset.construct(interactions, pd.DataFrame({"user_id": ["ghost"], "feature": ["f"]}))
    with pytest.raises(DataError, match="user_features: missing column 'feature'"):
        Dataset.construct(interactions, pd.DataFrame({"user_id": ["a"], "feat": ["f"]}))
    dup = pd.DataFrame({"user_id": ["a", "a"], "feature": ["age:70+", "age:70+"]})
    with pytest.raises(DataError, match="duplicate feature 'age:70\\+' for user_id 'a' at row 1"):
        Dataset.construct(interactions, dup)
    bad_value = pd.DataFrame({"user_id": ["a"], "feature": ["f"], "value": [np.inf]})
    with pytest.raises(DataError, match="'value' at row 0"):
        Dataset.construct(interactions, bad_value)


def test_declared_ids_must_cover_interactions() -> None:
    frame = pd.DataFrame({"user_id": ["a", "b"], "item_id": ["x", "x"]})
    with pytest.raises(UnknownIdError, match="user_id 'b' is not in the declared ids"):
        Dataset.construct(frame, users=["a"])


def test_id_map_add_appends_only_unseen() -> None:
    ids = IdMap.from_values(["a", "b"]).add(["b", "c", "c"])
    assert list(ids.external_ids) == ["a", "b", "c"]
    with pytest.raises(DataError, match="duplicate id 'a'"):
        IdMap(np.array(["a", "a"], dtype=object))
