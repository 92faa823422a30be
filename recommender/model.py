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
from recommender.baselines import SegmentPopularityRecommender, blend_cold
from recommender.columns import Columns
from recommender.config import LightFMConfig
from recommender.dataset import Dataset, FeatureSet, IdMap, feature_rows, validate_features
from recommender.errors import ConfigError, DataError, NotFittedError

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


def new_lightfm(cfg: LightFMConfig) -> LightFM:
    return LightFM(
        no_components=cfg.no_components,
        loss=cfg.loss,
        learning_schedule=cfg.learning_schedule,
        learning_rate=cfg.learning_rate,
        item_alpha=cfg.item_alpha,
        user_alpha=cfg.user_alpha,
        max_sampled=cfg.max_sampled,
        random_state=np.random.RandomState(cfg.random_state),
    )


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
        self._matrices: tuple[sp.csr_matrix, sp.csr_matrix] | None = None
        self._segments: SegmentPopularityRecommender | None = None

    def fit(self, dataset: Dataset, *, on_epoch: EpochCallback | None = None) -> Self:
        """Train from scratch; ``on_epoch(done, total)`` is called after each epoch."""
        self._on_epoch = on_epoch
        try:
            return super().fit(dataset)
        finally:
            self._on_epoch = None

    def _side_matrices(self, dataset: Dataset) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        cfg = self.config
        return (
            side_matrix(
                dataset.n_users, cfg.user_identity, dataset.user_features, cfg.normalize_features
            ),
            side_matrix(
                dataset.n_items, cfg.item_identity, dataset.item_features, cfg.normalize_features
            ),
        )

    def _fit(self, dataset: Dataset) -> None:
        self._matrices = self._side_matrices(dataset)
        self._model = new_lightfm(self.config)
        self._train(dataset.interactions, self.config.epochs, fresh=True)
        self._finish(dataset)

    def fit_partial(
        self,
        epochs: int = 1,
        *,
        interactions: sp.csr_matrix | None = None,
        on_epoch: EpochCallback | None = None,
    ) -> Self:
        """Continue training the fitted model for more epochs (LightFM's ``fit_partial``).

        ``fit(dataset)`` with ``epochs=a`` then ``fit_partial(b)`` equals ``epochs=a+b``
        (single-threaded). ``interactions`` (same shape as the dataset's) trains on those
        pairs only, e.g. the ones new since the last training; the model still knows the
        whole dataset's history for "already seen" and popularity.
        """
        dataset = self.dataset
        if interactions is not None and interactions.shape != dataset.interactions.shape:
            raise DataError("fit_partial: interactions do not have the dataset's shape")
        self._on_epoch = on_epoch
        try:
            self._train(
                interactions if interactions is not None else dataset.interactions,
                epochs,
                fresh=False,
            )
        finally:
            self._on_epoch = None
        self._finish(dataset)
        return self

    def resume(self, dataset: Dataset, model: LightFM) -> Self:
        """Adopt a LightFM model already laid out for ``dataset`` (see ``incremental``)."""
        self._matrices = self._side_matrices(dataset)
        if model.user_embeddings.shape[0] != self._matrices[0].shape[1]:
            raise ConfigError("resume: the model's user rows do not fit the dataset's features")
        if model.item_embeddings.shape[0] != self._matrices[1].shape[1]:
            raise ConfigError("resume: the model's item rows do not fit the dataset's features")
        self._model = model
        self._finish(dataset)
        self._dataset = dataset
        return self

    def _train(self, interactions: sp.csr_matrix, epochs: int, *, fresh: bool) -> None:
        cfg, model = self.config, self._model
        assert model is not None and self._matrices is not None
        user_x, item_x = self._matrices
        weights = interactions.tocoo()
        positives = sp.coo_matrix(
            (np.ones_like(weights.data), (weights.row, weights.col)), shape=weights.shape
        )
        # warp-kos cannot take sample weights.
        sample_weight = weights if cfg.use_weights and cfg.loss != "warp-kos" else None
        for epoch in range(epochs):
            # fit() resets the model; fit_partial() continues it, one epoch at a time so that
            # callers can show progress. The result equals fit(epochs=n).
            train = model.fit if fresh and epoch == 0 else model.fit_partial
            train(
                positives,
                user_features=user_x,
                item_features=item_x,
                sample_weight=sample_weight,
                epochs=1,
                num_threads=cfg.num_threads,
            )
            if self._on_epoch is not None:
                self._on_epoch(epoch + 1, epochs)

    def _finish(self, dataset: Dataset) -> None:
        model = self._model
        assert model is not None and self._matrices is not None
        user_x, item_x = self._matrices
        self._users = Representations(*model.get_user_representations(user_x))
        self._items = Representations(*model.get_item_representations(item_x))
        self._user_attr = self._item_attr = None
        # _raw_attributes reads self.dataset, which the base class sets after _fit returns.
        self._dataset = dataset
        self._correct("user", dataset.user_features, dataset.interactions.getnnz(axis=1) > 0)
        self._correct("item", dataset.item_features, dataset.interactions.getnnz(axis=0) > 0)
        if self.config.cold_blend >= 1.0:
            self._segments = None
        elif self._segments is None or self._segments.dataset is not dataset:
            self._segments = SegmentPopularityRecommender(self.config.segment_prefixes).fit(dataset)

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
        cold_rows = np.flatnonzero(~warm)
        if len(cold_rows):
            cold = self._from_attributes(users.features[cold_rows], "user")
            emb[cold_rows], bias[cold_rows] = cold.embeddings, cold.biases
        items = self.item_representations
        scores = emb @ items.embeddings.T
        scores += items.biases[None, :]
        scores += bias[:, None]
        if len(cold_rows) and self._segments is not None:
            subset = Users(users.external[cold_rows], users.internal[cold_rows],
                           users.features[cold_rows])  # fmt: skip
            scores[cold_rows] = blend_cold(
                scores[cold_rows], self._segments._score(subset), self.config.cold_blend
            )
        return scores

    @property
    def segments(self) -> SegmentPopularityRecommender | None:
        """The segment popularity blended into cold users' scores (``cold_blend`` < 1)."""
        return self._segments

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
