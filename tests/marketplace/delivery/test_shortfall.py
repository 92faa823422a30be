"""Why a booking is behind: hours traced to their cause (pure rules of shortfall.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

from marketplace.delivery.forecast import Limit
from marketplace.delivery.shortfall import (
    Cause,
    HourCounts,
    Windows,
    cause_of_hour,
    deficits,
    describe,
    is_behind,
    name_causes,
)

T0 = datetime(2026, 5, 3, 15, tzinfo=UTC)
QUARTER = Fraction(1, 4)


def hours(*impressions: int, slots: int = 100, failed: tuple[int, ...] = ()) -> list[HourCounts]:
    return [
        HourCounts(T0 + timedelta(hours=h), slots, n, counting_failed=h in failed)
        for h, n in enumerate(impressions)
    ]


def at(h: float) -> datetime:
    return T0 + timedelta(hours=h)


def test_an_hour_touched_by_a_pause_belongs_to_it_before_any_other_cause() -> None:
    windows = Windows(paused=((at(2.5), at(4)),), disaster=((at(2), at(3)),))
    found = [cause_of_hour(c, windows) for c in hours(25, 25, 0, 0, 25)]
    assert found == [None, None, Cause.PAUSED, Cause.PAUSED, None]


def test_review_and_outage_hours() -> None:
    windows = Windows(review=((at(0), at(1)),))
    found = [cause_of_hour(c, windows) for c in hours(0, 25, 0, failed=(2,))]
    assert found == [Cause.REVIEW, None, Cause.OUTAGE]


def test_a_pause_that_was_not_caught_up_is_named() -> None:
    windows = Windows(paused=((at(2), at(4)),))
    found = deficits(hours(25, 25, 0, 0, 25), windows, QUARTER, Fraction(1))
    assert found == {None: 0, Cause.PAUSED: 50}
    assert name_causes(found, Fraction(50), None) == (Cause.PAUSED,)


def test_caught_up_hours_are_not_a_cause() -> None:
    windows = Windows(paused=((at(2), at(3)),))
    found = deficits(hours(25, 25, 0, 40, 35), windows, QUARTER, Fraction(1))
    assert found[None] == -25 and found[Cause.PAUSED] == 25
    assert name_causes(found, Fraction(0), None) == ()


def test_ordinary_hours_behind_are_named_by_the_forecast_or_honestly_unknown() -> None:
    found = deficits(hours(20, 20, 20), Windows(), QUARTER, Fraction(1))
    assert name_causes(found, Fraction(15), None) == (Cause.CHECKING,)
    assert name_causes(found, Fraction(15), Limit.SOLD_OUT) == (Cause.SOLD_OUT,)
    assert name_causes(found, Fraction(15), Limit.CAP) == (Cause.CAP,)


def test_several_causes_largest_first_and_small_ones_left_out() -> None:
    windows = Windows(paused=((at(0), at(2)),), disaster=((at(3), at(4)),))
    found = deficits(hours(0, 0, 24, 0, 25, 25), windows, QUARTER, Fraction(1))
    shortfall = sum(found.values(), Fraction(0))
    assert shortfall == 76
    assert name_causes(found, shortfall, None) == (Cause.PAUSED, Cause.DISASTER)
    assert describe((Cause.PAUSED, Cause.DISASTER)) == (
        "市の職員による一時停止、災害モード(市がすべての広告を止めていた時間)"
    )


def test_behind_means_more_than_three_percent_short() -> None:
    assert not is_behind(QUARTER, Fraction(243, 1000))
    assert is_behind(QUARTER, Fraction(242, 1000))
    assert not is_behind(QUARTER, None)
