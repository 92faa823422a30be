"""Exploration: a small, bounded share of article positions shows fresh articles.

A new article is scored from its tags the minute it is published, but it has no history of its
own, so the model ranks it below an equal article residents already read, and without being
shown it never earns that history before the next training. These pure rules give fresh
articles a chance:

* only regular article positions explore: notices stay pinned above them and ad slots are
  placed by the feed policy afterwards, so an explored article is never above an urgent notice
  and never takes an ad's place;
* at most one position per feed, at ``position`` among the regular articles, and on average
  ``share`` of the visible article positions (a feed explores with probability
  ``share x visible positions``);
* a fresh article is shown only to residents it fits: the model must rank it within their top
  ``fit_depth`` articles, so it goes to residents whose attributes and reading are close to its
  tags, never at random;
* which residents explore which article is a keyed hash of the two, so a resident sees the same
  feed on every request while the article is fresh, and the choice needs no stored state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from marketplace.delivery.types import FeedArticle


class ExplorationRulesError(ValueError):
    """The configured exploration is out of bounds."""


@dataclass(frozen=True)
class ExplorationRules:
    share: float = 0.05  # of the visible regular-article positions, on average
    fresh_hours: float = 72.0  # an article this recent is fresh
    position: int = 5  # where among the regular articles an explored one goes (1-based)
    fit_depth: int = 30  # the model must rank the fresh article within the resident's top N
    max_share: float = 0.2  # the bound a configuration may not exceed

    def __post_init__(self) -> None:
        if not 0.0 <= self.share <= self.max_share:
            raise ExplorationRulesError(f"exploration share must be between 0 and {self.max_share}")
        if self.fresh_hours <= 0 or self.position < 1 or self.fit_depth < 1:
            raise ExplorationRulesError("fresh_hours, position and fit_depth must be positive")

    def feed_probability(self, visible: int) -> float:
        """Chance that one feed with ``visible`` regular-article positions explores."""
        return min(1.0, self.share * max(visible, 0))


def fresh_mask(
    articles: Sequence[FeedArticle], now: datetime, rules: ExplorationRules
) -> np.ndarray:
    """Which of ``articles`` are fresh at ``now``."""
    since = now - timedelta(hours=rules.fresh_hours)
    return np.array([since <= a.published_at <= now for a in articles], dtype=bool)


def draw(resident: str, item: str) -> float:
    """A uniform number in [0, 1) fixed for this resident and article."""
    digest = hashlib.blake2b(f"{resident}\x00{item}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def explore(
    scores: np.ndarray,
    top: np.ndarray,
    fresh: np.ndarray,
    residents: Sequence[str],
    item_ids: Sequence[str],
    rules: ExplorationRules,
    visible: int,
) -> np.ndarray:
    """Rankings (``top``: rows of article columns, best first) with fresh articles explored.

    ``scores`` are the model's scores behind ``top`` (residents x articles); ``fresh`` marks
    fresh articles; ``visible`` is how many regular articles a feed shows. Returns a new array;
    rows that do not explore are unchanged.
    """
    out = top.copy()
    if rules.share == 0 or not fresh.any() or top.shape[1] == 0:
        return out
    chance = rules.feed_probability(min(visible, top.shape[1]))
    slot = min(rules.position, visible, top.shape[1]) - 1
    depth = min(rules.fit_depth, scores.shape[1])
    for row, resident in enumerate(residents):
        shown = set(out[row, :visible].tolist())
        # The resident's top `fit_depth` articles by the model, best first.
        best = np.argsort(-scores[row], kind="stable")[:depth]
        picks = [int(c) for c in best if fresh[c] and int(c) not in shown]
        if not picks or draw(resident, item_ids[picks[0]]) >= chance:
            continue
        chosen = picks[0]
        rest = [c for c in out[row].tolist() if c != chosen]
        out[row] = np.array([*rest[:slot], chosen, *rest[slot:]], dtype=out.dtype)[: top.shape[1]]
    return out
