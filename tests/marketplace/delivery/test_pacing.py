from __future__ import annotations

import math
import random

import pytest

from marketplace.delivery.pacing import (
    LAG_CAP,
    PaceState,
    PacingParams,
    PacingParamsError,
    choose,
    priority,
)

PARAMS = PacingParams()


def test_lag_is_promise_minus_delivery() -> None:
    assert PaceState(share=0.1, opportunities=1000, delivered=90).lag == pytest.approx(10)


def test_the_most_behind_booking_wins_at_equal_relevance() -> None:
    states = [PaceState(0.1, 1000, 100), PaceState(0.1, 1000, 95), PaceState(0.2, 1000, 200)]
    assert choose(states, [0.5, 0.5, 0.5], PARAMS) == 1


def test_relevance_wins_while_pacing_allows() -> None:
    states = [PaceState(0.1, 1000, 100), PaceState(0.1, 1000, 100)]
    assert choose(states, [0.2, 0.9], PARAMS) == 1


def test_a_booking_far_behind_beats_a_more_relevant_one() -> None:
    behind = PaceState(0.1, 1000, 70)
    on_time = PaceState(0.1, 1000, 100)
    assert choose([behind, on_time], [PARAMS.relevance_floor, 1.0], PARAMS) == 0


def test_a_booking_ahead_of_schedule_gets_nothing() -> None:
    ahead = PaceState(0.1, 1000, 110)
    assert choose([ahead], [1.0], PARAMS) is None


def test_priority_grows_by_e_per_scale_of_lag() -> None:
    base = PaceState(0.1, 10_000, 1000)
    scale = base.scale(PARAMS)
    behind = PaceState(0.1, 10_000, 1000 - scale)
    ratio = priority(behind, 0.5, PARAMS) / priority(base, 0.5, PARAMS)
    assert ratio == pytest.approx(math.e)


def test_relevance_is_floored_and_alpha_bounded() -> None:
    state = PaceState(0.1, 1000, 100)
    assert priority(state, 0.0, PARAMS) == priority(state, PARAMS.relevance_floor, PARAMS)
    with pytest.raises(PacingParamsError):
        PacingParams(alpha=5)
    with pytest.raises(PacingParamsError):
        PacingParams(fill_threshold=0)
    with pytest.raises(ValueError):
        choose([state], [], PARAMS)


def test_simulated_stream_delivers_each_share_within_tolerance() -> None:
    # Two bookings, 30% and 50%; relevances alternate so each wins some residents outright.
    shares = [0.3, 0.5]
    delivered = [0, 0]
    opportunities = 0
    for n in range(20_000):
        opportunities += 1
        states = [PaceState(s, opportunities, d) for s, d in zip(shares, delivered, strict=True)]
        relevances = [0.9, 0.1] if n % 3 else [0.1, 0.9]
        index = choose(states, relevances, PARAMS)
        if index is not None:
            delivered[index] += 1
    for share, count in zip(shares, delivered, strict=True):
        assert abs(count / opportunities - share) / share < 0.02


def test_priority_is_the_documented_formula_over_its_whole_range() -> None:
    """`priority` is written out for speed; it must equal the formula built from its parts."""
    rng = random.Random(3)
    for _ in range(5000):
        params = PacingParams(
            alpha=rng.uniform(0, 3), scale_fraction=rng.uniform(0.001, 0.05),
            min_scale=rng.uniform(0.5, 10), relevance_floor=rng.uniform(0.01, 1),
        )  # fmt: skip
        state = PaceState(
            share=rng.uniform(0.01, 1),
            opportunities=float(rng.randint(0, 100_000)),
            delivered=float(rng.randint(0, 100_000)),
        )
        relevance = rng.uniform(-0.5, 1.5)
        rel = min(1.0, max(params.relevance_floor, relevance))
        pressure = max(-LAG_CAP, min(LAG_CAP, state.lag / state.scale(params)))
        assert priority(state, relevance, params) == rel**params.alpha * math.exp(pressure)
