"""The values the delivery rules work on: who is looking, what may be shown, and to whom."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marketplace.vocab import DISTRICTS, INTERESTS, AgeBand, ArticlePriority, Household

TARGETING_KEYS = ("age_bands", "households", "districts", "interests")


class TargetingError(ValueError):
    """A booking's targeting document names an unknown key or value."""


@dataclass(frozen=True)
class Audience:
    """The viewer of one feed. `key` is None for anonymous visitors."""

    key: str | None
    age_band: str | None = None
    household: str | None = None
    district: str | None = None
    interests: tuple[str, ...] = ()
    consent: bool = False

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


@dataclass(frozen=True)
class Targeting:
    """Which residents an ad may be shown to; an empty dimension means everyone."""

    age_bands: frozenset[str] = field(default_factory=frozenset)
    households: frozenset[str] = field(default_factory=frozenset)
    districts: frozenset[str] = field(default_factory=frozenset)
    interests: frozenset[str] = field(default_factory=frozenset)

    @property
    def untargeted(self) -> bool:
        return not (self.age_bands or self.households or self.districts or self.interests)

    def matches(self, audience: Audience) -> bool:
        if self.untargeted:
            return True
        # Attribute targeting needs consent; anonymous viewers have no attributes to match.
        if not audience.personalized:
            return False
        if self.age_bands and audience.age_band not in self.age_bands:
            return False
        if self.households and audience.household not in self.households:
            return False
        if self.districts and audience.district not in self.districts:
            return False
        return not self.interests or bool(self.interests & set(audience.interests))

    @classmethod
    def from_document(cls, document: Mapping[str, Any] | None) -> Targeting:
        """Parse the JSON targeting stored on a booking, refusing unknown keys and values."""
        if not document:
            return cls()
        unknown = set(document) - set(TARGETING_KEYS)
        if unknown:
            raise TargetingError(f"unknown targeting key(s): {', '.join(sorted(unknown))}")
        allowed = {
            "age_bands": {band.value for band in AgeBand},
            "households": {h.value for h in Household},
            "districts": set(DISTRICTS),
            "interests": set(INTERESTS),
        }
        values: dict[str, frozenset[str]] = {}
        for key in TARGETING_KEYS:
            raw = document.get(key) or []
            if not isinstance(raw, list | tuple) or not all(isinstance(v, str) for v in raw):
                raise TargetingError(f"targeting {key} must be a list of strings")
            bad = sorted(set(raw) - allowed[key])
            if bad:
                raise TargetingError(f"targeting {key}: unknown value(s) {', '.join(bad)}")
            values[key] = frozenset(raw)
        return cls(**values)


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
    image_url: str | None
    tags: tuple[str, ...]
    targeting: Targeting
    share: float  # fraction of the placement's impressions bought, 0 < share <= 1
    starts_at: datetime
    ends_at: datetime
    unit_price_yen: int  # price per share per week in force, tax included

    def live_at(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at

    @property
    def item_id(self) -> str:
        """The recommender's item id for this ad (one per creative version)."""
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

    @property
    def is_notice(self) -> bool:
        """Urgent and important city notices: no ad may appear above them."""
        return self.priority in (ArticlePriority.URGENT, ArticlePriority.IMPORTANT)

    @property
    def item_id(self) -> str:
        return f"article:{self.article_id}"
