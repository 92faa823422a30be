"""Where each placement can appear on the host's pages, and why a placement cannot.

One function, `lay_out`, decides it for serving (which placement fills which feed position and
which card of the gadget column) and for selling (a placement that no page can show must not
be sold). Keeping both on the same rule means the rate card can never offer a slot the feed
would never fill.

Pure: it takes plain placement values and the host's page layout.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from marketplace.delivery.feed_policy import MAX_FEED_ITEMS, FeedRules, ad_positions
from marketplace.delivery.types import FeedArticle
from marketplace.lifecycle import PlacementKind
from marketplace.vocab import ArticlePriority

DEFAULT_SIDE_SLOTS = 1


@dataclass(frozen=True)
class HostLayout:
    """What the host's pages offer: the feed's default ad positions (for in-feed placements
    without one of their own) and how many ad cards its gadget column shows."""

    ad_positions: tuple[int, ...] = (3, 8)
    side_slots: int = DEFAULT_SIDE_SLOTS
    max_ad_fraction: float = FeedRules.max_ad_fraction
    # Impressions per resident per booking per Tokyo day: what a targeted booking can reach.
    frequency_cap: int = FeedRules.frequency_cap_per_day


class PlacementSpot(NamedTuple):
    """The parts of a placement that decide where it shows."""

    placement_id: int
    name: str
    kind: PlacementKind
    feed_position: int | None
    active: bool = True


class Unservable(NamedTuple):
    """Why a placement cannot appear: a Japanese message template (the msgid) and its values."""

    template: str
    params: Mapping[str, Any]
    field: str

    @property
    def message(self) -> str:
        return self.template.format(**self.params)


POSITION_TAKEN = "フィードの{position}件目には枠「{other}」が表示されるため、この枠は表示されません"
POSITION_UNREACHABLE = (
    "フィードの{position}件目の広告は、最長{limit}件のフィードでも表示されません"
    "(広告は全体の{percent}%まで、フィードの最後には置けません)"
)
NO_POSITION = "フィード内の表示位置が決まっていないため、この枠は表示されません"
NO_SIDE_COLUMN = "このポータルのページには、ガジェット欄に広告を表示する場所がありません"
SIDE_COLUMN_FULL = (
    "ガジェット欄に表示できる広告は{count}件までで、ほかの枠({others})で埋まっています"
)


@dataclass(frozen=True)
class SlotLayout:
    feed: dict[int, int] = field(default_factory=dict)  # feed position -> placement id
    side: tuple[int, ...] = ()  # placement ids, in gadget-column order
    unservable: dict[int, Unservable] = field(default_factory=dict)  # placement id -> why

    @property
    def served(self) -> frozenset[int]:
        return frozenset(self.feed.values()) | frozenset(self.side)


def lay_out(placements: Iterable[PlacementSpot], host: HostLayout) -> SlotLayout:
    """Assign the active placements to the host's slots; older placements (lower ids) first.

    An in-feed placement shows at its own feed position, or at a free default position; it is
    unservable when an older placement has its position or when even the longest feed the API
    serves would never open an ad slot there (the feed policy's own `ad_positions` decides).
    Side-gadget placements fill the gadget column's `side_slots` cards.
    """
    active = sorted((p for p in placements if p.active), key=lambda p: p.placement_id)
    feed: dict[int, int] = {}
    names = {p.placement_id: p.name for p in active}
    unservable: dict[int, Unservable] = {}
    unpositioned: list[PlacementSpot] = []
    for spot in (p for p in active if p.kind is PlacementKind.IN_FEED):
        if not spot.feed_position:
            unpositioned.append(spot)
        elif spot.feed_position in feed:
            other = names[feed[spot.feed_position]]
            unservable[spot.placement_id] = Unservable(
                POSITION_TAKEN, {"position": spot.feed_position, "other": other}, "feed_position"
            )
        else:
            feed[spot.feed_position] = spot.placement_id
    free = iter(p for p in host.ad_positions if p not in feed)
    for spot in unpositioned:
        position = next(free, None)
        if position is None:
            unservable[spot.placement_id] = Unservable(NO_POSITION, {}, "feed_position")
        else:
            feed[position] = spot.placement_id
    reachable = _reachable_positions(feed, host)
    for position in sorted(set(feed) - reachable):
        unservable[feed.pop(position)] = Unservable(
            POSITION_UNREACHABLE,
            {
                "position": position,
                "limit": MAX_FEED_ITEMS,
                "percent": round(host.max_ad_fraction * 100),
            },
            "feed_position",
        )
    side: list[int] = []
    for spot in (p for p in active if p.kind is PlacementKind.SIDE_GADGET):
        if len(side) < host.side_slots:
            side.append(spot.placement_id)
        elif host.side_slots == 0:
            unservable[spot.placement_id] = Unservable(NO_SIDE_COLUMN, {}, "kind")
        else:
            others = "、".join(f"「{names[p]}」" for p in side)
            unservable[spot.placement_id] = Unservable(
                SIDE_COLUMN_FULL, {"count": host.side_slots, "others": others}, "kind"
            )
    return SlotLayout(feed, tuple(side), unservable)


def _reachable_positions(feed: Mapping[int, int], host: HostLayout) -> set[int]:
    """The positions that get an ad slot in the longest feed, of plain articles only."""
    if not feed:
        return set()
    articles = [_PLAIN_ARTICLE] * MAX_FEED_ITEMS
    rules = FeedRules(ad_positions=tuple(sorted(feed)), max_ad_fraction=host.max_ad_fraction)
    return {configured for _, configured in ad_positions(articles, MAX_FEED_ITEMS, rules)}


_PLAIN_ARTICLE = FeedArticle(0, "", "", "", "", (), ArticlePriority.NORMAL, datetime.min)


def newly_unservable(before: SlotLayout, after: SlotLayout, placement_id: int) -> list[int]:
    """Placements other than `placement_id` that a change would take off every page."""
    return sorted(p for p in after.unservable if p != placement_id and p in before.served)
