"""The one delivery measure (docs/delivery.md, "What a booking gets")."""

from __future__ import annotations

from fractions import Fraction

import pytest

from marketplace.delivery.measure import (
    DeliveryMeasure,
    MeasureError,
    hourly_rate_ratio,
    view_rate,
)


def test_share_owed_and_shortfall_on_eligible_slots() -> None:
    whole = DeliveryMeasure(Fraction(1), eligible_slots=1_000, impressions=925)
    assert whole.share_delivered == Fraction(37, 40)  # 92.5%, not "100% of what was shown"
    assert (whole.owed, whole.shortfall, whole.shortfall_ratio) == (1_000, 75, Fraction(3, 40))
    assert whole.credit_yen(176_000) == 13_200
    assert whole.deviation == Fraction(-3, 40)

    paused = DeliveryMeasure(Fraction(1, 10), eligible_slots=7_000, impressions=600)
    assert paused.owed == 700 and paused.credit_yen(11_000) == 1_571  # floor(11000 × 1/7)


def test_on_or_ahead_of_what_is_owed_credits_nothing() -> None:
    assert DeliveryMeasure(Fraction(1, 4), 400, 100).credit_yen(44_000) == 0
    ahead = DeliveryMeasure(Fraction(1, 4), 400, 130)
    assert ahead.shortfall == 0 and ahead.credit_yen(44_000) == 0


def test_credit_never_exceeds_what_was_paid_and_rounds_down() -> None:
    nothing = DeliveryMeasure(Fraction(1, 3), 300, 0)
    assert nothing.credit_yen(10_001) == 10_001
    almost = DeliveryMeasure(Fraction(1, 3), 300, 99)  # 1/100 short of 100
    assert almost.credit_yen(10_001) == 100  # floor(100.01)
    assert DeliveryMeasure(Fraction(1, 3), 0, 0).credit_yen(10_001) == 0  # nothing owed


def test_unseen_slots_are_not_owed() -> None:
    # 80% of the placement's offers were seen: 1,000 eligible slots are 800 seen ones.
    rate = view_rate(impressions=800, offers=1_000)
    assert rate == Fraction(4, 5)
    measure = DeliveryMeasure(Fraction(1, 2), 1_000, 400, rate)
    assert measure.seen_slots == 800 and measure.owed == 400 and measure.share_delivered == 0.5
    assert view_rate(0, 0) == 1 and view_rate(5, 4) == 1


def test_spans_add_up() -> None:
    a = DeliveryMeasure(Fraction(1, 4), 100, 20)
    b = DeliveryMeasure(Fraction(1, 4), 300, 80)
    assert a + b == DeliveryMeasure(Fraction(1, 4), 400, 100)
    with pytest.raises(MeasureError):
        a + DeliveryMeasure(Fraction(1, 2), 1, 1)


def test_a_measure_without_slots_has_no_share() -> None:
    empty = DeliveryMeasure(Fraction(1, 4), 0, 0)
    assert empty.share_delivered is None and empty.deviation is None and empty.owed == 0


@pytest.mark.parametrize(
    ("share", "slots", "impressions", "rate"),
    [
        (Fraction(0), 1, 0, Fraction(1)),
        (Fraction(5, 4), 1, 0, Fraction(1)),
        (Fraction(1, 2), -1, 0, Fraction(1)),
        (Fraction(1, 2), 1, -1, Fraction(1)),
        (Fraction(1, 2), 1, 0, Fraction(0)),
    ],
)
def test_impossible_counts_are_refused(
    share: Fraction, slots: int, impressions: int, rate: Fraction
) -> None:
    with pytest.raises(MeasureError):
        DeliveryMeasure(share, slots, impressions, rate)


def test_hourly_rate_ratio() -> None:
    assert hourly_rate_ratio(20, 100, Fraction(1, 10)) == 2.0
    assert hourly_rate_ratio(10, 100, 0.1) == pytest.approx(1.0)
    assert hourly_rate_ratio(3, 0, Fraction(1, 10)) is None
