"""The hidden preference model behind the synthetic city, kept so benchmarks can score relevance.

A resident's interest in an item is a logit: their affinity for the item's category (from age,
household, district, opted-in interests and personal noise) plus a personal latent taste dotted
with the item's latent vector (the mean of its tags' vectors), plus the item's quality. Ads are
items of the same space: a shop category is a mix of article categories and its tags reuse the
article tag vectors, so "childcare shops appeal to young_children households" follows from the
same affinities that drive 子育て articles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_FORMAT = 1


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True, eq=False)
class GroundTruth:
    categories: tuple[str, ...]
    resident_affinity: np.ndarray  # (residents, categories) float32 logits
    resident_taste: np.ndarray  # (residents, latent) float32
    article_category: np.ndarray  # (articles,) int16 index into categories
    article_latent: np.ndarray  # (articles, latent) float32
    article_quality: np.ndarray  # (articles,) float32
    tag_names: tuple[str, ...]
    tag_latent: np.ndarray  # (tags, latent) float32
    shop_categories: tuple[str, ...]
    shop_mix: np.ndarray  # (shop categories, categories) float32
    click_bias: float
    ad_bias: float

    @property
    def n_residents(self) -> int:
        return int(self.resident_affinity.shape[0])

    @property
    def n_articles(self) -> int:
        return int(self.article_category.shape[0])

    def article_logits(self, resident_idx: np.ndarray) -> np.ndarray:
        """Click logits of the given residents for every article: shape (len(idx), articles)."""
        r = np.asarray(resident_idx, dtype=np.int64)
        # One matrix product does both the category lookup (via a one-hot block) and the taste
        # term; it is several times faster than fancy-indexing a (residents, articles) gather.
        left = np.hstack([self.resident_affinity[r], self.resident_taste[r]])
        logits = left @ self._item_block()
        logits += self.article_quality[None, :] + np.float32(self.click_bias)
        return logits

    def _item_block(self) -> np.ndarray:
        onehot = np.zeros((len(self.categories), self.n_articles), dtype=np.float32)
        onehot[self.article_category, np.arange(self.n_articles)] = 1.0
        return np.vstack([onehot, self.article_latent.T.astype(np.float32)])

    def article_click_probability(
        self, resident_idx: np.ndarray, article_idx: np.ndarray
    ) -> np.ndarray:
        """P(click | the article is shown) for each (resident, article) pair (broadcast)."""
        r, a = np.broadcast_arrays(
            np.asarray(resident_idx, dtype=np.int64), np.asarray(article_idx, dtype=np.int64)
        )
        logit = (
            self.resident_affinity[r, self.article_category[a]]
            + np.einsum("...k,...k->...", self.resident_taste[r], self.article_latent[a])
            + self.article_quality[a]
            + self.click_bias
        )
        return sigmoid(logit)

    def tags_latent(self, tags: Sequence[str]) -> np.ndarray:
        """Mean latent vector of the known tags; unknown tags carry no signal."""
        index = {name: i for i, name in enumerate(self.tag_names)}
        rows = [index[t] for t in tags if t in index]
        if not rows:
            return np.zeros(self.tag_latent.shape[1], dtype=np.float32)
        return self.tag_latent[rows].mean(axis=0)

    def ad_click_probability(
        self, resident_idx: np.ndarray, shop_category: str, tags: Sequence[str] = ()
    ) -> np.ndarray:
        """P(click | an ad of this shop category with these tags is shown) per resident."""
        if shop_category not in self.shop_categories:
            raise ValueError(
                f"unknown shop_category {shop_category!r}; expected one of {self.shop_categories}"
            )
        r = np.asarray(resident_idx, dtype=np.int64)
        mix = self.shop_mix[self.shop_categories.index(shop_category)]
        logit = self.resident_affinity[r] @ mix + self.resident_taste[r] @ self.tags_latent(tags)
        return sigmoid(logit + self.ad_bias)

    def save(self, path: str | Path) -> None:
        """Write to a .npz file (no pickle, so loading runs no code)."""
        with open(path, "wb") as fh:
            np.savez_compressed(
                fh,
                format=np.array(_FORMAT),
                categories=np.array(self.categories),
                resident_affinity=self.resident_affinity,
                resident_taste=self.resident_taste,
                article_category=self.article_category,
                article_latent=self.article_latent,
                article_quality=self.article_quality,
                tag_names=np.array(self.tag_names),
                tag_latent=self.tag_latent,
                shop_categories=np.array(self.shop_categories),
                shop_mix=self.shop_mix,
                biases=np.array([self.click_bias, self.ad_bias]),
            )

    @classmethod
    def load(cls, path: str | Path) -> GroundTruth:
        with np.load(path, allow_pickle=False) as data:
            if int(data["format"]) != _FORMAT:
                raise ValueError(f"{path}: ground-truth format {int(data['format'])} unsupported")
            biases = data["biases"]
            return cls(
                categories=tuple(str(c) for c in data["categories"]),
                resident_affinity=data["resident_affinity"],
                resident_taste=data["resident_taste"],
                article_category=data["article_category"],
                article_latent=data["article_latent"],
                article_quality=data["article_quality"],
                tag_names=tuple(str(t) for t in data["tag_names"]),
                tag_latent=data["tag_latent"],
                shop_categories=tuple(str(s) for s in data["shop_categories"]),
                shop_mix=data["shop_mix"],
                click_bias=float(biases[0]),
                ad_bias=float(biases[1]),
            )
