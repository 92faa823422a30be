from __future__ import annotations

import math
import random

import pytest

from marketplace.delivery.pacing import (
    LAG_CAP,
    RATE_CEILING,
    HourlyPace,
    PaceState,
    PacingParams,
    PacingParamsError,
    band,
    choose,
    hourly_pace,
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
            share=rng.uniform(0.01, 0.999),
            opportunities=float(rng.randint(0, 100_000)),
            delivered=float(rng.randint(0, 100_000)),
        )
        relevance = rng.uniform(-0.5, 1.5)
        rel = min(1.0, max(params.relevance_floor, relevance))
        pressure = max(-LAG_CAP, min(LAG_CAP, state.lag / state.scale(params)))
        assert priority(state, relevance, params) == rel**params.alpha * math.exp(pressure)


def test_catch_up_spreads_the_deficit_over_the_hours_left_within_twice_the_share() -> None:
    even = {"view_rate": 1.0, "hours_before": 10.0, "hours_left": 10.0}
    # On schedule: the share bought; 100 slots' worth owed so far widens the scale.
    on_time = hourly_pace(0.1, eligible_before=1_000, impressions_before=100, **even)
    assert on_time == HourlyPace(0.1, 0.0, 100.0)
    # Its band: the lag at which pacing reaches any resident (scale 3: at least min_scale).
    carried = band(100.0, PARAMS)
    assert carried == pytest.approx(3 * (1.5 * math.log(20) - 1))
    # Behind within the band: the share bought, the lag carried into the hour.
    within = hourly_pace(0.1, eligible_before=1_000, impressions_before=95, **even)
    assert within.share == 0.1 and within.ahead == pytest.approx(-5)
    # 20 behind: the band carried, the rest spread over the 1,000 slots of the 10 hours left.
    behind = hourly_pace(0.1, eligible_before=1_000, impressions_before=80, **even)
    assert behind.ahead == pytest.approx(-carried)
    assert behind.share == pytest.approx(0.1 + (20 - carried) / 1_000)
    # Far behind (a long pause): never more than the rate ceiling in any hour.
    far = hourly_pace(0.1, eligible_before=10_000, impressions_before=0, **even)
    assert far.share == RATE_CEILING * 0.1
    # Ahead: the share bought, starting the hour that far ahead (it waits for the schedule).
    ahead = hourly_pace(0.1, eligible_before=1_000, impressions_before=110, **even)
    assert ahead.share == 0.1 and ahead.ahead == pytest.approx(10)
    # Half the offers are seen: 50 impressions owed, 40 shown = 20 slots' worth behind.
    half = {**even, "view_rate": 0.5}
    seen = hourly_pace(0.1, eligible_before=1_000, impressions_before=40, **half)
    assert seen.share == pytest.approx(behind.share)
    # Nothing known yet, or no hour left: the share bought (the band still carried).
    assert hourly_pace(0.1, eligible_before=0, impressions_before=0, **even) == HourlyPace(0.1)
    last = hourly_pace(
        0.1, eligible_before=100, impressions_before=0, view_rate=1.0, hours_before=1.0,
        hours_left=0.0,
    )  # fmt: skip
    assert last.share == 0.1 and last.ahead == pytest.approx(-min(10.0, band(10.0, PARAMS)))


def test_the_lag_pacing_holds_carries_from_hour_to_hour() -> None:
    """A booking that needs a lag to reach enough residents keeps it across the hour: hour after
    hour it wins its share, instead of losing that lag again at every hour's start."""
    params = PARAMS
    share, delivered, eligible, hours = 0.5, 0, 0, 0
    rng = random.Random(5)
    for _ in range(48):
        pace = hourly_pace(
            share, eligible_before=eligible, impressions_before=delivered, view_rate=1.0,
            hours_before=float(hours), hours_left=100.0, params=params,
        )  # fmt: skip
        won = 0
        for n in range(1, 201):
            state = PaceState(pace.share, n, won + pace.ahead, pace.owed_before)
            # Only a fifth of the residents suit it well: it needs a lag to win half.
            relevance = 0.9 if rng.random() < 0.2 else 0.1
            if choose([state], [relevance], params) == 0:
                won += 1
        delivered, eligible, hours = delivered + won, eligible + 200, hours + 1
    # Short only by the lag it holds now, within its band (under 2% of what it was owed);
    # starting each hour from no lag lost about a third here.
    assert 0 < share * eligible - delivered <= band(share * eligible, params) + 1


def test_a_booking_owed_every_slot_takes_each_one() -> None:
    """Share 1 (the placement bought whole): relevance does not decide; it wins every slot."""
    state = PaceState(1.0, 1, 0)
    assert choose([state], [PARAMS.relevance_floor], PARAMS) == 0
    assert priority(state, 0.0, PARAMS) == priority(state, 1.0, PARAMS)


def test_no_hour_runs_above_the_rate_ceiling() -> None:
    """However far behind, a booking wins at most RATE_CEILING × its share of the hour's
    slots (plus one): past its ceiling it may not win."""
    # 10% bought, catching up at 19%, 10 impressions behind when the hour began (carried);
    # 100 eligible slots so far this hour.
    carried, most = -10.0, RATE_CEILING * 0.1 * 100
    under = PaceState(0.19, 100, math.floor(most) + carried, ceiling=most + carried)
    assert under.lag > 0 and priority(under, 1.0, PARAMS) > 0
    over = under._replace(delivered=math.floor(most) + 1 + carried)  # above the ceiling
    assert over.lag > 0
    assert priority(over, 1.0, PARAMS) == 0.0
    assert choose([over], [1.0], PARAMS) is None


def test_the_scale_grows_with_the_volume_owed_before_the_hour() -> None:
    params = PacingParams()
    assert PaceState(0.1, 100, 10).scale(params) == params.min_scale
    widened = PaceState(0.1, 100, 10, owed_before=10_000)
    assert widened.scale(params) == pytest.approx(params.scale_fraction * 10_010)
    assert priority(widened, 0.5, params) == pytest.approx(
        0.5**params.alpha * math.exp(widened.lag / widened.scale(params))
    )
