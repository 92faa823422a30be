"""Continue training a saved model on new data, without starting over.

LightFM's ``fit_partial`` continues from the model's parameters, but only on feature matrices
of the same shape. Between two nightly trainings residents register and articles appear, so
the rows change. ``TrainingState`` keeps LightFM's parameters and its Adagrad accumulators by
row *name* (a user or item id for an identity row, the feature name for an attribute row);
``resume`` lays them out for a new dataset, carrying known rows over and initialising new ones
the way LightFM initialises a fresh model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from lightfm import LightFM

from recommender.config import LightFMConfig
from recommender.dataset import Dataset, FeatureSet, IdMap
from recommender.errors import DataError
from recommender.model import LightFMRecommender, new_lightfm

SIDES = ("user", "item")
PARAMETERS = (
    "embeddings",
    "embedding_gradients",
    "embedding_momentum",
    "biases",
    "bias_gradients",
    "bias_momentum",
)
# Identity rows are named by id with a prefix no feature name starts with.
IDENTITY = "\x00id:"


def row_names(n_ids: IdMap, identity: bool, features: FeatureSet | None) -> np.ndarray:
    """Names of a side's LightFM feature rows: identity rows first, then attributes."""
    parts = []
    if identity:
        parts.append(np.array([IDENTITY + str(i) for i in n_ids.external_ids], dtype=object))
    if features is not None and len(features.names):
        parts.append(features.names.external_ids.astype(object))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=object)


@dataclass(frozen=True, eq=False)
class TrainingState:
    """LightFM's parameters by row name (see the module docstring)."""

    user_rows: np.ndarray  # str
    item_rows: np.ndarray  # str
    parameters: dict[str, np.ndarray]  # "user_embeddings", "item_bias_momentum", ...

    @classmethod
    def of(cls, model: LightFMRecommender) -> TrainingState:
        lightfm, dataset, cfg = model.lightfm, model.dataset, model.config
        return cls(
            row_names(dataset.user_map, cfg.user_identity, dataset.user_features),
            row_names(dataset.item_map, cfg.item_identity, dataset.item_features),
            {
                f"{side}_{name}": np.asarray(getattr(lightfm, f"{side}_{name}"))
                for side in SIDES
                for name in PARAMETERS
            },
        )

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "user_rows": self.user_rows.astype(str),
            "item_rows": self.item_rows.astype(str),
            **self.parameters,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> TrainingState:
        names = [f"{side}_{name}" for side in SIDES for name in PARAMETERS]
        missing = [n for n in ("user_rows", "item_rows", *names) if n not in arrays]
        if missing:
            raise DataError(f"training state: missing array {missing[0]!r}")
        state = cls(
            arrays["user_rows"].astype(object),
            arrays["item_rows"].astype(object),
            {n: arrays[n] for n in names},
        )
        for side, rows in (("user", state.user_rows), ("item", state.item_rows)):
            for name in PARAMETERS:
                if state.parameters[f"{side}_{name}"].shape[0] != len(rows):
                    raise DataError(f"training state: {side}_{name} does not match its rows")
        return state


def resume(config: LightFMConfig, dataset: Dataset, state: TrainingState) -> LightFMRecommender:
    """A model laid out for ``dataset`` that continues from ``state`` (then ``fit_partial``).

    ``config`` must be the settings the state was trained with (the artifact records them).
    """
    lightfm = new_lightfm(config)
    rng = np.random.RandomState(config.random_state)
    for side in SIDES:
        if side == "user":
            names = row_names(dataset.user_map, config.user_identity, dataset.user_features)
            old = state.user_rows
        else:
            names = row_names(dataset.item_map, config.item_identity, dataset.item_features)
            old = state.item_rows
        position = pd.Index(old).get_indexer(pd.Index(names))
        known = position >= 0
        for name in PARAMETERS:
            previous = state.parameters[f"{side}_{name}"]
            if name == "embeddings" and previous.shape[1] != config.no_components:
                raise DataError("training state: components differ from the config")
            shape = (len(names), *previous.shape[1:])
            fresh = _initial(name, shape, config, rng)
            fresh[known] = previous[position[known]]
            setattr(lightfm, f"{side}_{name}", fresh)
    return _adopt(config, dataset, lightfm)


def _initial(
    name: str, shape: tuple[int, ...], config: LightFMConfig, rng: np.random.RandomState
) -> np.ndarray:
    # As LightFM._initialize: small uniform embeddings, zero biases and momentum, and Adagrad
    # accumulators starting at one.
    if name == "embeddings":
        return ((rng.rand(*shape) - 0.5) / config.no_components).astype(np.float32)
    if name.endswith("gradients") and config.learning_schedule == "adagrad":
        return np.ones(shape, dtype=np.float32)
    return np.zeros(shape, dtype=np.float32)


def _adopt(config: LightFMConfig, dataset: Dataset, lightfm: LightFM) -> LightFMRecommender:
    return LightFMRecommender(config).resume(dataset, lightfm)
