"""Score a saved artifact on a new Dataset, so a new model can be compared with the old one.

The promoted model was trained on older data: some of today's users and items are unknown to
it. Unknown items are represented from their features, unknown users from their feature rows,
exactly as serving would do, so the comparison is fair to the old model.
"""

from __future__ import annotations

import numpy as np

from recommender.base import Recommender, Users
from recommender.dataset import Dataset, FeatureSet
from recommender.scorer import Scorer


def _feature_lists(features: FeatureSet | None, rows: np.ndarray) -> list[list[str]]:
    if features is None:
        return [[] for _ in rows]
    matrix = features.matrix[rows]
    names = features.names.external_ids
    return [
        [str(n) for n in names[matrix.indices[matrix.indptr[i] : matrix.indptr[i + 1]]]]
        for i in range(len(rows))
    ]


class ArtifactRecommender(Recommender):
    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer
        self._items: np.ndarray | None = None
        self._full = scorer
        self._ids: list[str] = []

    def _fit(self, dataset: Dataset) -> None:
        ids = [str(i) for i in dataset.item_map.external_ids]
        new_rows = np.flatnonzero(~np.isin(ids, self.scorer.item_ids.astype(str)))
        lists = _feature_lists(dataset.item_features, new_rows)
        new = {ids[r]: f for r, f in zip(new_rows, lists, strict=True)}
        self._full = self.scorer.with_new_items(new)
        self._ids = ids
        self._items = self._full.item_matrix(ids)

    def _score(self, users: Users) -> np.ndarray:
        assert self._items is not None
        dataset = self.dataset
        vectors = np.zeros((len(users.external), self._items.shape[1]), dtype=np.float32)
        fallback: dict[int, np.ndarray] = {}
        warm_lists = _feature_lists(dataset.user_features, np.maximum(users.internal, 0))
        names = dataset.user_features.names.external_ids if dataset.user_features else None
        for row, user_id in enumerate(users.external):
            if users.internal[row] >= 0:
                features = warm_lists[row]
            elif names is not None:
                start, end = users.features.indptr[row], users.features.indptr[row + 1]
                features = [str(n) for n in names[users.features.indices[start:end]]]
            else:
                features = []
            vector = self.scorer.user_vector(str(user_id), features)
            if vector is not None:
                vectors[row] = vector
            elif features and self.scorer.cold_by_segment:
                fallback[row] = self._full.fallback_scores(features, self._ids)
            else:
                vectors[row, -1] = 1.0  # no profile: the item biases alone
        scores = vectors @ self._items.T
        for row, values in fallback.items():
            scores[row] = values
        return scores
