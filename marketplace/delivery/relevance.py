"""How relevant an item is to a resident: the scorer protocol and a content-based scorer.

The decision code depends only on `RelevanceScorer`. The LightFM hybrid from `recommender/`
plugs in through an adapter; `TagProfileScorer` is a transparent content-based scorer built from
residents' interaction history, used when no trained model is available.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from marketplace.delivery.types import AdCandidate, Audience, FeedArticle
from marketplace.lru import LruCache

INTEREST_BONUS = 0.05
PREPARED_CACHE = 256
# Item-feature matrices up to this many cells are kept dense: a BLAS matrix-vector product on
# a few hundred articles costs a few microseconds, the sparse one ten times that in overhead.
DENSE_CELLS = 2_000_000

# (feature -> column, items × columns matrix, vocabulary id -> column or the spare last one)
Prepared = tuple[dict[str, int], "np.ndarray | sp.csr_matrix", np.ndarray]
# A profile as parallel arrays: vocabulary ids and their weights.
ProfileArrays = tuple[np.ndarray, np.ndarray]
NO_PROFILE: ProfileArrays = (np.zeros(0, dtype=np.intp), np.zeros(0))


@dataclass(frozen=True)
class ScoredItem:
    """An item as a scorer sees it: an id and its descriptive features."""

    item_id: str
    features: tuple[str, ...]


def ad_item(ad: AdCandidate) -> ScoredItem:
    return ScoredItem(
        ad.item_id,
        ("kind:ad", f"shop_category:{ad.shop_category}", *(f"tag:{t}" for t in ad.tags)),
    )


def article_item(article: FeedArticle) -> ScoredItem:
    return ScoredItem(
        article.item_id,
        ("kind:article", f"category:{article.category}", *(f"tag:{t}" for t in article.tags)),
    )


class RelevanceScorer(Protocol):
    def score(self, audience: Audience, items: Sequence[ScoredItem]) -> list[float]:
        """Scores comparable within this audience's list only; higher is more relevant."""
        ...


def score_many(
    scorer: RelevanceScorer, audiences: Sequence[Audience], items: Sequence[ScoredItem]
) -> np.ndarray:
    """Scores of many residents (rows) for the same items (columns), as `scorer.score` gives.

    Scorers that can do it in bulk offer a `score_many` method; others are asked one by one.
    """
    bulk = getattr(scorer, "score_many", None)
    if bulk is not None:
        return np.asarray(bulk(audiences, items), dtype=np.float64)
    if not audiences:
        return np.zeros((0, len(items)))
    return np.array([scorer.score(audience, items) for audience in audiences], dtype=np.float64)


class UniformScorer:
    """Everything equally relevant: the non-personalized rotation."""

    def score(self, audience: Audience, items: Sequence[ScoredItem]) -> list[float]:
        return [0.0] * len(items)


def segment_key(age_band: str | None, household: str | None) -> str:
    return f"{age_band or '-'}|{household or '-'}"


