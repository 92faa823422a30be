"""The feed policy: where ads may go in a resident's feed, and how many.

Pure rules over plain values. The caller ranks the articles and supplies `pick_ad`, which runs
the ad decision (pacing, targeting, frequency caps) for one slot; the policy decides whether a
slot exists at all and keeps each feed within the city's rules:

* ads only at the configured positions (1-based, e.g. 3rd and 8th);
* never above an urgent or important notice: up to `max_notices` notices (urgent first) are
  pinned to the top, and further notices are left to the portal's notice list rather than
  placed below an ad;
* at most `max_ad_fraction` of the items are ads;
* never two ads from one shop in one feed;
* no ads at all in disaster mode.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from marketplace.delivery.house import HouseSlot
from marketplace.delivery.types import AdCandidate, FeedArticle
from marketplace.vocab import ArticlePriority

AD_LABEL = "広告"
MAX_FEED_ITEMS = 50  # the longest feed the API serves


class FeedRulesError(ValueError):
    """The configured feed rules are inconsistent."""


@dataclass(frozen=True)
class FeedRules:
    ad_positions: tuple[int, ...] = (3, 8)
    max_ad_fraction: float = 0.2
    frequency_cap_per_day: int = 3
    max_notices: int = 3

    def __post_init__(self) -> None:
        if any(p < 1 for p in self.ad_positions) or len(set(self.ad_positions)) != len(
            self.ad_positions
        ):
            raise FeedRulesError("ad positions must be distinct and 1 or more")
        if not 0 <= self.max_ad_fraction <= 0.5:
            raise FeedRulesError("max_ad_fraction must be between 0 and 0.5")
        if self.frequency_cap_per_day < 1:
            raise FeedRulesError("frequency_cap_per_day must be 1 or more")
        if self.max_notices < 0:
            raise FeedRulesError("max_notices must be 0 or more")


class AdSlot(NamedTuple):
    """An ad placed in a feed, with the label every ad must carry (a named tuple: one or two
    are built for every feed)."""

    ad: AdCandidate
    position: int
    offer_id: str

    @property
    def label(self) -> str:
        return f"{AD_LABEL} · {self.ad.shop_name}"


class Feed(NamedTuple):
    items: tuple[FeedArticle | AdSlot | HouseSlot, ...]
    opportunities: int = 0  # ad slots that existed, filled or not (pacing's denominator)
    ads_suppressed: bool = False
    notes: tuple[str, ...] = ()

    @property
    def ads(self) -> list[AdSlot]:
        return [item for item in self.items if isinstance(item, AdSlot)]

    @property
    def articles(self) -> list[FeedArticle]:
        return [item for item in self.items if isinstance(item, FeedArticle)]


# pick_ad(position, configured position, shop ids already in this feed) -> the ad (a shop's, or
# a city house ad for a slot no booking filled), or None. The configured position names the
# slot (and so the placement) even when notices pushed the ad further down the feed.
PickAd = Callable[[int, int, frozenset[int]], AdSlot | HouseSlot | None]


def pin_notices(articles: Sequence[FeedArticle], max_notices: int = 3) -> list[FeedArticle]:
    """Up to `max_notices` notices (urgent, then important) first, then the ranked rest."""
    notices = [a for a in articles if a.is_notice]
    if not notices:
        return list(articles)
    urgent = [a for a in notices if a.priority is ArticlePriority.URGENT]
    important = [a for a in notices if a.priority is not ArticlePriority.URGENT]
    rest = [a for a in articles if not a.is_notice]
    return (urgent + important)[:max_notices] + rest


def max_ads(total_items: int, rules: FeedRules) -> int:
    return math.floor(total_items * rules.max_ad_fraction + 1e-9)


def ad_positions(
    articles: Sequence[FeedArticle], limit: int, rules: FeedRules
) -> list[tuple[int, int]]:
    """Positions that may hold an ad in a feed of `limit` items built from pinned `articles`.

    Returns (position, configured position) pairs. A configured position above a notice moves
    to just below the last notice (when no other slot is there already); positions the feed
    cannot fill are dropped, and the list is cut so that ads stay within `max_ad_fraction` of
    the final feed.
    """
    notices = sum(1 for a in articles[:limit] if a.is_notice)
    positions: list[tuple[int, int]] = []
    for configured in sorted(rules.ad_positions):
        position = max(configured, notices + 1)
        if position not in [p for p, _ in positions]:
            positions.append((position, configured))
    allowed: list[tuple[int, int]] = []
    for position, configured in positions:
        ads_before = len(allowed)
        # An ad needs its position - 1 items above it (articles and earlier ads) and at least
        # one article below it: a feed never ends on an ad.
        if position >= limit or position - ads_before > len(articles):
            break
        total = min(limit, len(articles) + ads_before + 1)
        if ads_before + 1 > max_ads(total, rules):
            break
        allowed.append((position, configured))
    return allowed


def compose_feed(
    articles: Sequence[FeedArticle],
    limit: int,
    rules: FeedRules,
    pick_ad: PickAd,
    *,
    ads_enabled: bool = True,
) -> Feed:
    """Blend ranked `articles` with ads chosen by `pick_ad` under the feed rules."""
    if limit < 1:
        raise FeedRulesError("limit must be 1 or more")
    pinned = pin_notices(articles, rules.max_notices)
    if not ads_enabled:
        return Feed(tuple(pinned[:limit]), ads_suppressed=True)
    return compose_pinned(pinned, limit, dict(ad_positions(pinned, limit, rules)), pick_ad)


def compose_pinned(
    pinned: Sequence[FeedArticle], limit: int, slots: Mapping[int, int], pick_ad: PickAd
) -> Feed:
    """Blend articles already in feed order (`pin_notices`) with ads at `slots`, a mapping of
    position -> configured position from `ad_positions` for these articles and this limit."""
    items: list[FeedArticle | AdSlot | HouseSlot] = []
    shops: set[int] = set()
    remaining = iter(pinned)
    opportunities = 0
    for position in range(1, limit + 1):
        if position in slots:
            opportunities += 1
            slot = pick_ad(position, slots[position], frozenset(shops))
            if slot is not None:
                if isinstance(slot, AdSlot):
                    assert slot.ad.shop_id not in shops, "pick_ad returned a shop already shown"
                    shops.add(slot.ad.shop_id)
                items.append(
                    slot if slot.position == position else slot._replace(position=position)
                )
                continue
        article = next(remaining, None)
        if article is None:
            break
        items.append(article)
    return Feed(tuple(items), opportunities=opportunities)
