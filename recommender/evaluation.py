"""Offline evaluation: precision@k, recall@k, AUC and catalogue coverage, warm vs cold users.

Conventions (as LightFM's own evaluation): for warm users the items they interacted with in
training are excluded from the ranking and from the relevant set, so precision is about new
discoveries. Test rows on items the training data does not know (or outside the candidate set)
cannot be recommended and are dropped; their number is reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.stats import rankdata

from recommender.base import Recommender
from recommender.columns import Columns
from recommender.dataset import Dataset
from recommender.errors import DataError
from recommender.ranking import top_k


@dataclass(frozen=True)
class Metrics:
    precision: float
    recall: float
    auc: float
    coverage: float


@dataclass(frozen=True)
class GroupReport:
    n_users: int
    models: dict[str, Metrics]

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n_users": self.n_users}
        out.update({name: asdict(m) for name, m in self.models.items()})
        return out


@dataclass(frozen=True)
class EvaluationReport:
    k: int
    warm: GroupReport
    cold: GroupReport
    dropped_test_rows: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "warm": self.warm.as_dict(),
            "cold": self.cold.as_dict(),
            "dropped_test_rows": self.dropped_test_rows,
        }


@dataclass
class _Sums:
    precision: float = 0.0
    recall: float = 0.0
    auc: float = 0.0
    auc_users: int = 0
    users: int = 0

    def metrics(self, covered: np.ndarray, n_eligible: int) -> Metrics:
        n = max(self.users, 1)
        return Metrics(
            precision=self.precision / n,
            recall=self.recall / n,
            auc=self.auc / max(self.auc_users, 1) if self.auc_users else float("nan"),
            coverage=float(covered.sum()) / max(n_eligible, 1),
        )


def _relevant_matrix(test: pd.DataFrame, dataset: Dataset, users: np.ndarray) -> sp.csr_matrix:
    rows = pd.Index(users).get_indexer(test[Columns.User].astype(str))
    cols = dataset.item_map.lookup(test[Columns.Item])
    data = np.ones(len(test), dtype=np.float32)
    matrix = sp.csr_matrix((data, (rows, cols)), shape=(len(users), dataset.n_items))
    matrix.data[:] = 1.0  # duplicates in the test rows count once
    return matrix


def _batch_metrics(
    scores: np.ndarray,
    relevant: sp.csr_matrix,
    n_excluded: np.ndarray,
    k: int,
    sums: _Sums,
    *,
    auc: bool = True,
) -> np.ndarray:
    idx, _ = top_k(scores, k)
    dense_rel = relevant.toarray().astype(bool)
    safe = np.where(idx >= 0, idx, 0)
    hits = np.take_along_axis(dense_rel, safe, axis=1) & (idx >= 0)
    n_rel = dense_rel.sum(axis=1)
    sums.precision += float((hits.sum(axis=1) / k).sum())
    sums.recall += float((hits.sum(axis=1) / n_rel).sum())
    sums.users += len(n_rel)
    if not auc:  # ranking every row is the costly part; early stopping needs precision only
        return np.unique(idx[idx >= 0])
    # AUC from ranks: excluded cells sit at -inf below every eligible item, so an eligible
    # item's rank among eligible items is its overall rank minus the number excluded.
    ranks = rankdata(scores, axis=1, method="average") - n_excluded[:, None]
    n_eligible = scores.shape[1] - n_excluded
    n_neg = n_eligible - n_rel
    pos_rank_sum = np.where(dense_rel, ranks, 0.0).sum(axis=1)
    ok = n_neg > 0
    per_user = (pos_rank_sum[ok] - n_rel[ok] * (n_rel[ok] + 1) / 2) / (n_rel[ok] * n_neg[ok])
    sums.auc += float(per_user.sum())
    sums.auc_users += int(ok.sum())
    return np.unique(idx[idx >= 0])


@dataclass(frozen=True, eq=False)
class EvaluationTask:
    """Test users, their relevant items and exclusions, worked out once for a Dataset.

    Early stopping measures the same validation users after every few epochs; preparing the
    task once keeps each measurement to the scoring itself.
    """

    dataset: Dataset
    user_ids: np.ndarray
    history: np.ndarray  # training interactions per test user (0 = cold)
    relevant: sp.csr_matrix
    seen: sp.csr_matrix
    eligible: np.ndarray
    user_features: pd.DataFrame | None
    dropped: int

    @classmethod
    def build(
        cls,
        dataset: Dataset,
        test: pd.DataFrame,
        *,
        user_features: pd.DataFrame | None = None,
        candidates: Iterable[object] | None = None,
    ) -> EvaluationTask:
        for column in Columns.Interactions:
            if column not in test.columns:
                raise DataError(f"test: missing column {column!r}")
        eligible = np.ones(dataset.n_items, dtype=bool)
        if candidates is not None:
            eligible[:] = False
            positions = dataset.item_map.lookup(list(candidates))
            eligible[positions[positions >= 0]] = True
        item_pos = dataset.item_map.lookup(test[Columns.Item])
        usable = item_pos >= 0
        usable[usable] = eligible[item_pos[usable]]
        test = test[usable]
        dropped = int((~usable).sum())

        user_ids = np.asarray(pd.unique(test[Columns.User].astype(str)), dtype=object)
        internal = dataset.user_map.lookup(user_ids)
        history = np.zeros(len(user_ids), dtype=np.int64)
        history[internal >= 0] = dataset.interactions.getnnz(axis=1)[internal[internal >= 0]]
        relevant = _relevant_matrix(test, dataset, user_ids)
        seen = sp.csr_matrix((len(user_ids), dataset.n_items), dtype=np.float32)
        warm_rows = np.flatnonzero(history > 0)
        if len(warm_rows):
            picker = sp.csr_matrix(
                (np.ones(len(warm_rows), np.float32), (warm_rows, internal[warm_rows])),
                shape=(len(user_ids), dataset.n_users),
            )
            seen = sp.csr_matrix(picker @ dataset.interactions)
            seen.data[:] = 1.0
        # Relevant items the user already had in training are not discoveries: drop them.
        relevant = sp.csr_matrix(relevant - relevant.multiply(seen))
        relevant.eliminate_zeros()
        if user_features is not None and Columns.User in user_features.columns:
            # Only cold users are scored from the frame; filtering once here spares every batch
            # of every model from re-validating rows it would not use.
            cold_ids = set(user_ids[history == 0])
            user_features = user_features[user_features[Columns.User].astype(str).isin(cold_ids)]
        return cls(dataset, user_ids, history, relevant, seen, eligible, user_features, dropped)

    def rows(self, group: str) -> np.ndarray:
        """Test users of a group ("warm" or "cold") with at least one relevant item."""
        mask = self.history > 0 if group == "warm" else self.history == 0
        return np.flatnonzero(mask & (self.relevant.getnnz(axis=1) > 0))

    def measure(
        self,
        model: Recommender,
        group: str,
        *,
        k: int = 10,
        batch_size: int = 1024,
        auc: bool = True,
    ) -> Metrics:
        """Metrics of one fitted model (on this task's dataset) for one group of users."""
        sums, covered = _Sums(), np.zeros(self.dataset.n_items, dtype=bool)
        for batch, scores in self._scored(model, group, batch_size):
            n_excluded = np.isneginf(scores).sum(axis=1)
            hit = _batch_metrics(scores, self.relevant[batch], n_excluded, k, sums, auc=auc)
            covered[hit] = True
        return sums.metrics(covered, int(self.eligible.sum()))

    def precisions(
        self, model: Recommender, group: str, *, k: int = 10, batch_size: int = 1024
    ) -> np.ndarray:
        """Precision@k of each user of the group (in ``rows`` order), for paired comparisons."""
        out = []
        for batch, scores in self._scored(model, group, batch_size):
            idx, _ = top_k(scores, k)
            dense = self.relevant[batch].toarray().astype(bool)
            hits = np.take_along_axis(dense, np.where(idx >= 0, idx, 0), axis=1) & (idx >= 0)
            out.append(hits.sum(axis=1) / k)
        return np.concatenate(out) if out else np.zeros(0)

    def _scored(
        self, model: Recommender, group: str, batch_size: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Batches of (task rows, scores) with training items and non-candidates at -inf."""
        if model.dataset is not self.dataset:
            raise DataError("evaluate: all models must be fitted on the same Dataset")
        rows = self.rows(group)
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            _, scores = model.score_users(
                self.user_ids[batch], user_features=self.user_features, on_unknown="featureless"
            )
            scores = np.asarray(scores, dtype=np.float64)
            block = sp.csr_matrix(self.seen[batch])
            scores[block.nonzero()] = -np.inf
            scores[:, ~self.eligible] = -np.inf
            yield batch, scores


def evaluate(
    models: Mapping[str, Recommender],
    test: pd.DataFrame,
    *,
    k: int = 10,
    user_features: pd.DataFrame | None = None,
    candidates: Iterable[object] | None = None,
    batch_size: int = 1024,
) -> EvaluationReport:
    """Evaluate fitted models (all on the same training Dataset) against test interactions.

    Warm users have at least one training interaction; every other test user is cold and is
    scored from ``user_features`` (or, without any rows, from the non-personalised part).
    """
    if not models:
        raise DataError("evaluate: no models given")
    datasets = {id(m.dataset) for m in models.values()}
    if len(datasets) != 1:
        raise DataError("evaluate: all models must be fitted on the same Dataset")
    dataset = next(iter(models.values())).dataset
    task = EvaluationTask.build(dataset, test, user_features=user_features, candidates=candidates)
    groups = {
        group: GroupReport(
            len(task.rows(group)),
            {
                name: task.measure(model, group, k=k, batch_size=batch_size)
                for name, model in models.items()
            },
        )
        for group in ("warm", "cold")
    }
    return EvaluationReport(k, groups["warm"], groups["cold"], task.dropped)
