"""Exploration in the served feed: fresh articles at a bounded share of article positions,
never above notices and never in an ad's slot."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from marketplace.delivery.exploration import ExplorationRules
from marketplace.delivery.relevance import ScoredItem
from marketplace.delivery.service import DeliveryService
from marketplace.delivery.serving import Snapshot
from marketplace.delivery.tracking import TokenSigner
from marketplace.delivery.types import Audience, FeedArticle
from marketplace.delivery.writer import EventWriter
from marketplace.vocab import ArticlePriority
from tests.support.delivery_factories import START

FRESH_ID = 99


class ByNumber:
    """Older articles first by a fixed preference: article 1 best, then 2, ...; the fresh
    article 99 comes 15th for everyone."""

    def score(self, audience: Audience, items: Sequence[ScoredItem]) -> list[float]:
        def value(item: ScoredItem) -> float:
            number = int(item.item_id.split(":")[1])
            return -14.5 if number == FRESH_ID else -float(number)

        return [value(i) for i in items]


def _snapshot() -> Snapshot:
    old = START - timedelta(days=10)
    articles = [
        FeedArticle(n, f"記事{n}", "", f"https://example.jp/{n}", "イベント", (),
                    ArticlePriority.NORMAL, old)
        for n in range(1, 31)
    ]  # fmt: skip
    articles.insert(0, FeedArticle(FRESH_ID, "新しい記事", "", "https://example.jp/new",
                                   "イベント", (), ArticlePriority.NORMAL, START - timedelta(hours=3)))  # fmt: skip
    articles.insert(0, FeedArticle(500, "大雪警報", "", "https://example.jp/u", "防災", (),
                                   ArticlePriority.URGENT, old))  # fmt: skip
    return Snapshot(START, False, {3: 1, 8: 2}, {}, {}, tuple(articles))


def _service(share: float) -> DeliveryService:
    writer = EventWriter(None, Path("unused"))  # type: ignore[arg-type]
    return DeliveryService(
        None,  # type: ignore[arg-type]
        writer,
        TokenSigner("s" * 40),
        "r" * 40,
        ByNumber(),
        exploration=ExplorationRules(share=share),
    )


def test_fresh_article_is_explored_below_the_notice_for_a_bounded_share() -> None:
    delivery = _service(share=0.05)
    delivery.snapshot = _snapshot()
    residents = [Audience(f"resident-{i}", consent=True) for i in range(600)]
    explored = 0
    for resident in residents:
        ranked = delivery._rank_articles(delivery.viewer(resident), delivery.snapshot, 10)
        ids = [a.article_id for a in ranked]
        assert ids[0] == 500  # the urgent notice stays on top
        if FRESH_ID in ids:
            explored += 1
            # The fifth regular article, i.e. below the notice.
            assert ids.index(FRESH_ID) == 1 + 4
            assert ids == [500, 1, 2, 3, 4, FRESH_ID, *range(5, 10)]
        else:
            assert ids == [500, *range(1, 11)]  # the feed cuts notices + articles to its limit
        # Asked again, the same feed.
        again = delivery._rank_articles(delivery.viewer(resident), delivery.snapshot, 10)
        assert [a.article_id for a in again] == ids
    # Probability share x visible regular positions (10) = 0.5 per feed.
    assert 0.4 < explored / len(residents) < 0.6


def test_precomputed_rankings_explore_the_same_way() -> None:
    live, ahead = _service(0.05), _service(0.05)
    live.snapshot = ahead.snapshot = _snapshot()
    residents = [Audience(f"resident-{i}", consent=True) for i in range(50)]
    ahead.precompute(residents)
    for resident in residents:
        viewer = live.viewer(resident)
        assert live._rank_articles(viewer, live.snapshot, 10) == ahead._rank_articles(
            ahead.viewer(resident), ahead.snapshot, 10
        )


def test_without_exploration_the_fresh_article_waits_its_turn() -> None:
    delivery = _service(share=0.0)
    delivery.snapshot = _snapshot()
    for i in range(100):
        viewer = delivery.viewer(Audience(f"resident-{i}", consent=True))
        ids = [a.article_id for a in delivery._rank_articles(viewer, delivery.snapshot, 10)]
        assert FRESH_ID not in ids
