"""The service's feeds follow the feed policy's order and slots, worked out once per shape."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest

from marketplace.delivery.feed_policy import (
    AdSlot,
    FeedRules,
    ad_positions,
    compose_feed,
    compose_pinned,
    pin_notices,
)
from marketplace.delivery.relevance import UniformScorer
from marketplace.delivery.service import DeliveryService
from marketplace.delivery.serving import Snapshot
from marketplace.delivery.tracking import TokenSigner
from marketplace.delivery.types import ANONYMOUS, Audience, FeedArticle
from marketplace.delivery.writer import EventWriter
from marketplace.vocab import ArticlePriority
from tests.support.delivery_factories import START, ad

PRIORITIES = [ArticlePriority.URGENT, ArticlePriority.IMPORTANT] + [ArticlePriority.NORMAL] * 6


def snapshot(seed: int) -> Snapshot:
    rng = random.Random(seed)
    articles = tuple(
        FeedArticle(
            n, f"記事{n}", "", f"https://example.jp/{n}", "イベント", (),
            rng.choice(PRIORITIES), START - timedelta(minutes=n),
        )
        for n in range(rng.randint(0, 30))
    )  # fmt: skip
    return Snapshot(START, False, {3: 1, 8: 2}, {}, {}, articles)


def service() -> DeliveryService:
    # Ranking touches neither the database nor the writer's queue.
    writer = EventWriter(None, Path("unused"))  # type: ignore[arg-type]
    return DeliveryService(None, writer, TokenSigner("s" * 40), "r" * 40, UniformScorer())  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(40))
def test_ranked_articles_are_already_in_feed_order(seed: int) -> None:
    delivery, shown = service(), snapshot(seed)
    for viewer in (ANONYMOUS, Audience("r1", consent=True)):
        for limit in (1, 3, 10, 25):
            ranked = delivery._rank_articles(delivery.viewer(viewer), shown, limit)
            assert ranked == pin_notices(ranked, delivery.rules.max_notices)


@pytest.mark.parametrize("seed", range(40))
def test_slots_worked_out_per_shape_are_the_policys_slots(seed: int) -> None:
    delivery, shown = service(), snapshot(seed)
    rules = FeedRules(ad_positions=(3, 8))
    for limit in (1, 2, 3, 5, 9, 10, 20):
        articles = delivery._rank_articles(ANONYMOUS, shown, limit)
        for _ in range(2):  # the second time from what was worked out
            slots = delivery._slots(articles, limit, shown)
            assert slots == dict(ad_positions(articles, limit, rules))

        def pick(position: int, configured: int, shops: frozenset[int]) -> AdSlot:
            return AdSlot(ad(position, shop_id=position), position, f"offer-{position}")

        blended = compose_pinned(articles, limit, slots, pick)
        assert blended == compose_feed(articles, limit, rules, pick)
