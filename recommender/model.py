"""A LightFM hybrid: identity plus attribute features for users and items.

Warm users and items have their own identity embedding plus the sum of their attribute
embeddings; a cold user (no history) or a new item (no interactions yet) is represented by its
attribute embeddings alone, which is what lets a new resident get a feed from their profile and
a new article or ad appear the minute it is published.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
from lightfm import LightFM

from recommender.base import Recommender, Users
from recommender.columns import Columns
from recommender.config import LightFMConfig
from recommender.dataset import Dataset, FeatureSet, IdMap, feature_rows, validate_features
from recommender.errors import ConfigError, NotFittedError

EpochCallback = Callable[[int, int], None]
CORRECTION_RIDGE = 10.0  # pseudo-count: rare features keep most of LightFM's own embedding


def normalize_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Divide each row by its sum (LightFM's own ``normalize=True``); empty rows stay empty."""
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    scale = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums != 0)
    return sp.csr_matrix(sp.diags(scale.astype(np.float32)) @ matrix, dtype=np.float32)


def side_matrix(
    n: int, identity: bool, attributes: FeatureSet | None, normalize: bool
) -> sp.csr_matrix:
    """LightFM feature matrix: identity columns first, then attribute columns."""
    blocks: list[sp.spmatrix] = []
    if identity:
        blocks.append(sp.identity(n, format="csr", dtype=np.float32))
    if attributes is not None and len(attributes.names):
        blocks.append(attributes.matrix)
    if not blocks:
        raise ConfigError("identity features are off and there are no attribute features")
    matrix = sp.csr_matrix(sp.hstack(blocks, format="csr"), dtype=np.float32)
    return normalize_rows(matrix) if normalize else matrix


@dataclass(frozen=True, eq=False)
class Representations:
    """Precomputed embeddings and biases, so scoring is one matrix product."""

    biases: np.ndarray  # (n,) float32
    embeddings: np.ndarray  # (n, d) float32


