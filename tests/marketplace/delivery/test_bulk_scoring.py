"""Scoring many residents at once gives what scoring them one by one gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from marketplace.delivery import relevance
from marketplace.delivery.recommender_scorer import HeldRecommenderScorer, RecommenderScorer
from marketplace.delivery.relevance import (
    AdRelevance,
    ScoredItem,
    TagProfileScorer,
    UniformScorer,
    score_many,
)
from marketplace.delivery.types import Audience
from recommender.artifact import ModelState, load_artifact, promote, save_artifact
from recommender.dataset import Dataset
from recommender.model import LightFMRecommender
from recommender.scorer import Scorer, ScorerHolder
from tests.support import delivery_factories
from tests.support.recommender_world import small_world

CATEGORIES = ("子育て", "健康・医療", "イベント", "防災")
ENGAGEMENTS = [
    (f"r{n}", ("30s", "70s")[n % 2], ("family", "single")[n % 3 % 2],
     (f"category:{CATEGORIES[(n + k) % 4]}", f"tag:t{(n * k) % 7}"))
    for n in range(40)
    for k in range(n % 5 + 1)
]  # fmt: skip
ARTICLES = tuple(
    ScoredItem(f"article:{i}", ("kind:article", f"category:{CATEGORIES[i % 4]}", f"tag:t{i % 7}"))
    for i in range(30)
)
AUDIENCES = [
    Audience(f"r{n}", "30s", "family", interests=("防災",) if n % 3 == 0 else (), consent=True)
    for n in range(45)  # r40..r44 have no history: their segment's profile
] + [
    Audience("newcomer", "70s", "single", interests=("子育て", "子育て"), consent=True),
    Audience("elsewhere", "20s", None, consent=True),  # no segment profile either
    Audience(None),
]


@pytest.mark.parametrize("dense_cells", [0, relevance.DENSE_CELLS])
def test_tag_profiles_score_many_residents_as_one_by_one(
    monkeypatch: pytest.MonkeyPatch, dense_cells: int
) -> None:
    monkeypatch.setattr(relevance, "DENSE_CELLS", dense_cells)
    scorer = TagProfileScorer.fit(ENGAGEMENTS)
    bulk = score_many(scorer, AUDIENCES, ARTICLES)
    single = np.array([scorer.score(a, ARTICLES) for a in AUDIENCES])
    assert bulk.shape == (len(AUDIENCES), len(ARTICLES))
    np.testing.assert_allclose(bulk, single, rtol=1e-12, atol=1e-12)
    assert len({tuple(row) for row in bulk.round(9)}) > 10  # residents do differ


def test_scorers_without_bulk_scoring_are_asked_one_by_one() -> None:
    assert score_many(UniformScorer(), AUDIENCES[:3], ARTICLES).tolist() == [[0.0] * 30] * 3
    assert score_many(UniformScorer(), [], ARTICLES).shape == (0, 30)


@pytest.fixture(scope="module")
def lightfm_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    interactions, users, items = small_world()
    config = {"no_components": 8, "epochs": 10, "learning_rate": 0.1}
    fitted = LightFMRecommender(config).fit(Dataset.construct(interactions, users, items))
    store = tmp_path_factory.mktemp("store")
    info = save_artifact(store, ModelState.from_model(fitted), code_version="test")
    promote(store, info.version)
    return store


@pytest.fixture(scope="module")
def lightfm(lightfm_store: Path) -> Scorer:
    return Scorer(load_artifact(lightfm_store))


def test_the_lightfm_adapter_scores_many_residents_as_one_by_one(lightfm: Scorer) -> None:
    items = [ScoredItem(f"i{i:02d}", ()) for i in range(0, 20, 3)] + [
        ScoredItem("ad:1", ("kind:ad", "category:子育て", "tag:t1")),  # new: from its features
        ScoredItem("ad:2", ("tag:t3",)),
    ]
    audiences = [
        Audience("u00", consent=True),  # known to the model
        Audience("u01", "70+", "elderly_only", consent=True),
        Audience("stranger", "30-39", "young_children", consent=True),  # cold: from features
        Audience("stranger", "30-39", "young_children", consent=False),  # popularity
        Audience("nobody", consent=True),  # neither known nor described: popularity
        Audience(None),
    ]
    adapter = RecommenderScorer(lightfm)
    bulk = adapter.score_many(audiences, items)
    single = np.array([RecommenderScorer(lightfm).score(a, items) for a in audiences])
    np.testing.assert_allclose(bulk, single, rtol=1e-5, atol=1e-6)
    assert not np.allclose(bulk[0], bulk[1])


def test_the_held_scorer_scores_many_with_the_model_it_serves(
    lightfm_store: Path, tmp_path: Path
) -> None:
    items = [ScoredItem("i00", ()), ScoredItem("i11", ())]
    audiences = [Audience("u00", consent=True), Audience("u01", consent=True)]
    nothing_yet = HeldRecommenderScorer(ScorerHolder(tmp_path))
    assert nothing_yet.score_many(audiences, items).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    holder = ScorerHolder(lightfm_store)
    assert holder.reload() and holder.current is not None
    np.testing.assert_allclose(
        HeldRecommenderScorer(holder).score_many(audiences, items),
        RecommenderScorer(holder.current).score_many(audiences, items),
    )


def test_ad_relevance_filled_ahead_equals_what_a_first_feed_works_out() -> None:
    scorer = TagProfileScorer.fit(ENGAGEMENTS)
    reference = [a for a in AUDIENCES if a.personalized][:20]
    ads = [
        delivery_factories.ad(1, tags=("t1",)),
        delivery_factories.ad(2, tags=("t4",), shop_category="clinic"),
        delivery_factories.ad(3),
    ]
    on_demand = AdRelevance(scorer, reference)
    ahead = AdRelevance(scorer, reference)
    assert ahead.fill(AUDIENCES, ads) == len([a for a in AUDIENCES if a.personalized])
    expected = [on_demand.of(audience, ads) for audience in AUDIENCES]
    calls = 0
    original = scorer.score

    def counting(audience: Audience, items: list[ScoredItem]) -> list[float]:
        nonlocal calls
        calls += 1
        return original(audience, items)

    scorer.score = counting  # type: ignore[method-assign]
    filled = [ahead.of(audience, ads) for audience in AUDIENCES]
    assert calls == 0  # served from what was filled in, nothing scored
    assert filled[-1] is None and expected[-1] is None  # the anonymous visitor
    for got, want in zip(filled[:-1], expected[:-1], strict=True):
        assert got == pytest.approx(want, abs=1e-9)