class TagProfileScorer:
    """Content-based relevance: a resident's feature profile dotted with an item's features.

    A profile is the tf-idf-weighted sum of the features of the items the resident engaged
    with. Residents without history fall back to their segment's (age band × household)
    profile, so new residents are scored from attributes alone, and new items from their tags.
    An item without a category (an ad) borrows the categories its tags are used with in
    articles, so a shop that writes 「子育て」 tags reaches residents who read about 子育て.
    """

    def __init__(
        self,
        profiles: Mapping[str, Mapping[str, float]],
        segment_profiles: Mapping[str, Mapping[str, float]],
        tag_categories: Mapping[str, str] | None = None,
    ) -> None:
        # Every profile feature gets a vocabulary id, and each profile is kept as two arrays:
        # scoring then fills a weight vector with one numpy assignment instead of a loop.
        self._vocabulary: dict[str, int] = {}
        self._profiles = {key: self._arrays(p) for key, p in profiles.items() if p}
        self._segments = {key: self._arrays(p) for key, p in segment_profiles.items() if p}
        self._tag_categories = dict(tag_categories or {})
        self._matrices: LruCache[tuple[str, ...], Prepared] = LruCache(PREPARED_CACHE)
        # The item list scored last (a snapshot's articles): found by identity, without hashing.
        self._last: tuple[Sequence[ScoredItem], Prepared] | None = None

    @classmethod
    def fit(
        cls,
        engagements: Iterable[tuple[str, str | None, str | None, Sequence[str]]],
    ) -> TagProfileScorer:
        """Build from (resident key, age band, household, features of the engaged item)."""
        counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        segments: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        document_frequency: dict[str, int] = defaultdict(int)
        tag_category: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        total = 0
        for key, age_band, household, features in engagements:
            total += 1
            categories = [f for f in features if f.startswith("category:")]
            for feature in features:
                if feature.startswith("tag:"):
                    for category in categories:
                        tag_category[feature][category] += 1
                counts[key][feature] += 1.0
                segments[segment_key(age_band, household)][feature] += 1.0
                document_frequency[feature] += 1
        idf = {f: math.log((1 + total) / (1 + n)) + 1.0 for f, n in document_frequency.items()}
        borrowed = {tag: max(c, key=lambda k: c[k]) for tag, c in tag_category.items()}
        return cls(_normalise(counts, idf), _normalise(segments, idf), borrowed)

    def _profile(self, audience: Audience) -> ProfileArrays:
        profile = None
        if audience.recommender_id is not None:
            profile = self._profiles.get(audience.recommender_id)
        if profile is None:
            segment = segment_key(audience.age_band, audience.household)
            profile = self._segments.get(segment, NO_PROFILE)
        return profile

    def score(self, audience: Audience, items: Sequence[ScoredItem]) -> list[float]:
        if not items:
            return []
        profile = self._profile(audience)
        index, matrix, to_column = self._prepared(items)
        # One spare last column takes the profile's features that none of these items has.
        weights = np.zeros(matrix.shape[1] + 1, dtype=np.float64)
        ids, values = profile
        weights[to_column[ids]] = values  # ids are unique, so are their item columns
        for interest in audience.interests:
            column = index.get(f"category:{interest}")
            if column is not None:
                weights[column] += INTEREST_BONUS
        scores: list[float] = (matrix @ weights[:-1]).tolist()
        return scores

    def score_many(self, audiences: Sequence[Audience], items: Sequence[ScoredItem]) -> np.ndarray:
        """`score` for many residents at once: one sparse-by-dense product for all of them."""
        if not items or not audiences:
            return np.zeros((len(audiences), len(items)))
        index, matrix, to_column = self._prepared(items)
        spare = matrix.shape[1]
        rows: list[np.ndarray] = []
        columns: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for row, audience in enumerate(audiences):
            ids, weights = self._profile(audience)
            mapped = to_column[ids]
            kept = mapped < spare
            interests = [index.get(f"category:{i}") for i in audience.interests]
            bonus = np.array([c for c in interests if c is not None], dtype=np.intp)
            columns += [mapped[kept], bonus]
            values += [weights[kept], np.full(len(bonus), INTEREST_BONUS)]
            rows.append(np.full(int(kept.sum()) + len(bonus), row, dtype=np.intp))
        # Repeated (row, column) pairs are summed, as `score` adds a bonus to a profile weight.
        profile_matrix = sp.csr_matrix(
            (np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))),
            shape=(len(audiences), spare),
        )
        product = profile_matrix @ matrix.T
        return np.asarray(product.toarray() if sp.issparse(product) else product)

    def _arrays(self, profile: Mapping[str, float]) -> ProfileArrays:
        vocabulary = self._vocabulary
        ids = np.fromiter(
            (vocabulary.setdefault(f, len(vocabulary)) for f in profile),
            dtype=np.intp,
            count=len(profile),
        )
        return ids, np.fromiter(profile.values(), dtype=np.float64, count=len(profile))

    def _prepared(self, items: Sequence[ScoredItem]) -> Prepared:
        """Items as a matrix of their (expanded) features, each row scaled by 1/√n.

        Cached per item list: a feed scores the same live articles until the next refresh.
        """
        last = self._last
        if last is not None and last[0] is items:
            return last[1]
        key = tuple(item.item_id for item in items)
        cached = self._matrices.get(key)
        if cached is not None:
            if isinstance(items, tuple):
                self._last = (items, cached)
            return cached
        index: dict[str, int] = {}
        rows, columns, values = [], [], []
        for row, item in enumerate(items):
            features = self._expand(item.features)
            for feature in features:
                rows.append(row)
                columns.append(index.setdefault(feature, len(index)))
                values.append(1.0 / math.sqrt(len(features)))
        shape = (len(items), max(1, len(index)))
        sparse = sp.csr_matrix((values, (rows, columns)), shape=shape)
        matrix = sparse.toarray() if shape[0] * shape[1] <= DENSE_CELLS else sparse
        spare = shape[1]
        to_column = np.full(len(self._vocabulary), spare, dtype=np.intp)
        for feature, column in index.items():
            vocabulary_id = self._vocabulary.get(feature)
            if vocabulary_id is not None:
                to_column[vocabulary_id] = column
        prepared = (index, matrix, to_column)
        self._matrices.put(key, prepared)
        if isinstance(items, tuple):  # immutable, so identity means the same items
            self._last = (items, prepared)
        return prepared

    def _expand(self, features: tuple[str, ...]) -> tuple[str, ...]:
        if any(f.startswith("category:") for f in features):
            return features
        borrowed = [self._tag_categories[f] for f in features if f in self._tag_categories]
        return features + tuple(borrowed)


