"""Serving: top-k for one resident from precomputed representations, with hot reload.

Scores are one matrix-vector product over all items plus masks, instead of LightFM.predict,
which recomputes every representation per call. A ``ScorerHolder`` swaps in a newly promoted
artifact atomically and keeps serving the previous one if the new one cannot be loaded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recommender.artifact import Artifact, ArtifactError, load_artifact, promoted_version
from recommender.baselines import blend_cold, segment_key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoredItem:
    item_id: str
    score: float


class Scorer:
    """Immutable scorer over one artifact's items (plus any new items added from features)."""

    def __init__(self, artifact: Artifact) -> None:
        state = artifact.state
        self.version = artifact.info.version
        self._state = state
        # Plain dicts: a single pandas Index lookup costs tens of microseconds per request.
        self._user_rows = {str(u): i for i, u in enumerate(state.user_ids)}
        self._item_ids = state.item_ids.astype(object)
        self._item_index = pd.Index(self._item_ids)
        self._user_feature_index = {str(n): i for i, n in enumerate(state.user_feature_names)}
        self._item_feature_index = {str(n): i for i, n in enumerate(state.item_feature_names)}
        self._normalize = bool(state.normalize_features)
        # Items as [embedding | bias]; a user as [embedding | 1]: score = items @ user.
        self._items = np.hstack([state.item_embedding, state.item_bias[:, None]]).astype(np.float32)
        self._popularity = state.item_popularity.astype(np.float32)
        # Cold residents blend in their segment's popularity, when training chose that.
        self._cold_blend = float(state.cold_blend)
        self._segment_prefixes = tuple(str(p) for p in state.segment_prefixes)
        self._segment_rows = {str(key): i for i, key in enumerate(state.segment_keys)}
        self._segment_table = state.segment_table.astype(np.float32)
        self._segment_fallback = state.segment_fallback.astype(np.float32)

    @property
    def n_items(self) -> int:
        return len(self._item_ids)

    @property
    def cold_by_segment(self) -> bool:
        """Whether cold residents' scores blend in their segment's popularity (no vector)."""
        return bool(self._segment_prefixes)

    @property
    def item_ids(self) -> np.ndarray:
        return self._item_ids

    def item_mask(self, item_ids: Iterable[str]) -> np.ndarray:
        """Boolean mask over this scorer's items; unknown ids are ignored.

        Build it once per catalogue change (e.g. the live, unexpired items) and pass it as
        ``candidates`` on every request.
        """
        mask = np.zeros(self.n_items, dtype=bool)
        positions = self._item_index.get_indexer(pd.Index(list(item_ids), dtype=object))
        mask[positions[positions >= 0]] = True
        return mask

    def item_matrix(self, item_ids: list[str]) -> np.ndarray:
        """[embedding | bias] rows for known item ids, in the given order."""
        return self._items[self._known_positions(item_ids)]

    def item_popularity(self, item_ids: list[str]) -> np.ndarray:
        """The non-personalised score (popularity) of known item ids, in the given order."""
        return self._popularity[self._known_positions(item_ids)]

    def _known_positions(self, item_ids: list[str]) -> np.ndarray:
        positions = self._item_index.get_indexer(pd.Index(item_ids, dtype=object))
        if (positions < 0).any():
            missing = item_ids[int(np.flatnonzero(positions < 0)[0])]
            raise KeyError(f"item_id {missing!r} is unknown to model {self.version}")
        return positions

    def _from_features(
        self, features: Sequence[str], index: Mapping[str, int], emb: np.ndarray, bias: np.ndarray
    ) -> tuple[np.ndarray, float] | None:
        rows = [index[f] for f in features if f in index]
        if not rows:
            return None
        weight = 1.0 / len(rows) if self._normalize else 1.0
        return emb[rows].sum(axis=0) * weight, float(bias[rows].sum() * weight)

    def user_vector(self, user_id: str | None, features: Sequence[str] = ()) -> np.ndarray | None:
        """[embedding | 1] for a known user, or from features for a cold one; None if neither.

        None also for every cold user when their scores blend in segment popularity
        (``cold_by_segment``): ``fallback_scores`` then ranks for them.
        """
        state = self._state
        row = self._user_rows.get(user_id, -1) if user_id is not None else -1
        if row >= 0:
            emb = state.user_embedding[row]
        elif self._segment_prefixes:
            return None
        else:
            cold = self._from_features(
                features, self._user_feature_index, state.user_attr_embedding, state.user_attr_bias
            )
            if cold is None:
                return None
            emb = cold[0]
        vector = np.empty(len(emb) + 1, dtype=np.float32)
        vector[:-1], vector[-1] = emb, 1.0
        return vector

    def fallback_scores(
        self, features: Sequence[str] = (), item_ids: list[str] | None = None
    ) -> np.ndarray:
        """Scores for a resident without a vector, over all items or the given known ones.

        With ``cold_by_segment`` and attributes: the model's scores from the attributes blended
        with their segment's popularity (an unseen segment gets the overall rate), as training
        chose. Otherwise plain popularity.
        """
        if self._segment_prefixes and features:
            key = segment_key(features, self._segment_prefixes)
            row = self._segment_rows.get(key, -1)
            segment = self._segment_table[row] if row >= 0 else self._segment_fallback
            state = self._state
            rep = self._from_features(
                features, self._user_feature_index, state.user_attr_embedding, state.user_attr_bias
            )
            model = (
                self._items[:, :-1] @ rep[0] + self._items[:, -1] if rep else np.zeros_like(segment)
            )
            scores = blend_cold(model, segment, self._cold_blend).astype(np.float32)
        else:
            scores = self._popularity
        if item_ids is None:
            return scores.copy()
        return scores[self._known_positions(item_ids)]

    def _seen(self, user_id: str | None) -> np.ndarray:
        if user_id is None:
            return np.zeros(0, dtype=np.int64)
        row = self._user_rows.get(user_id, -1)
        if row < 0:
            return np.zeros(0, dtype=np.int64)
        ptr = self._state.seen_indptr
        return self._state.seen_indices[ptr[row] : ptr[row + 1]]

    def top_k(
        self,
        user_id: str | None,
        k: int,
        *,
        consent: bool = True,
        features: Sequence[str] = (),
        candidates: np.ndarray | None = None,
        exclude: Iterable[str] = (),
        exclude_seen: bool = True,
    ) -> list[ScoredItem]:
        """The k best items for one resident, best first.

        Without ``consent`` the resident's id, history and profile are not used at all: they
        get the non-personalised (popularity) ranking with the same filters. ``candidates`` is
        a mask from ``item_mask`` (e.g. live items); ``exclude`` lists item ids to drop.
        """
        if consent:
            vector = self.user_vector(user_id, features)
        else:
            vector, user_id, features = None, None, ()
        scores = self.fallback_scores(features) if vector is None else self._items @ vector
        if exclude_seen:
            scores[self._seen(user_id)] = -np.inf
        excluded = list(exclude)
        if excluded:
            positions = self._item_index.get_indexer(pd.Index(excluded, dtype=object))
            scores[positions[positions >= 0]] = -np.inf
        # Select among the candidates only: argpartition slows down threefold on an array
        # that is mostly -inf, which is what masking 1,400 of 2,000 items would produce.
        pool = np.flatnonzero(candidates) if candidates is not None else None
        if pool is not None:
            scores = scores[pool]
        n = len(scores)
        k = min(k, n)
        if k <= 0:
            return []
        best = np.argpartition(scores, n - k)[n - k :] if k < n else np.arange(n)
        top = scores[best]
        if pool is not None:
            best = pool[best]
        order = np.lexsort((best, -top))  # by score, ties by item position: deterministic
        best, top = best[order], top[order]
        keep = np.isfinite(top)
        ids = self._item_ids[best[keep]].tolist()
        return [ScoredItem(i, s) for i, s in zip(ids, top[keep].tolist(), strict=True)]

    def with_new_items(self, item_features: Mapping[str, Sequence[str]]) -> Scorer:
        """A scorer that also ranks items unseen in training, represented by their features.

        A new article or ad scores from its tags and category the minute it is published.
        Items already known keep their trained representation. New items start with zero
        popularity.
        """
        state = self._state
        new_ids, rows = [], []
        for item_id, features in item_features.items():
            if self._item_index.get_indexer([item_id])[0] >= 0 or item_id in new_ids:
                continue
            rep = self._from_features(
                features, self._item_feature_index, state.item_attr_embedding, state.item_attr_bias
            )
            vector = np.zeros(self._items.shape[1], dtype=np.float32)
            if rep is not None:
                vector[:-1], vector[-1] = rep
            new_ids.append(item_id)
            rows.append(vector)
        if not new_ids:
            return self
        clone = object.__new__(Scorer)
        clone.__dict__.update(self.__dict__)
        clone._item_ids = np.concatenate([self._item_ids, np.array(new_ids, dtype=object)])
        clone._item_index = pd.Index(clone._item_ids)
        clone._items = np.vstack([self._items, np.stack(rows)])
        padding = np.zeros(len(new_ids), np.float32)
        clone._popularity = np.concatenate([self._popularity, padding])
        if self._segment_prefixes:
            clone._segment_fallback = np.concatenate([self._segment_fallback, padding])
            clone._segment_table = np.hstack(
                [
                    self._segment_table,
                    np.zeros((len(self._segment_table), len(new_ids)), np.float32),
                ]
            )
        return clone