class LightFMRecommender(Recommender):
    """LightFM hybrid model with a validated config; see ``LightFMConfig``."""

    def __init__(self, config: LightFMConfig | Mapping[str, Any] | None = None) -> None:
        if isinstance(config, LightFMConfig):
            self.config = config
        else:
            self.config = LightFMConfig.from_mapping(config or {})
        self._model: LightFM | None = None
        self._users: Representations | None = None
        self._items: Representations | None = None
        self._user_attr: Representations | None = None
        self._item_attr: Representations | None = None
        self._on_epoch: EpochCallback | None = None

    def fit(self, dataset: Dataset, *, on_epoch: EpochCallback | None = None) -> Self:
        """Train from scratch; ``on_epoch(done, total)`` is called after each epoch."""
        self._on_epoch = on_epoch
        try:
            return super().fit(dataset)
        finally:
            self._on_epoch = None

    def _fit(self, dataset: Dataset) -> None:
        cfg = self.config
        user_x = side_matrix(
            dataset.n_users, cfg.user_identity, dataset.user_features, cfg.normalize_features
        )
        item_x = side_matrix(
            dataset.n_items, cfg.item_identity, dataset.item_features, cfg.normalize_features
        )
        model = LightFM(
            no_components=cfg.no_components,
            loss=cfg.loss,
            learning_schedule=cfg.learning_schedule,
            learning_rate=cfg.learning_rate,
            item_alpha=cfg.item_alpha,
            user_alpha=cfg.user_alpha,
            max_sampled=cfg.max_sampled,
            random_state=np.random.RandomState(cfg.random_state),
        )
        weights = dataset.interactions.tocoo()
        positives = sp.coo_matrix(
            (np.ones_like(weights.data), (weights.row, weights.col)), shape=weights.shape
        )
        # warp-kos cannot take sample weights.
        sample_weight = weights if cfg.use_weights and cfg.loss != "warp-kos" else None
        for epoch in range(cfg.epochs):
            # fit() resets the model; fit_partial() continues it, one epoch at a time so that
            # callers can show progress. The result equals fit(epochs=n).
            train = model.fit if epoch == 0 else model.fit_partial
            train(
                positives,
                user_features=user_x,
                item_features=item_x,
                sample_weight=sample_weight,
                epochs=1,
                num_threads=cfg.num_threads,
            )
            if self._on_epoch is not None:
                self._on_epoch(epoch + 1, cfg.epochs)
        self._model = model
        self._users = Representations(*model.get_user_representations(user_x))
        self._items = Representations(*model.get_item_representations(item_x))
        self._user_attr = self._item_attr = None
        # _raw_attributes reads self.dataset, which the base class sets after _fit returns.
        self._dataset = dataset
        self._correct("user", dataset.user_features, dataset.interactions.getnnz(axis=1) > 0)
        self._correct("item", dataset.item_features, dataset.interactions.getnnz(axis=0) > 0)

    @property
    def lightfm(self) -> LightFM:
        if self._model is None:
            raise NotFittedError("LightFMRecommender is not fitted; call fit(dataset) first")
        return self._model

    @property
    def user_representations(self) -> Representations:
        if self._users is None:
            raise NotFittedError("LightFMRecommender is not fitted; call fit(dataset) first")
        return self._users

    @property
    def item_representations(self) -> Representations:
        if self._items is None:
            raise NotFittedError("LightFMRecommender is not fitted; call fit(dataset) first")
        return self._items

    def attribute_embeddings(self, side: str) -> Representations:
        """Per attribute feature: what a cold user or new item is built from.

        With ``cold_correction`` this is LightFM's attribute embedding plus the average
        identity part of the trained users/items that have the feature (see ``_correct``).
        """
        corrected = self._user_attr if side == "user" else self._item_attr
        return corrected if corrected is not None else self._raw_attributes(side)

    def _raw_attributes(self, side: str) -> Representations:
        model, dataset = self.lightfm, self.dataset
        if side == "user":
            offset = dataset.n_users if self.config.user_identity else 0
            return Representations(
                model.user_biases[offset:].copy(), model.user_embeddings[offset:].copy()
            )
        offset = dataset.n_items if self.config.item_identity else 0
        return Representations(
            model.item_biases[offset:].copy(), model.item_embeddings[offset:].copy()
        )

    def _correct(self, side: str, features: FeatureSet | None, trained: np.ndarray) -> None:
        """Fold the expected identity embedding, given the attributes, into the attributes.

        A warm user is identity + attributes; a cold one has only the attributes, so it lacks
        whatever the identity embeddings learned in common (e.g. everyone aged 70+ drifting
        the same way). A ridge regression of (warm representation - attribute-only
        representation) on the attribute rows of trained users recovers that shared part.
        """
        identity = self.config.user_identity if side == "user" else self.config.item_identity
        if not (self.config.cold_correction and identity and features is not None):
            return
        if len(features.names) == 0 or not trained.any():
            return
        raw = self._raw_attributes(side)
        x = features.matrix
        x = normalize_rows(x) if self.config.normalize_features else x
        x = sp.csr_matrix(x[trained], dtype=np.float64)
        reps = self._users if side == "user" else self._items
        assert reps is not None
        warm = np.hstack([reps.embeddings[trained], reps.biases[trained, None]])
        cold = x @ np.hstack([raw.embeddings, raw.biases[:, None]]).astype(np.float64)
        gram = (x.T @ x).toarray() + CORRECTION_RIDGE * np.eye(x.shape[1])
        delta = np.linalg.solve(gram, x.T @ (warm - cold)).astype(np.float32)
        corrected = Representations(raw.biases + delta[:, -1], raw.embeddings + delta[:, :-1])
        if side == "user":
            self._user_attr = corrected
        else:
            self._item_attr = corrected

    def _from_attributes(self, rows: sp.csr_matrix, side: str) -> Representations:
        attrs = self.attribute_embeddings(side)
        x = normalize_rows(rows) if self.config.normalize_features else rows
        return Representations(
            np.asarray(x @ attrs.biases, dtype=np.float32).ravel(),
            np.asarray(x @ attrs.embeddings, dtype=np.float32),
        )

    def _score(self, users: Users) -> np.ndarray:
        reps = self.user_representations
        n, d = len(users.external), reps.embeddings.shape[1]
        emb = np.zeros((n, d), dtype=np.float32)
        bias = np.zeros(n, dtype=np.float32)
        warm = users.warm
        emb[warm] = reps.embeddings[users.internal[warm]]
        bias[warm] = reps.biases[users.internal[warm]]
        if (~warm).any():
            cold = self._from_attributes(users.features[np.flatnonzero(~warm)], "user")
            emb[~warm], bias[~warm] = cold.embeddings, cold.biases
        items = self.item_representations
        scores = emb @ items.embeddings.T
        scores += items.biases[None, :]
        scores += bias[:, None]
        return scores

    def new_item_representations(
        self, item_features: pd.DataFrame
    ) -> tuple[np.ndarray, Representations]:
        """Representations of items unseen in training, from their feature rows (e.g. tags).

        Returns the item ids (in first-seen order) and their representations. Features the
        model never saw carry no signal and are ignored.
        """
        clean = validate_features(item_features, Columns.Item, "item_features")
        ids = IdMap.from_values(clean[Columns.Item])
        known = self.dataset.item_features
        names = known.names if known is not None else IdMap.from_values([])
        rows, _ = feature_rows(clean, Columns.Item, ids, names)
        return ids.external_ids, self._from_attributes(rows, "item")
