"""A validation split carved out of the training data, for choosing settings without the test.

By time when the interactions have timestamps (the latest pairs are held out, as the future
would be), else per user (a share of each user's pairs at random). Either way a share of the
users is hidden entirely, so the split also has cold users, scored from their attributes as
newcomers would be. Everything stays on the training side of the real test split.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.columns import Columns
from recommender.dataset import Dataset, FeatureSet, IdMap
from recommender.errors import DataError

Method = Literal["time", "per_user"]
# Given the validation cut (seconds since the epoch), the items a feed could have shown then.
LiveItems = Callable[[float], Iterable[object]]


@dataclass(frozen=True, eq=False)
class ValidationSplit:
    train: Dataset  # the training data minus the held-out pairs and the hidden users
    test: pd.DataFrame  # user_id, item_id held out
    user_features: pd.DataFrame | None  # long-form rows of the hidden (cold) users
    method: Method
    # Items ranked: with a time split, those someone used during the held-out period (what a
    # feed could have shown then, as the real holdout ranks live articles only); else all.
    candidates: np.ndarray | None = None


def subsample_users(dataset: Dataset, max_users: int, seed: int = 0) -> Dataset:
    """At most ``max_users`` users with their rows; items and features are kept whole."""
    if dataset.n_users <= max_users:
        return dataset
    keep = np.sort(np.random.default_rng(seed).choice(dataset.n_users, max_users, replace=False))
    return _keep_users(dataset, keep, np.ones(dataset.interactions.nnz, dtype=bool))


def validation_split(
    dataset: Dataset,
    *,
    share: float = 0.1,
    cold_share: float = 0.1,
    seed: int = 0,
    live_items: LiveItems | None = None,
) -> ValidationSplit:
    """Hold out ``share`` of the pairs (latest first, or per user) and ``cold_share`` users.

    With a time split, ``live_items`` (when the caller knows publication dates) says which
    items to rank, as the real holdout ranks only live articles; without it, the items used
    during the held-out period are ranked.
    """
    if not 0 < share < 1 or not 0 <= cold_share < 1:
        raise DataError("validation shares must be between 0 and 1")
    rng = np.random.default_rng(seed)
    matrix = dataset.interactions
    rows = np.repeat(np.arange(dataset.n_users), np.diff(matrix.indptr))
    if dataset.last_seen is not None:
        method: Method = "time"
        cut = np.quantile(dataset.last_seen, 1.0 - share)
        held = dataset.last_seen > cut
    else:
        method = "per_user"
        # Rank each user's pairs in a random order and hold out the first share of them
        # (at least one for a user with two or more pairs, none for a single pair).
        counts = np.diff(matrix.indptr)
        order = np.lexsort((rng.random(len(rows)), rows))
        rank = np.empty(len(rows), dtype=np.int64)
        rank[order] = np.arange(len(rows)) - np.repeat(matrix.indptr[:-1], counts)
        quota = np.where(counts >= 2, np.maximum(1, np.round(counts * share)), 0)
        held = rank < quota[rows]
    # Hidden users lose their training pairs and are judged on their held-out pairs only,
    # like a resident who registered just before the holdout.
    active = np.flatnonzero(np.bincount(rows[held], minlength=dataset.n_users) > 0)
    hidden = np.zeros(dataset.n_users, dtype=bool)
    hidden[rng.choice(active, size=int(len(active) * cold_share), replace=False)] = True
    keep_pairs = ~held & ~hidden[rows]
    has_training = np.bincount(rows[keep_pairs], minlength=dataset.n_users) > 0
    keep_users = np.flatnonzero(has_training)
    test = pd.DataFrame(
        {
            Columns.User: dataset.user_map.external_ids[rows[held]],
            Columns.Item: dataset.item_map.external_ids[matrix.indices[held]],
        }
    )
    if test.empty:
        raise DataError("validation split: nothing held out (too few interactions)")
    candidates = None
    if method == "time":
        live = live_items(float(cut)) if live_items is not None else test[Columns.Item]
        candidates = np.asarray(pd.unique(pd.Series(list(live), dtype=object).astype(str)))
    return ValidationSplit(
        _keep_users(dataset, keep_users, keep_pairs),
        test,
        _long_features(dataset.user_features, dataset.user_map, np.flatnonzero(~has_training)),
        method,
        candidates,
    )


def _keep_users(dataset: Dataset, users: np.ndarray, pairs: np.ndarray) -> Dataset:
    """The given users (in that order) with only their pairs marked in ``pairs``."""
    matrix = dataset.interactions
    # Slice a matrix of stored-entry positions, so weights (zeros included) and timestamps
    # follow the same entries.
    position = sp.csr_matrix(
        (np.arange(1, matrix.nnz + 1, dtype=np.int64), matrix.indices, matrix.indptr),
        shape=matrix.shape,
    )[users]
    stored = position.data - 1
    keep = pairs[stored]
    rows = np.repeat(np.arange(len(users)), np.diff(position.indptr))[keep]
    indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=len(users)))]
    entries = stored[keep]
    interactions = sp.csr_matrix(
        (matrix.data[entries], position.indices[keep], indptr),
        shape=(len(users), matrix.shape[1]),
        dtype=np.float32,
    )
    features = dataset.user_features
    return Dataset(
        IdMap(dataset.user_map.external_ids[users]),
        dataset.item_map,
        interactions,
        FeatureSet(sp.csr_matrix(features.matrix[users]), features.names) if features else None,
        dataset.item_features,
        dataset.last_seen[entries] if dataset.last_seen is not None else None,
    )


def _long_features(
    features: FeatureSet | None, users: IdMap, rows: np.ndarray
) -> pd.DataFrame | None:
    if features is None or len(rows) == 0:
        return None
    block = sp.coo_matrix(features.matrix[rows])
    return pd.DataFrame(
        {
            Columns.User: users.external_ids[rows[block.row]],
            Columns.Feature: features.names.external_ids[block.col],
            Columns.Value: block.data,
        }
    )
