from __future__ import annotations

import pytest

from marketplace.delivery import relevance
from marketplace.delivery.relevance import AdRelevance, ScoredItem, TagProfileScorer
from marketplace.delivery.types import Audience
from tests.support import delivery_factories

ITEMS = (
    ScoredItem("article:1", ("kind:article", "category:sports", "tag:ski")),
    ScoredItem("article:2", ("kind:article", "category:health", "tag:clinic")),
    ScoredItem("ad:3", ("kind:ad", "tag:ski")),
)
ENGAGEMENTS = [
    ("r1", "30s", "family", ("category:sports", "tag:ski")),
    ("r1", "30s", "family", ("category:sports", "tag:skate")),
    ("r2", "70s", "single", ("category:health", "tag:clinic")),
]


def scorer() -> TagProfileScorer:
    return TagProfileScorer.fit(ENGAGEMENTS)


@pytest.mark.parametrize("dense_cells", [0, relevance.DENSE_CELLS])
def test_dense_and_sparse_item_matrices_score_alike(
    monkeypatch: pytest.MonkeyPatch, dense_cells: int
) -> None:
    monkeypatch.setattr(relevance, "DENSE_CELLS", dense_cells)
    scores = scorer().score(Audience("r1", consent=True), ITEMS)
    assert scores[0] > scores[1] and scores[2] > scores[1]  # an ad borrows sports via ski
    assert all(isinstance(s, float) for s in scores)


def test_the_same_items_score_alike_by_identity_or_by_value() -> None:
    s = scorer()
    audience = Audience("r2", consent=True)
    first = s.score(audience, ITEMS)
    assert s.score(audience, ITEMS) == first  # the identity cache
    assert s.score(audience, list(ITEMS)) == first  # the same ids, another list
    other = (ITEMS[1], ITEMS[0], ITEMS[2])
    assert s.score(audience, other) == [first[1], first[0], first[2]]


def test_ad_relevance_is_the_percentile_among_reference_residents() -> None:
    reference = [Audience(f"r{n}", consent=True) for n in (1, 2)]
    ads = AdRelevance(scorer(), reference)
    ad = delivery_factories.ad(1, tags=("ski",))
    skier, patient = ads.of(reference[0], [ad]), ads.of(reference[1], [ad])
    assert skier is not None and patient is not None
    assert skier[0] > patient[0]
    assert ads.of(Audience("anon-like", consent=False), [ad]) is None
