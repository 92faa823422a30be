"""Everything serving needs from a trained model, as plain numpy arrays (no pickle)."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields

import numpy as np

from recommender.baselines import item_popularity
from recommender.errors import DataError
from recommender.model import LightFMRecommender


@dataclass(frozen=True, eq=False)
class ModelState:
    user_ids: np.ndarray  # (users,) str
    item_ids: np.ndarray  # (items,) str
    user_feature_names: np.ndarray  # (user attributes,) str
    item_feature_names: np.ndarray  # (item attributes,) str
    user_bias: np.ndarray  # (users,) precomputed representations of warm users
    user_embedding: np.ndarray  # (users, d)
    item_bias: np.ndarray  # (items,)
    item_embedding: np.ndarray  # (items, d)
    user_attr_bias: np.ndarray  # (user attributes,) to represent cold users
    user_attr_embedding: np.ndarray  # (user attributes, d)
    item_attr_bias: np.ndarray  # (item attributes,) to represent new items
    item_attr_embedding: np.ndarray  # (item attributes, d)
    seen_indptr: np.ndarray  # CSR of training interactions, for "already seen"
    seen_indices: np.ndarray
    item_popularity: np.ndarray  # (items,) distinct users: the non-personalised ranking
    normalize_features: np.ndarray  # () bool
    # Cold users blend in their segment's popularity (``cold_blend`` < 1); empty prefixes: cold
    # users are scored from their attribute embeddings alone. Optional in stored artifacts.
    segment_prefixes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    segment_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    segment_table: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    segment_fallback: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    cold_blend: np.ndarray = field(default_factory=lambda: np.array(1.0))  # () float

    @classmethod
    def from_model(cls, model: LightFMRecommender) -> ModelState:
        dataset = model.dataset
        users, items = model.user_representations, model.item_representations
        user_attr, item_attr = (
            model.attribute_embeddings("user"),
            model.attribute_embeddings("item"),
        )
        seen = dataset.interactions
        empty = np.zeros(0, dtype=str)
        segments: dict[str, np.ndarray] = {}
        if model.segments is not None:
            keys, table, fallback = model.segments.segment_table()
            segments = {
                "segment_prefixes": np.array(model.config.segment_prefixes, dtype=str),
                "segment_keys": np.array(keys, dtype=str),
                "segment_table": table.astype(np.float32),
                "segment_fallback": fallback.astype(np.float32),
                "cold_blend": np.array(model.config.cold_blend),
            }
        return cls(
            user_ids=dataset.user_map.external_ids.astype(str),
            item_ids=dataset.item_map.external_ids.astype(str),
            user_feature_names=(
                dataset.user_features.names.external_ids.astype(str)
                if dataset.user_features is not None
                else empty
            ),
            item_feature_names=(
                dataset.item_features.names.external_ids.astype(str)
                if dataset.item_features is not None
                else empty
            ),
            user_bias=users.biases.astype(np.float32),
            user_embedding=users.embeddings.astype(np.float32),
            item_bias=items.biases.astype(np.float32),
            item_embedding=items.embeddings.astype(np.float32),
            user_attr_bias=user_attr.biases.astype(np.float32),
            user_attr_embedding=user_attr.embeddings.astype(np.float32),
            item_attr_bias=item_attr.biases.astype(np.float32),
            item_attr_embedding=item_attr.embeddings.astype(np.float32),
            seen_indptr=seen.indptr.astype(np.int64),
            seen_indices=seen.indices.astype(np.int32),
            item_popularity=item_popularity(dataset),
            normalize_features=np.array(model.config.normalize_features),
            **segments,
        )

    def arrays(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> ModelState:
        required = [f.name for f in fields(cls) if f.default_factory is MISSING]
        missing = [n for n in required if n not in arrays]
        if missing:
            raise DataError(f"model state: missing array {missing[0]!r}")
        state = cls(**{f.name: arrays[f.name] for f in fields(cls) if f.name in arrays})
        state.check()
        return state

    def check(self) -> None:
        """Refuse arrays whose shapes do not fit together."""
        n_users, n_items = len(self.user_ids), len(self.item_ids)
        d = self.item_embedding.shape[1] if self.item_embedding.ndim == 2 else -1
        expectations = {
            "user_bias": (n_users,),
            "user_embedding": (n_users, d),
            "item_bias": (n_items,),
            "item_embedding": (n_items, d),
            "user_attr_bias": (len(self.user_feature_names),),
            "user_attr_embedding": (len(self.user_feature_names), d),
            "item_attr_bias": (len(self.item_feature_names),),
            "item_attr_embedding": (len(self.item_feature_names), d),
            "seen_indptr": (n_users + 1,),
            "item_popularity": (n_items,),
        }
        if len(self.segment_prefixes):
            expectations["segment_table"] = (len(self.segment_keys), n_items)
            expectations["segment_fallback"] = (n_items,)
        for name, shape in expectations.items():
            actual = getattr(self, name).shape
            if actual != shape:
                raise DataError(f"model state: {name} has shape {actual}, expected {shape}")
        if len(self.seen_indices) and (
            self.seen_indices.max() >= n_items or self.seen_indptr[-1] != len(self.seen_indices)
        ):
            raise DataError("model state: seen_indices do not fit the item catalogue")
