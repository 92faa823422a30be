"""Reach before sale: what a booking will really get, worked out before it is sold.

A booking buys `share` of the slots it is eligible for (the one measure, measure.py): slots of
its placement whose viewer its targeting reaches and who is under its daily frequency cap. How
many impressions that is depends on who matches, and whether the bookings already sold leave it
its share. `forecast` estimates it from the placement's recent traffic (aggregate counts per
resident profile, never a resident) and names what limits it:

* **narrow** (対象が狭すぎる): the matching residents open so few slots that the booking gets a
  small fraction of the impressions the same shares would get untargeted (or too few residents
  match to say anything: refused);
* **cap** (表示回数の上限): the daily frequency cap takes a noticeable part of their slots;
* **sold_out** (売り切れ): the bookings already sold on the same residents leave less than the
  share bought (the only way the bought *share* itself falls short).

Pure: the caller reads the traffic (`forecast_traffic.load_traffic`) and the bookings sold.

The model. Over the reference period the placement opened `slots` slots for `views` feed
views, so a view brings `k = slots / views` slots. A resident with `v` views a day brings
`N ~ Poisson(k·v)` slots a day; taking `share` of them, the booking reaches the cap after about
`cap / share` of them, so `E[min(N, cap / share)]` of them are eligible. The bookings already
sold each need their share of their own eligible slots and take from the matching residents
only what their audience outside them cannot give (pacing moves an untargeted booking to the
other residents' slots). Summed over the matching residents and scaled to the booking's days.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from marketplace.delivery.types import Audience, reaches
from marketplace.inventory.targeting import Targeting

# Fewer matching residents than this and no figure is shown (k-anonymity, as every figure a
# shop sees); the request is refused as too narrow.
MIN_RESIDENTS: Final = 10
# Below this fraction of what is owed the quote warns (sold out, cap); below REFUSE_BELOW of it
# (the bookings already sold leave less than half) it refuses.
WARN_BELOW: Final = 0.97
REFUSE_BELOW: Final = 0.5
# Residents opening less than this fraction of the placement's slots are a narrow audience.
NARROW_BELOW: Final = 0.2


class Limit(StrEnum):
    NARROW = "narrow"
    CAP = "cap"
    SOLD_OUT = "sold_out"


@dataclass(frozen=True)
class ProfileTraffic:
    """Residents of one profile and how often they opened the portal in the reference period.

    `daily_views` is a histogram: (views a day on average, residents with that average).
    """

    age_band: str | None
    household: str | None
    district: str | None
    interests: tuple[str, ...]
    consent: bool
    daily_views: tuple[tuple[float, int], ...]

    @property
    def residents(self) -> int:
        return sum(n for _, n in self.daily_views)

    @property
    def views_per_day(self) -> float:
        return sum(v * n for v, n in self.daily_views)

    def audience(self) -> Audience:
        return Audience(
            key="profile",
            age_band=self.age_band,
            household=self.household,
            district=self.district,
            interests=self.interests,
            consent=self.consent,
        )


@dataclass(frozen=True)
class PlacementTraffic:
    """A placement's recent traffic: slots opened a day, and who opened the portal."""

    slots_per_day: float
    profiles: tuple[ProfileTraffic, ...]

    @property
    def views_per_day(self) -> float:
        return sum(p.views_per_day for p in self.profiles)

    @property
    def slots_per_view(self) -> float:
        views = self.views_per_day
        return self.slots_per_day / views if views > 0 else 0.0


@dataclass(frozen=True)
class SoldBooking:
    """A booking already sold on the same placement and days."""

    share: float
    targeting: Targeting