def _normalise(
    raw: Mapping[str, Mapping[str, float]], idf: Mapping[str, float]
) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for key, features in raw.items():
        weighted = {f: v * idf[f] for f, v in features.items()}
        norm = math.sqrt(sum(v * v for v in weighted.values())) or 1.0
        out[key] = {f: 10.0 * v / norm for f, v in weighted.items()}
    return out


class AdRelevance:
    """An ad's relevance to a resident as the percentile of their score among residents.

    Raw recommender scores do not compare across residents, but for one ad, ranking residents
    by their score is meaningful. Each ad is scored once against a reference sample of
    consenting residents; a resident's relevance is where their score falls in that sample.
    Residents who are not personalized get None: the pacing rule supplies a neutral value.
    """

    def __init__(
        self, scorer: RelevanceScorer, reference: Sequence[Audience], cache_size: int = 20_000
    ) -> None:
        self.scorer = scorer
        self._reference = [a for a in reference if a.personalized]
        self._sorted: dict[str, list[float]] = {}
        # resident -> {ad item -> relevance}, for the last `cache_size` residents seen; both
        # are immutable for this scorer's lifetime. Bounded by residents, not pairs: a worker's
        # memory stays flat however many ads are live.
        self._cache: LruCache[str | None, dict[str, float]] = LruCache(cache_size)

    def of(self, audience: Audience, ads: Sequence[AdCandidate]) -> list[float] | None:
        if not audience.personalized or not self._reference:
            return None
        resident = audience.recommender_id
        known = self._cache.get(resident)
        if known is None:
            known = self._cache.put(resident, {})
        missing = [ad for ad in ads if ad.item_id not in known]
        if missing:
            items = [ad_item(ad) for ad in missing]
            scores = self.scorer.score(audience, items)
            for item, score in zip(items, scores, strict=True):
                known[item.item_id] = self._percentile(item, score)
        return [known[ad.item_id] for ad in ads]

    def fill(self, audiences: Sequence[Audience], ads: Sequence[AdCandidate]) -> int:
        """Work out the relevance of `ads` for many residents at once, ahead of their visits.

        What `of` would compute on each resident's first feed, in bulk: one scoring pass for
        all of them. Returns how many residents were filled in (at most the cache's size).
        """
        audiences = [a for a in audiences if a.personalized][-self._cache.size :]
        items = list({ad.item_id: ad_item(ad) for ad in ads}.values())
        if not audiences or not items or not self._reference:
            return 0
        scores = score_many(self.scorer, audiences, items)
        percentiles = np.empty_like(scores)
        for column, item in enumerate(items):
            reference = np.asarray(self._reference_scores(item))
            below = np.searchsorted(reference, scores[:, column], side="left")
            upto = np.searchsorted(reference, scores[:, column], side="right")
            percentiles[:, column] = ((below + upto) / 2 + 0.5) / (len(reference) + 1)
        ids = [item.item_id for item in items]
        for audience, row in zip(audiences, percentiles.tolist(), strict=True):
            known = dict(self._cache.get(audience.recommender_id) or {})
            known.update(zip(ids, row, strict=True))
            self._cache.put(audience.recommender_id, known)  # whole: readers see either
        return len(audiences)

    def _reference_scores(self, item: ScoredItem) -> list[float]:
        reference = self._sorted.get(item.item_id)
        if reference is None:
            reference = sorted(self.scorer.score(a, [item])[0] for a in self._reference)
            self._sorted[item.item_id] = reference
        return reference

    def _percentile(self, item: ScoredItem, score: float) -> float:
        reference = self._reference_scores(item)
        # bisect on a list: a numpy search costs more in call overhead than in searching.
        below = bisect.bisect_left(reference, score)
        upto = bisect.bisect_right(reference, score)
        return float((below + upto) / 2 + 0.5) / (len(reference) + 1)
