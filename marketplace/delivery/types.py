"""The values the delivery rules work on: who is looking, what may be shown, and to whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import NamedTuple

from marketplace.inventory.targeting import Targeting
from marketplace.training.frames import article_item_id
from marketplace.vocab import ArticlePriority


class Audience(NamedTuple):
    """The viewer of one feed. `key` is None for anonymous visitors (a named tuple: two are
    built for every feed).

    `key` is what is stored and capped on (a keyed hash in production); `scoring_id` is the id
    the recommender knows the resident by, never stored by delivery.
    """

    key: str | None
    age_band: str | None = None
    household: str | None = None
    district: str | None = None
    interests: tuple[str, ...] = ()
    consent: bool = False
    scoring_id: str | None = None

    @property
    def recommender_id(self) -> str | None:
        return self.scoring_id or self.key

    @property
    def anonymous(self) -> bool:
        return self.key is None

    @property
    def personalized(self) -> bool:
        """Whether this viewer's attributes and history may shape what they see."""
        return self.key is not None and self.consent

    @property
    def segment(self) -> tuple[str, str, str]:
        """Audience segment used in rollups: age band × household × district."""
        if not self.personalized:
            return ("unknown", "unknown", "unknown")
        return (
            self.age_band or "unknown",
            self.household or "unknown",
            self.district or "unknown",
        )


ANONYMOUS = Audience(key=None)


def reaches(targeting: Targeting, audience: Audience) -> bool:
    """Whether an ad with this targeting may be shown to this viewer.

    Untargeted ads reach everyone. Attribute targeting needs personalization consent: anonymous
    and non-consenting viewers only ever see untargeted ads.
    """
    if not targeting.dimensions:
        return True
    if not audience.personalized:
        return False
    return targeting.matches(
        age_band=audience.age_band,
        household=audience.household,
        district=audience.district,
        interests=audience.interests,
    )


@dataclass(frozen=True)
class AdCandidate:
    """A live booking with its approved creative, as the decision code sees it."""

    booking_id: int
    placement_id: int
    shop_id: int
    shop_name: str
    shop_category: str
    creative_version_id: int
    headline: str
    body: str
    landing_url: str
    tags: tuple[str, ...]
    targeting: Targeting
    share: float  # fraction of the placement's impressions bought, 0 < share <= 1
    starts_at: datetime
    ends_at: datetime
    unit_price_yen: int  # price per share per week in force, tax included
    # The approved version's image (served at /creative-images/{version}); 0 when it has none.
    image_width: int = 0
    image_height: int = 0
    kind: str = "ad"  # CreativeKind's value: "ad" or "flyer"
    sale_from: date | None = None  # a flyer's 特売期間, when it has one
    sale_until: date | None = None
    # False for a booking in its live hours that may not be shown now (paused by staff, its
    # creative awaiting review): its eligible slots are still counted, so it is owed them.
    serving: bool = True

    def live_at(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at

    @cached_property
    def item_id(self) -> str:
        """The recommender's item id for this ad (one per creative version); asked for several
        times per feed, so built once."""
        return f"ad:{self.creative_version_id}"


@dataclass(frozen=True)
class FeedArticle:
    """An article ready to be placed in a feed."""

    article_id: int
    title: str
    summary: str
    url: str
    category: str
    tags: tuple[str, ...]
    priority: ArticlePriority
    published_at: datetime

    @cached_property
    def is_notice(self) -> bool:
        """Urgent and important city notices: no ad may appear above them (asked per feed)."""
        return self.priority in (ArticlePriority.URGENT, ArticlePriority.IMPORTANT)

    @property
    def item_id(self) -> str:
        return article_item_id(self.article_id)
