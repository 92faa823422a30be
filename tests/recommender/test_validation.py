from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.dataset import Dataset
from recommender.errors import DataError
from recommender.sample_data import SampleData, make_ratings
from recommender.validation import subsample_users, validation_split


def _dataset(data: SampleData) -> Dataset:
    known = data.user_features[data.user_features.user_id.isin(data.train.user_id)]
    return Dataset.construct(
        data.train, known, data.item_features, items=data.item_features.item_id
    )


def _pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame.user_id.astype(str), frame.item_id.astype(str), strict=True))


def _train_pairs(dataset: Dataset) -> set[tuple[str, str]]:
    coo = dataset.interactions.tocoo()
    users = dataset.user_map.external_ids[coo.row]
    items = dataset.item_map.external_ids[coo.col]
    return set(zip(users.tolist(), items.tolist(), strict=True))


def test_time_split_holds_out_the_latest_pairs_and_hides_some_users() -> None:
    base = pd.Timestamp("2026-10-01", tz="UTC")
    rows = [
        (f"u{u}", f"i{(u + d) % 30}", base + pd.Timedelta(days=d))
        for u in range(40)
        for d in range(10)
    ]
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    dataset = Dataset.construct(frame)
    assert dataset.last_seen is not None and len(dataset.last_seen) == dataset.interactions.nnz

    split = validation_split(dataset, share=0.1, cold_share=0.25, seed=1)
    assert split.method == "time"
    held, kept = _pairs(split.test), _train_pairs(split.train)
    assert held and not held & kept
    assert held | kept <= _pairs(frame)
    # Only the last day is held out; hidden users keep nothing in training.
    last_day = {(u, i) for u, i, t in rows if t == base + pd.Timedelta(days=9)}
    assert held <= last_day
    hidden = set(split.test.user_id) - set(split.train.user_map.external_ids)
    assert len(hidden) == 10  # a quarter of the 40 users with held-out pairs
    assert split.train.last_seen is not None
    assert len(split.train.last_seen) == split.train.interactions.nnz
    assert split.train.last_seen.max() < dataset.last_seen.max()


def test_per_user_split_without_timestamps_keeps_every_user_some_history() -> None:
    data = make_ratings(120, 200, mean_ratings=30, cold_share=0.0, test_share=0.01, seed=3)
    dataset = _dataset(data)
    split = validation_split(dataset, share=0.2, cold_share=0.1, seed=0)
    assert split.method == "per_user"
    assert not _pairs(split.test) & _train_pairs(split.train)
    # Warm users lose about a fifth of their pairs.
    counts = np.diff(dataset.interactions.indptr)
    assert 0.15 < (len(split.test) / counts.sum()) < 0.35
    hidden = set(split.test.user_id) - set(split.train.user_map.external_ids)
    assert hidden and split.user_features is not None
    assert set(split.user_features.user_id) == hidden  # cold users come with their features
    assert split.train.user_features is not None
    assert split.train.user_features.matrix.shape[0] == split.train.n_users


def test_subsample_keeps_items_and_refuses_bad_shares() -> None:
    data = make_ratings(100, 150, mean_ratings=25, seed=2)
    dataset = _dataset(data)
    small = subsample_users(dataset, 30)
    assert small.n_users == 30 and small.n_items == dataset.n_items
    assert subsample_users(dataset, 10_000) is dataset
    with pytest.raises(DataError, match="between 0 and 1"):
        validation_split(dataset, share=1.5)