@dataclass(frozen=True)
class Forecast:
    days: float
    share_bought: float  # of the eligible slots (the one measure)
    placement_slots: float  # the placement's slots over the booking's days
    untargeted: float  # impressions the same shares would get untargeted
    eligible_slots: float  # slots the booking will be eligible for (targeting, cap)
    matching_slots: float  # slots its targeting matches, before the cap
    owed: float  # impressions owed: share bought × eligible slots
    deliverable: float  # what the bookings already sold leave of that
    matching_residents: int
    limit: Limit | None  # what limits the booking, when something does
    shares_per_week: int

    @property
    def suppressed(self) -> bool:
        """Too few residents to show any figure about them."""
        return self.matching_residents < MIN_RESIDENTS

    @property
    def share(self) -> float:
        """The forecast share of the eligible slots (what the quote can promise)."""
        if not self.eligible_slots:
            return 0.0
        return min(self.share_bought, self.deliverable / self.eligible_slots)

    @property
    def reach_ratio(self) -> float:
        """Forecast impressions over what the same shares would get untargeted."""
        return self.deliverable / self.untargeted if self.untargeted else 0.0

    @property
    def narrow(self) -> bool:
        """The matching residents open less than NARROW_BELOW of the placement's slots."""
        return self.suppressed or self.matching_slots < self.placement_slots * NARROW_BELOW

    @property
    def capped(self) -> bool:
        """The frequency cap keeps the booking off a noticeable part of their slots."""
        return self.eligible_slots < self.matching_slots * WARN_BELOW

    @property
    def refused(self) -> bool:
        """Too few residents, or the bookings already sold leave less than half the share."""
        return self.suppressed or (self.owed > 0 and self.deliverable < self.owed * REFUSE_BELOW)

    @property
    def warned(self) -> bool:
        return not self.refused and self.limit is not None


def capped_slots(mean: float, limit: float) -> float:
    """Expected min(N, limit) for N ~ Poisson(mean): a resident's days vary, so the cap binds
    on busy days even when the average stays under it."""
    if mean <= 0:
        return 0.0
    probability = math.exp(-mean)  # P(N = 0)
    below = expected = 0.0
    n = 0
    while n < limit:
        below += probability
        expected += n * probability
        n += 1
        probability *= mean / n
    return expected + limit * (1.0 - below)


def forecast(
    traffic: PlacementTraffic,
    targeting: Targeting,
    *,
    shares: int,
    shares_per_week: int,
    days: float,
    cap: int,
    sold: Sequence[SoldBooking] = (),
) -> Forecast:
    """Forecast a booking of `shares` of `shares_per_week` over `days` (see the module doc)."""
    if shares < 1 or shares_per_week < 1 or days <= 0 or cap < 1:
        raise ValueError("need shares, shares_per_week, days and cap all positive")
    share = shares / shares_per_week
    k = traffic.slots_per_view
    total_slots = traffic.slots_per_day
    inside = [reaches(targeting, p.audience()) for p in traffic.profiles]
    matching = eligible = 0.0
    residents = 0
    for profile, matched in zip(traffic.profiles, inside, strict=True):
        if not matched:
            continue
        residents += profile.residents
        for views, count in profile.daily_views:
            matching += count * k * views
            eligible += count * capped_slots(k * views, cap / share)
    # What the bookings already sold must take from these residents: whatever of their share
    # their own audience outside this one cannot give them.
    outside_all = total_slots - matching
    forced = 0.0
    for other in sold:
        own = outside = 0.0
        for profile, matched in zip(traffic.profiles, inside, strict=True):
            if reaches(other.targeting, profile.audience()):
                own += profile.views_per_day * k
                if not matched:
                    outside += profile.views_per_day * k
        forced += max(0.0, other.share * own - outside)
    forced = max(forced, sum(o.share for o in sold) * total_slots - outside_all)
    owed = share * eligible
    deliverable = min(owed, max(0.0, eligible - forced))
    limit: Limit | None = None
    if residents < MIN_RESIDENTS:
        limit = Limit.NARROW
    elif deliverable < owed * WARN_BELOW:
        limit = Limit.SOLD_OUT
    elif matching < total_slots * NARROW_BELOW:
        limit = Limit.NARROW
    elif eligible < matching * WARN_BELOW:
        limit = Limit.CAP
    return Forecast(
        days=days,
        placement_slots=total_slots * days,
        untargeted=share * total_slots * days,
        eligible_slots=eligible * days,
        matching_slots=matching * days,
        owed=owed * days,
        deliverable=deliverable * days,
        matching_residents=residents,
        limit=limit,
        shares_per_week=shares_per_week,
        share_bought=share,
    )
