from __future__ import annotations

from marketplace.delivery.feed_policy import AdSlot, FeedRules, compose_feed
from marketplace.delivery.house import HouseAdCard, HouseRotation, HouseSlot, Surface
from tests.support.delivery_factories import ad, article

RECRUIT = HouseAdCard(1, "広告募集中", "", "/marketplace/shop/signup", in_feed=True, side=True)
SNOW = HouseAdCard(2, "除雪車ナビ", "", "https://city.example.jp/snow", in_feed=False, side=True)
NOTICE = HouseAdCard(3, "健診のお知らせ", "", "https://city.example.jp/kenshin", True, False)


def test_house_ads_take_turns_on_their_surface() -> None:
    rotation = HouseRotation()
    picks = [rotation.pick([RECRUIT, SNOW, NOTICE], Surface.SIDE, ()) for _ in range(4)]
    assert picks == [RECRUIT, SNOW, RECRUIT, SNOW]
    feed = [rotation.pick([RECRUIT, SNOW, NOTICE], Surface.FEED, ()) for _ in range(3)]
    assert feed == [RECRUIT, NOTICE, RECRUIT]  # the side turns do not move the feed's


def test_a_house_ad_already_on_the_page_is_skipped() -> None:
    rotation = HouseRotation()
    assert rotation.pick([RECRUIT, NOTICE], Surface.FEED, {1, 3}) is None
    assert rotation.pick([RECRUIT, NOTICE], Surface.FEED, {1}) == NOTICE
    assert rotation.pick([], Surface.SIDE, ()) is None


def test_a_house_slot_is_no_shop_and_never_blocks_a_shop() -> None:
    articles = [article(n) for n in range(1, 11)]
    shown_shops: list[frozenset[int]] = []

    def pick(position: int, configured: int, shops: frozenset[int]) -> AdSlot | HouseSlot | None:
        shown_shops.append(shops)
        if position == 3:
            return HouseSlot(RECRUIT, position, "v" * 32)
        return AdSlot(ad(7), position, "o" * 32)

    feed = compose_feed(articles, 10, FeedRules(ad_positions=(3, 8)), pick)
    assert [type(item).__name__ for item in feed.items[2:3] + feed.items[7:8]] == [
        "HouseSlot",
        "AdSlot",
    ]
    assert shown_shops == [frozenset(), frozenset()]  # the house ad took no shop's place
    assert feed.ads == [feed.items[7]] and feed.opportunities == 2
    assert HouseSlot(RECRUIT, 3, "v").label == "市からのお知らせ"
