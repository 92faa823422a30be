"""The city's house ads in ad slots that no shop's booking filled: which one goes where.

Pure values and one rule. A slot the ad decision leaves empty (unsold share, or every booking
ahead of its pace) shows one of the live house ads that may appear there, in turn, each at
most once per page; with none live, the slot goes back to an article as before. House ads are
never a shop's delivery: they make no offer, and the slot still counts as an opportunity the
bookings did not fill (pacing's denominator is unchanged). None in disaster mode, because
disaster mode opens no ad slot at all.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from typing import NamedTuple

HOUSE_LABEL = "市からのお知らせ"


class Surface(enum.StrEnum):
    FEED = "feed"
    SIDE = "side"


class HouseAdCard(NamedTuple):
    """A live house ad as serving holds it."""

    house_ad_id: int
    headline: str
    body: str
    link_url: str
    in_feed: bool
    side: bool

    def shows_on(self, surface: Surface) -> bool:
        return self.in_feed if surface is Surface.FEED else self.side


class HouseSlot(NamedTuple):
    """A house ad placed in a page; `view_id` makes its view pixel one-time."""

    house: HouseAdCard
    position: int
    view_id: str
    surface: Surface = Surface.FEED

    @property
    def label(self) -> str:
        return HOUSE_LABEL


class HouseRotation:
    """Takes the live house ads in turn, per surface, skipping those already on the page.

    One per worker, used by the event loop only.
    """

    def __init__(self) -> None:
        self._turns = dict.fromkeys(Surface, 0)

    def pick(
        self, ads: Sequence[HouseAdCard], surface: Surface, on_page: Collection[int]
    ) -> HouseAdCard | None:
        fitting = [a for a in ads if a.shows_on(surface) and a.house_ad_id not in on_page]
        if not fitting:
            return None
        turn = self._turns[surface]
        self._turns[surface] = turn + 1
        return fitting[turn % len(fitting)]
