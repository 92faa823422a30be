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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

MAX_ALPHA = 3.0
LAG_CAP = 12.0


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


class PaceState(NamedTuple):
    """A booking's pacing position: share, slots offered so far (this one included), delivered."""

    share: float
    opportunities: float
    delivered: float

    @property
    def lag(self) -> float:
        return self.share * self.opportunities - self.delivered

    def scale(self, params: PacingParams) -> float:
        return max(params.min_scale, params.scale_fraction * self.share * self.opportunities)


def priority(state: PaceState, relevance: float, params: PacingParams) -> float:
    """relevance ** alpha · exp(clip(lag / scale)), as in the module docstring.

    Worked out for every candidate of every ad slot, so written out in place: the same
    arithmetic as `clip(relevance)`, `PaceState.lag` and `PaceState.scale` (tested against them).
    """
    rel = relevance
    if rel < params.relevance_floor:
        rel = params.relevance_floor
    elif rel > 1.0:
        rel = 1.0
    scale = params.scale_fraction * state.share * state.opportunities
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
