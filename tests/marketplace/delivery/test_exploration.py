from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from marketplace.delivery.exploration import (
    ExplorationRules,
    ExplorationRulesError,
    draw,
    explore,
    fresh_mask,
)
from tests.support.delivery_factories import article

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
N_ARTICLES = 40
IDS = [f"article:{i}" for i in range(N_ARTICLES)]


def _world(n_residents: int, fresh_rank: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores where every resident ranks articles 0..39 in order, except that the fresh
    article 39 sits at `fresh_rank` (0-based) in their ranking."""
    scores = np.tile(np.arange(N_ARTICLES, 0, -1, dtype=float), (n_residents, 1))
    scores[:, 39] = scores[0, fresh_rank] + 0.5
    top = np.argsort(-scores, axis=1, kind="stable")[:, :20]
    fresh = np.zeros(N_ARTICLES, dtype=bool)
    fresh[39] = True
    return scores, top, fresh


def test_fresh_articles_are_recent_ones() -> None:
    articles = [
        replace(article(1), published_at=NOW - timedelta(hours=2)),
        replace(article(2), published_at=NOW - timedelta(days=5)),
        replace(article(3), published_at=NOW + timedelta(hours=1)),  # scheduled, not live yet
    ]
    assert fresh_mask(articles, NOW, ExplorationRules()).tolist() == [True, False, False]


def test_a_bounded_share_of_fitting_residents_sees_the_fresh_article_at_the_slot() -> None:
    rules = ExplorationRules(share=0.05, position=5, fit_depth=30)
    residents = [f"r{i}" for i in range(4000)]
    scores, top, fresh = _world(len(residents), fresh_rank=15)
    out = explore(scores, top, fresh, residents, IDS, rules, visible=8)
    explored = (out[:, :8] == 39).any(axis=1)
    # Feeds explore with probability share x visible positions = 0.4, one position each.
    assert explored.mean() == pytest.approx(0.4, abs=0.03)
    assert (out[explored, 4] == 39).all()  # the fifth regular article
    # Per article position, the share stays at the configured 5%.
    assert explored.sum() / (len(residents) * 8) == pytest.approx(0.05, abs=0.004)
    # Everything else keeps its order, shifted by one below the slot; rows not chosen are as
    # they were.
    row = int(np.flatnonzero(explored)[0])
    assert out[row, :4].tolist() == top[row, :4].tolist()
    assert out[row, 5:].tolist() == [c for c in top[row].tolist() if c != 39][4:19]
    assert (out[~explored] == top[~explored]).all()
    # The same resident gets the same feed every time.
    again = explore(scores, top, fresh, residents, IDS, rules, visible=8)
    assert (again == out).all()


def test_residents_the_article_does_not_fit_never_see_it() -> None:
    rules = ExplorationRules(share=0.2, fit_depth=10)
    residents = [f"r{i}" for i in range(500)]
    scores, top, fresh = _world(len(residents), fresh_rank=25)  # outside their top 10
    out = explore(scores, top, fresh, residents, IDS, rules, visible=8)
    assert (out == top).all()


def test_an_article_already_visible_is_not_explored_twice_and_zero_share_is_off() -> None:
    residents = [f"r{i}" for i in range(200)]
    scores, top, fresh = _world(len(residents), fresh_rank=2)
    rules = ExplorationRules(share=0.2)
    assert (explore(scores, top, fresh, residents, IDS, rules, visible=8) == top).all()
    scores, top, fresh = _world(len(residents), fresh_rank=15)
    off = ExplorationRules(share=0.0)
    assert (explore(scores, top, fresh, residents, IDS, off, visible=8) == top).all()


def test_rules_are_bounded() -> None:
    with pytest.raises(ExplorationRulesError, match=r"between 0 and 0\.2"):
        ExplorationRules(share=0.5)
    with pytest.raises(ExplorationRulesError):
        ExplorationRules(position=0)
    assert ExplorationRules(share=0.05).feed_probability(8) == pytest.approx(0.4)
    assert 0.0 <= draw("r1", "article:1") < 1.0
    assert draw("r1", "article:1") == draw("r1", "article:1") != draw("r2", "article:1")