class ScorerHolder:
    """Thread-safe holder of the serving Scorer, reloaded without a restart.

    Readers call ``current`` (a plain attribute read, atomic in CPython); ``reload`` builds
    the new Scorer off to the side and swaps it in under a lock only once it is complete.
    """

    def __init__(
        self, store: str | Path, loader: Callable[[str | Path, str], Artifact] = load_artifact
    ) -> None:
        self._store = store
        self._loader = loader
        self._lock = threading.Lock()
        self._scorer: Scorer | None = None
        self.last_error: str | None = None

    @property
    def store(self) -> Path:
        return Path(self._store)

    @property
    def current(self) -> Scorer | None:
        return self._scorer

    def reload(self) -> bool:
        """Load the promoted version if it changed; True if a new scorer now serves.

        If loading fails, the previous scorer keeps serving and ``last_error`` says why.
        """
        with self._lock:
            version = promoted_version(self._store)
            if version is None:
                self.last_error = f"no promoted model in {self._store}"
                return False
            if self._scorer is not None and self._scorer.version == version:
                return False
            try:
                scorer = Scorer(self._loader(self._store, version))
            except ArtifactError as exc:
                self.last_error = str(exc)
                log.error("model %s not loaded, keeping %s: %s", version, self.version, exc)
                return False
            self._scorer = scorer
            self.last_error = None
            return True

    @property
    def version(self) -> str | None:
        scorer = self._scorer
        return scorer.version if scorer is not None else None
