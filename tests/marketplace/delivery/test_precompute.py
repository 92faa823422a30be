"""Known residents' rankings and ad relevance are worked out ahead, and feeds stay the same."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from marketplace.db import make_session_factory, utcnow
from marketplace.delivery.precompute import ResidentPrecompute, known_residents
from marketplace.delivery.relevance import AdRelevance, ScoredItem, TagProfileScorer
from marketplace.delivery.service import DeliveryService, FeedArticle
from marketplace.delivery.tracking import TokenSigner
from marketplace.delivery.types import Audience
from marketplace.delivery.writer import EventWriter
from marketplace.models import Article, InteractionEvent, Resident
from marketplace.vocab import ARTICLE_CATEGORIES, AgeBand, ArticlePriority, Household
from marketplace.vocab import InteractionKind as Kind
from tests.support.delivery_world import build_world

CATEGORIES = ARTICLE_CATEGORIES[:4]
BANDS = (AgeBand.AGE_30S, AgeBand.AGE_70_PLUS)
HOUSEHOLDS = (Household.YOUNG_CHILDREN, Household.ELDERLY_ONLY)


class CountingScorer:
    """A scorer that counts the residents it scores one by one (first feeds)."""

    def __init__(self, inner: TagProfileScorer) -> None:
        self.inner = inner
        self.single_calls = 0
        self.bulk_items: list[str] = []  # the kind of items ("article", "ad") of each bulk call

    def score(self, audience: Audience, items: list[ScoredItem]) -> list[float]:
        self.single_calls += 1
        return self.inner.score(audience, items)

    def score_many(self, audiences: list[Audience], items: list[ScoredItem]) -> object:
        self.bulk_items.append(items[0].item_id.split(":")[0] if items else "")
        return self.inner.score_many(audiences, items)


def audience(resident: Resident) -> Audience:
    return Audience(
        resident.external_id,
        resident.age_band.value if resident.age_band else None,
        resident.household.value if resident.household else None,
        resident.district,
        tuple(resident.interests),
        resident.personalization_consent,
    )


@pytest.fixture(scope="module")
def city(world_engine: Engine) -> list[Resident]:
    """The delivery world, articles of several categories, and residents who read them."""
    build_world(world_engine)
    now = utcnow()
    with Session(world_engine, expire_on_commit=False) as session, session.begin():
        articles = [
            Article(
                external_id=f"pre-{i}", title=f"記事{i}", summary="", category=CATEGORIES[i % 4],
                url=f"https://www.city.example.jp/pre/{i}", tags=[f"t{i % 5}"],
                priority=ArticlePriority.NORMAL, published_at=now - timedelta(minutes=i + 1),
            )
            for i in range(16)
        ]  # fmt: skip
        residents = [
            Resident(
                external_id=f"pre-r{n}", age_band=BANDS[n % 2], household=HOUSEHOLDS[n // 2 % 2],
                district=None, interests=[CATEGORIES[n % 3]] if n % 4 == 0 else [],
                personalization_consent=n % 7 != 6,
            )
            for n in range(28)
        ]  # fmt: skip
        session.add_all(articles + residents)
        session.flush()
        for n, resident in enumerate(residents[:20]):  # the last eight have never read anything
            for k in range(n % 4 + 1):
                session.add(
                    InteractionEvent(
                        resident_id=resident.id, article_id=articles[(n + 3 * k) % 16].id,
                        kind=Kind.VIEW, occurred_at=now - timedelta(hours=n),
                    )
                )  # fmt: skip
    return residents


def test_known_residents_are_the_consenting_ones_the_most_recently_active_last(
    world_engine: Engine,
    city: list[Resident],
) -> None:
    with Session(world_engine) as session:
        known = known_residents(session)
        assert {a.key for a in known} == {r.external_id for r in city if r.personalization_consent}
        assert all(a.consent for a in known)
        # Resident n was last active n hours ago; the never-active ones come first.
        active = [a.key for a in known if a.key in {f"pre-r{n}" for n in range(20)}]
        assert active == [f"pre-r{n}" for n in reversed(range(20)) if n % 7 != 6]
        assert known[-1].key == "pre-r0"
        assert [a.key for a in known_residents(session, limit=3)] == ["pre-r2", "pre-r1", "pre-r0"]


def service(engine: Engine, tmp_path: Path, scorer: CountingScorer) -> DeliveryService:
    factory = make_session_factory(engine)
    delivery = DeliveryService(
        factory, EventWriter(engine, tmp_path), TokenSigner("s" * 40), "r" * 40, scorer
    )
    delivery.refresh()
    with factory() as session:
        reference = known_residents(session)
    delivery.use_scorer(scorer, AdRelevance(scorer, reference), "tag_profile")
    return delivery


def articles_of(feed_items: tuple[object, ...]) -> list[int]:
    return [i.article_id for i in feed_items if isinstance(i, FeedArticle)]


def assert_same_ranking(
    delivery: DeliveryService, resident: Resident, got: list[int], expected: list[int]
) -> None:
    """The same articles in the same order, but for articles whose scores are equal up to
    rounding: summing in bulk may order those two differently than summing one by one."""
    assert len(got) == len(expected)
    snapshot = delivery.snapshot
    scores = delivery.scorer.score(delivery.viewer(audience(resident)), snapshot.regular_items)
    score_of = {a.article_id: s for a, s in zip(snapshot.regular, scores, strict=True)}
    for position, (mine, theirs) in enumerate(zip(got, expected, strict=True)):
        if mine != theirs:
            assert score_of[mine] == pytest.approx(score_of[theirs], abs=1e-9), position


def test_feeds_ranked_ahead_are_the_feeds_ranked_on_first_visit(
    world_engine: Engine,
    city: list[Resident],
    tmp_path: Path,
) -> None:
    engagements = [
        (f"pre-r{n}", BANDS[n % 2].value, HOUSEHOLDS[n // 2 % 2].value,
         (f"category:{CATEGORIES[(n + 3 * k) % 4]}", f"tag:t{(n + 3 * k) % 5}"))
        for n in range(20)
        for k in range(n % 4 + 1)
    ]  # fmt: skip
    ahead_scorer = CountingScorer(TagProfileScorer.fit(engagements))
    on_demand_scorer = CountingScorer(TagProfileScorer.fit(engagements))
    ahead = service(world_engine, tmp_path / "ahead", ahead_scorer)
    on_demand = service(world_engine, tmp_path / "demand", on_demand_scorer)
    precompute = ResidentPrecompute(ahead, make_session_factory(world_engine))
    consenting = sum(r.personalization_consent for r in city)
    assert not precompute.is_current()
    assert precompute.run_if_changed() == consenting
    assert precompute.is_current()
    assert precompute.run_if_changed() == 0  # nothing changed since
    ahead_scorer.single_calls = 0  # the ads' reference percentiles were worked out meanwhile

    rankings = set()
    for resident in city:
        for limit in (5, 10, 20):
            expected = on_demand.feed(audience(resident), limit).items
            got = ahead.feed(audience(resident), limit).items
            assert_same_ranking(on_demand, resident, articles_of(got), articles_of(expected))
            rankings.add(tuple(articles_of(got)))
    assert ahead_scorer.single_calls == 0  # every known resident's first feed was ready
    assert on_demand_scorer.single_calls > 0
    assert len(rankings) > 6  # residents are ranked differently

    # A longer feed than the precomputed depth is ranked on its first visit, the same way.
    long_feed = ahead.feed(audience(city[0]), 40).items
    expected_long = on_demand.feed(audience(city[0]), 40).items
    assert_same_ranking(on_demand, city[0], articles_of(long_feed), articles_of(expected_long))
    assert len(articles_of(long_feed)) == 28
    assert ahead_scorer.single_calls == 1

    # Only the live ads changed: the ads are scored again, the articles are not re-ranked.
    asked: list[bool] = []
    original = ahead.precompute

    def recording(audiences: list[Audience], *, articles: bool = True) -> int:
        asked.append(articles)
        return original(audiences, articles=articles)

    ahead.precompute = recording  # type: ignore[method-assign]
    articles_version, scorer_version, _ = precompute.state()
    precompute._done_for = (articles_version, scorer_version, frozenset({"ad:gone"}))
    ahead_scorer.bulk_items.clear()
    assert precompute.run_if_changed() == consenting and asked == [False]
    assert ahead_scorer.bulk_items == ["ad"]
    assert precompute.is_current()
    assert ahead_scorer.single_calls == 1  # still only the long feed's ranking

    # A new model: the values depend on it, so they are worked out again.
    ahead.use_scorer(ahead_scorer, AdRelevance(ahead_scorer, []), "tag_profile")
    assert not precompute.is_current()
    assert precompute.run_if_changed() == consenting
    assert precompute.is_current() and asked == [False, True]
    # The articles ranked again (no reference residents now, so no ad relevance to fill).
    assert ahead_scorer.bulk_items[1:] == ["article"]
    ahead.stop()
    on_demand.stop()


def test_nothing_is_worked_out_while_the_relevance_model_is_loading(
    world_engine: Engine,
    city: list[Resident],
    tmp_path: Path,
) -> None:
    factory = make_session_factory(world_engine)
    scorer = CountingScorer(TagProfileScorer({}, {}))
    delivery = DeliveryService(
        factory, EventWriter(world_engine, tmp_path), TokenSigner("s" * 40), "r" * 40, scorer
    )
    delivery.refresh()
    assert delivery.relevance_model == "loading"
    assert ResidentPrecompute(delivery, factory).run_if_changed() == 0
