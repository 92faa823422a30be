"""The LightFM hybrid from `recommender/` as delivery's relevance scorer.

Articles and ads are scored as items of the same model. Ads are new items for the model: they
are represented from their features (kind, shop category, tags), the way a brand-new article
is. Residents the model has not seen are scored from their attribute features.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from marketplace.delivery.relevance import ScoredItem
from marketplace.delivery.types import Audience
from recommender.scorer import Scorer, ScorerHolder


def user_features(audience: Audience) -> list[str]:
    features = []
    if audience.age_band:
        features.append(f"age:{audience.age_band}")
    if audience.household:
        features.append(f"household:{audience.household}")
    if audience.district:
        features.append(f"district:{audience.district}")
    features.extend(f"interest:{i}" for i in audience.interests)
    return features


class RecommenderScorer:
    """Adapts `recommender.scorer.Scorer` to `RelevanceScorer`; items unknown to it are added."""

    def __init__(self, scorer: Scorer) -> None:
        self.base = scorer
        self._scorer = scorer
        self._known: set[str] = {str(i) for i in scorer.item_ids}

    def _knowing(self, items: Sequence[ScoredItem]) -> Scorer:
        new = {i.item_id: i.features for i in items if i.item_id not in self._known}
        if new:
            # Replaced, never mutated: concurrent readers keep the scorer they started with.
            self._scorer = self._scorer.with_new_items(new)
            self._known = self._known | set(new)
        return self._scorer

    def score_many(self, audiences: Sequence[Audience], items: Sequence[ScoredItem]) -> np.ndarray:
        """`score` for many residents at once: one matrix product for all their vectors."""
        if not items or not audiences:
            return np.zeros((len(audiences), len(items)))
        scorer = self._knowing(items)
        ids = [i.item_id for i in items]
        scores = np.empty((len(audiences), len(ids)))
        vectors = [
            scorer.user_vector(a.recommender_id, user_features(a)) if a.personalized else None
            for a in audiences
        ]
        known = [(row, vector) for row, vector in enumerate(vectors) if vector is not None]
        if known:
            users = np.vstack([vector for _, vector in known])
            scores[[row for row, _ in known]] = users @ scorer.item_matrix(ids).T
        for row, vector in enumerate(vectors):
            if vector is None:  # what `top_k` ranks them by
                audience = audiences[row]
                features = user_features(audience) if audience.personalized else []
                scores[row] = scorer.fallback_scores(features, ids)
        return scores

    def score(self, audience: Audience, items: Sequence[ScoredItem]) -> list[float]:
        if not items:
            return []
        scorer = self._knowing(items)
        ids = [i.item_id for i in items]
        ranked = scorer.top_k(
            audience.recommender_id,
            len(ids),
            consent=audience.personalized,
            features=user_features(audience),
            candidates=scorer.item_mask(ids),
            exclude_seen=False,
        )
        found = {r.item_id: r.score for r in ranked}
        floor = min(found.values(), default=0.0) - 1.0
        return [float(found.get(i, floor)) for i in ids]


class HeldRecommenderScorer:
    """Scores with whatever model the holder serves right now, so a promotion takes effect
    without a restart: each call reads ``holder.current`` (one attribute read)."""

    def __init__(self, holder: ScorerHolder) -> None:
        self.holder = holder
        self._adapter: RecommenderScorer | None = None

    def _adapter_now(self) -> RecommenderScorer | None:
        current = self.holder.current
        if current is None:
            return None
        adapter = self._adapter
        if adapter is None or adapter.base is not current:
            # New ads are added to the new model afresh; the old adapter is dropped whole.
            adapter = self._adapter = RecommenderScorer(current)
        return adapter

    def score(self, audience: Audience, items: Sequence[ScoredItem]) -> list[float]:
        adapter = self._adapter_now()
        if adapter is None:
            return [0.0] * len(items)
        return adapter.score(audience, items)

    def score_many(self, audiences: Sequence[Audience], items: Sequence[ScoredItem]) -> np.ndarray:
        adapter = self._adapter_now()
        if adapter is None:
            return np.zeros((len(audiences), len(items)))
        return adapter.score_many(audiences, items)


__all__ = ["HeldRecommenderScorer", "RecommenderScorer"]
