from __future__ import annotations

import pytest

from marketplace.delivery.feed_policy import (
    AdSlot,
    FeedRules,
    FeedRulesError,
    ad_positions,
    compose_feed,
    pin_notices,
)
from marketplace.delivery.types import FeedArticle
from marketplace.vocab import ArticlePriority
from tests.support.delivery_factories import ad, article

RULES = FeedRules(ad_positions=(3, 8))


def shop_picker(shop_ids: list[int]):  # type: ignore[no-untyped-def]
    """pick_ad that offers the given shops in order, skipping shops already in the feed."""
    calls: list[tuple[int, frozenset[int]]] = []
    configured_seen: list[int] = []

    def pick(position: int, configured: int, shops: frozenset[int]) -> AdSlot | None:
        calls.append((position, shops))
        configured_seen.append(configured)
        for shop in shop_ids:
            if shop not in shops:
                return AdSlot(ad(shop), position, f"offer-{position}")
        return None

    pick.calls = calls  # type: ignore[attr-defined]
    pick.configured = configured_seen  # type: ignore[attr-defined]
    return pick


def kinds(items: tuple[FeedArticle | AdSlot, ...]) -> str:
    return "".join("A" if isinstance(i, AdSlot) else "a" for i in items)


def test_ads_only_at_configured_positions() -> None:
    feed = compose_feed([article(i) for i in range(20)], 10, RULES, shop_picker([1, 2]))
    assert kinds(feed.items) == "aaAaaaaAaa"
    assert [slot.position for slot in feed.ads] == [3, 8]
    assert feed.opportunities == 2


def test_never_two_ads_from_one_shop() -> None:
    pick = shop_picker([7])
    feed = compose_feed([article(i) for i in range(20)], 10, RULES, pick)
    assert len(feed.ads) == 1
    assert pick.calls[1] == (8, frozenset({7}))
    assert len(feed.items) == 10  # the empty slot is filled by an article


def test_at_most_twenty_percent_ads() -> None:
    rules = FeedRules(ad_positions=(2, 3, 4, 5))
    feed = compose_feed([article(i) for i in range(20)], 10, rules, shop_picker([1, 2, 3, 4]))
    assert len(feed.ads) == 2
    short = compose_feed([article(i) for i in range(20)], 4, RULES, shop_picker([1, 2]))
    assert short.ads == []  # 20% of 4 items is less than one ad


def test_no_ad_above_a_notice() -> None:
    articles = [article(i) for i in range(10)]
    articles[5] = article(5, ArticlePriority.URGENT)
    articles[6] = article(6, ArticlePriority.IMPORTANT)
    articles[7] = article(7, ArticlePriority.IMPORTANT)
    pick = shop_picker([1, 2])
    feed = compose_feed(articles, 10, RULES, pick)
    assert pick.configured == [3, 8]  # the moved ad still fills the slot configured at 3
    positions = {
        i: item for i, item in enumerate(feed.items, start=1) if isinstance(item, FeedArticle)
    }
    notice_positions = [i for i, item in positions.items() if item.is_notice]
    assert notice_positions == [1, 2, 3]
    assert feed.items[0].priority is ArticlePriority.URGENT  # type: ignore[union-attr]
    assert all(slot.position > max(notice_positions) for slot in feed.ads)
    assert [slot.position for slot in feed.ads] == [4, 8]


def test_many_notices_push_ads_down_and_merge_slots() -> None:
    rules = FeedRules(ad_positions=(3, 8), max_notices=10)
    articles = [article(i, ArticlePriority.IMPORTANT) for i in range(9)] + [article(99)]
    assert ad_positions(pin_notices(articles, 10), 10, rules) == []
    articles = [article(i, ArticlePriority.IMPORTANT) for i in range(8)] + [
        article(i) for i in range(8, 20)
    ]
    assert ad_positions(pin_notices(articles, 10), 10, rules) == [(9, 3)]


def test_only_the_first_notices_are_pinned_and_none_sits_below_an_ad() -> None:
    articles = [article(i, ArticlePriority.IMPORTANT) for i in range(6)]
    articles += [article(50, ArticlePriority.URGENT)] + [article(i) for i in range(7, 20)]
    feed = compose_feed(articles, 10, RULES, shop_picker([1, 2]))
    notices = [item for item in feed.articles if item.is_notice]
    assert [n.article_id for n in notices] == [50, 0, 1]  # urgent first, three in all
    last_notice = max(i for i, item in enumerate(feed.items, 1) if item in notices)
    assert [slot.position for slot in feed.ads] == [4, 8]
    assert all(slot.position > last_notice for slot in feed.ads)


def test_feed_never_ends_on_an_ad() -> None:
    feed = compose_feed([article(1), article(2)], 10, RULES, shop_picker([1, 2]))
    assert kinds(feed.items) == "aa"
    feed = compose_feed(
        [article(i) for i in range(3)],
        10,
        FeedRules(ad_positions=(3,), max_ad_fraction=0.5),
        shop_picker([1]),
    )
    assert kinds(feed.items) == "aaAa"


def test_disaster_mode_shows_no_ads() -> None:
    pick = shop_picker([1, 2])
    feed = compose_feed([article(i) for i in range(20)], 10, RULES, pick, ads_enabled=False)
    assert feed.ads == [] and feed.ads_suppressed and feed.opportunities == 0
    assert pick.calls == []


def test_every_ad_is_labelled_with_its_shop() -> None:
    feed = compose_feed([article(i) for i in range(20)], 10, RULES, shop_picker([3]))
    assert feed.ads[0].label == "広告 · 店3"


def test_rules_are_validated() -> None:
    with pytest.raises(FeedRulesError):
        FeedRules(ad_positions=(0, 3))
    with pytest.raises(FeedRulesError):
        FeedRules(ad_positions=(3, 3))
    with pytest.raises(FeedRulesError):
        FeedRules(max_ad_fraction=0.9)
    with pytest.raises(FeedRulesError):
        FeedRules(max_notices=-1)
    with pytest.raises(FeedRulesError):
        compose_feed([], 0, RULES, shop_picker([]))
