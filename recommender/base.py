"""What every recommender here shares: fitting on a Dataset and ranking for users.

A model scores a batch of users against the dataset's whole item catalogue. Warm users are
known from training; cold users are described by a long-form feature frame. ``recommend`` turns
scores into top-k lists with the usual filters.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.columns import Columns
from recommender.dataset import Dataset, IdMap, feature_rows, validate_features
from recommender.errors import DataError, NotFittedError, UnknownIdError
from recommender.ranking import mask_rows, top_k

OnUnknown = Literal["raise", "featureless"]


@dataclass(frozen=True, eq=False)
class Users:
    """A batch of users to score: warm ones by internal id, cold ones by attribute rows."""

    external: np.ndarray  # str ids in request order
    internal: np.ndarray  # internal id, or -1 for a cold user
    features: sp.csr_matrix  # attribute rows over the dataset's user-feature names

    @property
    def warm(self) -> np.ndarray:
        return self.internal >= 0


def resolve_users(
    dataset: Dataset,
    user_ids: Sequence[object] | np.ndarray | pd.Series,
    user_features: pd.DataFrame | None,
    on_unknown: OnUnknown,
) -> Users:
    external = np.asarray(pd.Series(list(user_ids), dtype=object).astype(str), dtype=object)
    internal = dataset.user_map.lookup(external)
    known = dataset.user_features
    names = known.names if known is not None else IdMap.from_values([])
    cold_map = IdMap.from_values(pd.unique(pd.Series(external[internal < 0], dtype=object)))
    described = np.zeros(len(cold_map), dtype=bool)
    rows = sp.csr_matrix((len(cold_map), len(names)), dtype=np.float32)
    if user_features is not None and len(cold_map):
        clean = validate_features(user_features, Columns.User, "user_features")
        rows, _ = feature_rows(clean, Columns.User, cold_map, names)
        position = cold_map.lookup(clean[Columns.User])
        described[position[position >= 0]] = True
    if on_unknown == "raise" and not described.all():
        bad = cold_map.external_ids[~described][0]
        raise UnknownIdError(
            f"user_id {bad!r} is not in the training data and has no rows in user_features"
        )
    # Expand the per-cold-id rows to request order; warm users get empty rows.
    position = np.full(len(external), -1, dtype=np.int64)
    cold = internal < 0
    position[cold] = cold_map.lookup(external[cold])
    select = sp.csr_matrix(
        (np.ones(int(cold.sum()), np.float32), (np.flatnonzero(cold), position[cold])),
        shape=(len(external), len(cold_map)),
    )
    return Users(external, internal, sp.csr_matrix(select @ rows))


class Recommender(ABC):
    """Base class: ``fit(dataset) -> self`` then ``recommend(...) -> DataFrame``."""

    _dataset: Dataset | None = None

    @property
    def is_fitted(self) -> bool:
        return self._dataset is not None

    @property
    def dataset(self) -> Dataset:
        if self._dataset is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(dataset) first")
        return self._dataset

    def fit(self, dataset: Dataset) -> Self:
        self._fit(dataset)
        self._dataset = dataset
        return self

    @abstractmethod
    def _fit(self, dataset: Dataset) -> None: ...

    @abstractmethod
    def _score(self, users: Users) -> np.ndarray:
        """Scores (len(users), n_items) over the dataset's items; higher is better."""

    def score_users(
        self,
        user_ids: Sequence[object] | np.ndarray | pd.Series,
        *,
        user_features: pd.DataFrame | None = None,
        on_unknown: OnUnknown = "raise",
    ) -> tuple[Users, np.ndarray]:
        users = resolve_users(self.dataset, user_ids, user_features, on_unknown)
        return users, self._score(users)

    def recommend(
        self,
        user_ids: Sequence[object] | np.ndarray | pd.Series,
        k: int,
        exclude_seen: bool = True,
        candidates: Iterable[object] | None = None,
        *,
        user_features: pd.DataFrame | None = None,
        on_unknown: OnUnknown = "raise",
    ) -> pd.DataFrame:
        """Top-k items per user as a DataFrame (user_id, item_id, score, rank from 1).

        Scores are only comparable within one user's list. Warm users are scored from what
        training learned about them (their rows in ``user_features`` are not used); cold users
        (not in training) are scored from their rows in ``user_features``; with ``on_unknown="featureless"`` a user
        with no rows at all gets the non-personalised part of the model instead of an error.
        """
        if k < 1:
            raise DataError(f"k must be at least 1, got {k}")
        users, scores = self.score_users(
            user_ids, user_features=user_features, on_unknown=on_unknown
        )
        dataset = self.dataset
        if exclude_seen and users.warm.any():
            warm = np.flatnonzero(users.warm)
            picker = sp.csr_matrix(
                (np.ones(len(warm), np.float32), (warm, users.internal[warm])),
                shape=(len(users.external), dataset.n_users),
            )
            mask_rows(scores, sp.csr_matrix(picker @ dataset.interactions))
        if candidates is not None:
            allowed = dataset.item_map.to_internal(list(candidates), what="candidate item_id")
            keep = np.zeros(dataset.n_items, dtype=bool)
            keep[allowed] = True
            scores[:, ~keep] = -np.inf
        idx, best = top_k(scores, k)
        return recommendations_frame(users.external, idx, best, dataset.item_map)


def recommendations_frame(
    user_ids: np.ndarray, idx: np.ndarray, scores: np.ndarray, items: IdMap
) -> pd.DataFrame:
    valid = idx >= 0
    rows = np.repeat(np.arange(idx.shape[0]), valid.sum(axis=1))
    ranks = np.tile(np.arange(1, idx.shape[1] + 1), (idx.shape[0], 1))[valid]
    return pd.DataFrame(
        {
            Columns.User: user_ids[rows],
            Columns.Item: items.to_external(idx[valid]),
            Columns.Score: scores[valid].astype(np.float32),
            Columns.Rank: ranks.astype(np.int32),
        }
    )
