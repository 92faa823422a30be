"""Pacing: every booking gets the share of its placement's impressions it bought, evenly.

A booking with share s has, once its placement has offered T ad slots ("opportunities") during
its period, the current one included, been promised s·T impressions. Its *lag* is what it is
owed at this slot,

    lag = s·T − delivered.

Deficit-based allocation with relevance. For a resident and a slot, every candidate booking
gets

    priority = relevance ** alpha · exp(clip(lag / scale, -cap, cap))

where `relevance` in (0, 1] is how well this resident matches the ad compared with the rest of
the population (its score percentile among residents; for a resident who is not personalized,
the neutral value at which a booking on schedule just qualifies) and `scale` grows with the promised volume (a fixed fraction of s·T, at least a
few impressions). The slot goes to the highest priority that reaches `fill_threshold`; when none
does, the slot stays unfilled (the placement's unsold share).

Why this paces: a booking that is on schedule (lag 0) only wins residents whose relevance
clears `fill_threshold ** (1 / alpha)`, i.e. the residents who suit it best. If too few of those
come by, it falls behind, the exponential term grows by e per `scale` of lag, and the threshold
on relevance drops until enough residents qualify. If it runs ahead, even its best residents stop
qualifying (lag below −scale · ln(1 / fill_threshold) blocks everything), so it can never run far
ahead of what it bought. `alpha` and `relevance_floor` are bounded, so the lag needed to reach
any resident is at most `scale · (alpha · ln(1 / relevance_floor) − ln(1 / fill_threshold))`,
a few percent of the booking's volume at every moment, not only at the end: that is what
"evenly over the period" means here. Each booking settles at the lag that makes the share of
residents it qualifies for equal the share it bought, so ads go to the residents who value them.

Catch-up (`hourly_pace`). Pacing works hour by hour: within an hour a booking is paced on
the slots it is eligible for and its offers that hour, from a pace worked out from the database
at the start of the hour (every worker computes the same one), on the one delivery measure
(owed minus valid impressions):

* ahead: the share bought, starting the hour that far ahead, so it waits for what it is owed;
* behind by up to its *band* (the lag at which pacing lets it reach any resident, a few scales):
  the share bought, starting the hour that far behind, so the lag pacing holds carries on from
  hour to hour as it would over the booking's whole life (a fresh start each hour would cost
  every booking that lag again every hour: a placement bought whole lost a sixth of its slots);
* behind by more (a pause, a late approval, disaster mode, a lost queue): the rest is spread
  evenly over the eligible slots expected in its remaining live hours, so it is repaid by the
  booking's end, at most `MAX_CATCH_UP` × the share bought.

Whatever it is owed, a booking never wins more than `RATE_CEILING` × its share of an hour's
eligible slots (`PaceState.ceiling`; one impression of slack), so no hour runs above twice its
even rate. A booking owed every slot it is eligible for (`share ≥ 1`: the placement bought
whole, or a catch-up at twice a half share) takes each one: choosing residents by relevance
only makes sense for a booking owed some of them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

MAX_ALPHA = 3.0
LAG_CAP = 12.0
# A booking catching up wins at most this many times its share of an hour's eligible slots.
MAX_CATCH_UP = 2.0
# Within an hour a booking wins at most this many times its share of the eligible slots so far,
# plus one impression: with at least 10 impressions owed in an hour, well within MAX_CATCH_UP
# (the margin covers the other workers' offers it has not read yet).
RATE_CEILING = 1.75


class PacingParamsError(ValueError):
    """Pacing parameters outside their safe range."""


@dataclass(frozen=True)
class PacingParams:
    alpha: float = 1.5
    scale_fraction: float = 0.006
    min_scale: float = 3.0
    fill_threshold: float = math.exp(-1.0)
    relevance_floor: float = 0.05

    @property
    def neutral_relevance(self) -> float:
        """Relevance for viewers we may not personalize for: an on-schedule booking qualifies."""
        if self.alpha == 0:
            return 1.0
        return float(self.fill_threshold ** (1.0 / self.alpha))

    def __post_init__(self) -> None:
        if not 0.0 <= self.alpha <= MAX_ALPHA:
            raise PacingParamsError(f"alpha must be within [0, {MAX_ALPHA}]")
        if not 0.0 < self.scale_fraction <= 0.05:
            raise PacingParamsError("scale_fraction must be within (0, 0.05]")
        if self.min_scale <= 0:
            raise PacingParamsError("min_scale must be positive")
        if not 0.0 < self.fill_threshold <= 1.0:
            raise PacingParamsError("fill_threshold must be within (0, 1]")
        if not 0.0 < self.relevance_floor <= 1.0:
            raise PacingParamsError("relevance_floor must be within (0, 1]")


DEFAULT_PARAMS = PacingParams()


class PaceState(NamedTuple):
    """A booking's pacing position: share, slots offered so far (this one included), delivered;
    `owed_before` (slots' worth owed before this hour) only widens the scale, which grows with
    the volume promised over the booking's life, not just this hour's. `ceiling`: delivered
    beyond it, the booking may not win (the hour's rate ceiling, `RATE_CEILING`)."""

    share: float
    opportunities: float
    delivered: float
    owed_before: float = 0.0
    ceiling: float = math.inf

    @property
    def lag(self) -> float:
        return self.share * self.opportunities - self.delivered

    def scale(self, params: PacingParams) -> float:
        return max(
            params.min_scale,
            params.scale_fraction * (self.owed_before + self.share * self.opportunities),
        )


class HourlyPace(NamedTuple):
    """How a booking is paced within one hour: the share of the hour's eligible slots to win,
    and how many slots' worth it starts the hour ahead (negative: behind, the lag it carries
    into the hour, at most its band)."""

    share: float
    ahead: float = 0.0
    owed_before: float = 0.0  # slots' worth owed before this hour (share bought × eligible)


def band(owed: float, params: PacingParams) -> float:
    """The lag at which pacing lets a booking owed `owed` slots' worth reach any resident:
    relevance_floor ** alpha · exp(lag / scale) = fill_threshold."""
    scale = max(params.min_scale, params.scale_fraction * owed)
    return scale * max(
        0.0, params.alpha * math.log(1.0 / params.relevance_floor) + math.log(params.fill_threshold)
    )


def hourly_pace(
    share: float,
    *,
    eligible_before: int,
    impressions_before: int,
    view_rate: float,
    hours_before: float,
    hours_left: float,
    max_ratio: float = RATE_CEILING,
    params: PacingParams | None = None,
) -> HourlyPace:
    """The booking's pace for this hour, from its live hours before it.

    `eligible_before` and `impressions_before` are its eligible slots and valid impressions
    before this hour (`hours_before` hours had eligible slots; `hours_left` remain, this one
    included), `view_rate` its placement's valid impressions per offer. What it is behind
    (owed − delivered, converted to slots to win) is carried into the hour up to its `band`;
    the rest is spread over the eligible slots expected in the remaining hours at the rate seen
    so far, at most `max_ratio` × the share. Ahead: the share bought, starting the hour that
    far ahead, so it waits until what it is owed catches up, as if paced over its whole life.
    """
    if eligible_before <= 0 or hours_before <= 0 or view_rate <= 0:
        return HourlyPace(share)
    owed = share * eligible_before
    behind = owed - impressions_before / view_rate
    if behind <= 0:
        return HourlyPace(share, -behind, owed)
    carried = min(behind, band(owed, params or DEFAULT_PARAMS))
    rest = behind - carried
    if hours_left <= 0 or rest <= 0:
        return HourlyPace(share, -carried, owed)
    expected_left = eligible_before / hours_before * hours_left
    return HourlyPace(min(max_ratio * share, share + rest / expected_left), -carried, owed)


def priority(state: PaceState, relevance: float, params: PacingParams) -> float:
    """relevance ** alpha · exp(clip(lag / scale)), as in the module docstring.

    Worked out for every candidate of every ad slot, so written out in place: the same
    arithmetic as `clip(relevance)`, `PaceState.lag` and `PaceState.scale` (tested against them).
    0 above the hour's rate ceiling; relevance 1 for a booking owed every slot (share ≥ 1).
    """
    if state.delivered > state.ceiling:
        return 0.0
    rel = relevance
    if state.share >= 1.0:  # owed every slot: any resident will do
        rel = 1.0
    elif rel < params.relevance_floor:
        rel = params.relevance_floor
    elif rel > 1.0:
        rel = 1.0
    scale = params.scale_fraction * (state.owed_before + state.share * state.opportunities)
    if scale < params.min_scale:
        scale = params.min_scale
    pressure = (state.share * state.opportunities - state.delivered) / scale
    if pressure > LAG_CAP:
        pressure = LAG_CAP
    elif pressure < -LAG_CAP:
        pressure = -LAG_CAP
    return rel**params.alpha * math.exp(pressure)


def choose(
    states: Sequence[PaceState], relevances: Sequence[float], params: PacingParams
) -> int | None:
    """Index of the booking that takes this slot, or None when none may."""
    if len(states) != len(relevances):
        raise ValueError("one relevance per pacing state is required")
    best: int | None = None
    best_priority = -1.0
    threshold = params.fill_threshold
    for index, (state, relevance) in enumerate(zip(states, relevances, strict=True)):
        value = priority(state, relevance, params)
        if value >= threshold and value > best_priority:
            best, best_priority = index, value
    return best
