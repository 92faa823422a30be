from __future__ import annotations

import math

import pytest

from marketplace.delivery.forecast import (
    MIN_RESIDENTS,
    Limit,
    PlacementTraffic,
    ProfileTraffic,
    SoldBooking,
    capped_slots,
    forecast,
)
from marketplace.inventory.targeting import EVERYONE, parse_targeting


def profile(age: str, district: str, residents: int, views: float = 1.0) -> ProfileTraffic:
    return ProfileTraffic(age, "single", district, (), True, ((views, residents),))


# 1,000 residents a view a day each: 900 in their 40s in sakaemachi, 100 over 70 in tsuruga.
CITY = PlacementTraffic(
    slots_per_day=1000.0,
    profiles=(profile("40-49", "sakaemachi", 900), profile("70+", "tsuruga", 100)),
)
OLD_TSURUGA = parse_targeting({"age_bands": ["70+"], "districts": ["tsuruga"]})


def test_capped_slots_is_the_poisson_expectation() -> None:
    mean, cap = 2.0, 3
    exact = sum(min(n, cap) * math.exp(-mean) * mean**n / math.factorial(n) for n in range(60))
    assert capped_slots(mean, cap) == pytest.approx(exact)
    assert capped_slots(0.0, cap) == 0.0
    assert capped_slots(0.5, 100) == pytest.approx(0.5)


def test_an_untargeted_booking_is_owed_its_share_of_every_slot() -> None:
    f = forecast(CITY, EVERYONE, shares=1, shares_per_week=4, days=7, cap=3)
    assert f.limit is None and not f.warned and not f.refused
    assert f.share == pytest.approx(0.25)
    assert f.deliverable == pytest.approx(0.25 * 7 * 1000, rel=0.01)


def test_a_narrow_booking_is_warned_with_its_small_reach() -> None:
    f = forecast(CITY, OLD_TSURUGA, shares=1, shares_per_week=4, days=7, cap=3)
    assert f.limit is Limit.NARROW and f.warned and not f.refused
    assert f.reach_ratio == pytest.approx(0.1, rel=0.02)
    assert f.matching_residents == 100


def test_too_few_residents_is_refused_without_a_figure() -> None:
    tiny = PlacementTraffic(1000.0, (profile("70+", "tsuruga", MIN_RESIDENTS - 1),
                                     profile("40-49", "sakaemachi", 900)))  # fmt: skip
    f = forecast(tiny, OLD_TSURUGA, shares=1, shares_per_week=4, days=7, cap=3)
    assert f.suppressed and f.refused and f.limit is Limit.NARROW


def test_the_cap_limits_a_large_share_of_busy_residents() -> None:
    busy = PlacementTraffic(4000.0, (profile("40-49", "sakaemachi", 1000, views=4.0),))
    f = forecast(busy, EVERYONE, shares=4, shares_per_week=4, days=7, cap=3)
    assert f.limit is Limit.CAP
    assert f.eligible_slots < 0.8 * f.placement_slots


def test_bookings_already_sold_on_the_same_residents_can_sell_them_out() -> None:
    # Residents opening 20 slots a day: a quarter share reaches its cap of 3 after about 12 of
    # them, while the three quarters sold before need 15 of their 20.
    busy = PlacementTraffic(20_000.0, (profile("70+", "tsuruga", 1000, views=20.0),))
    sold = [SoldBooking(0.75, EVERYONE)]
    f = forecast(busy, OLD_TSURUGA, shares=1, shares_per_week=4, days=7, cap=3, sold=sold)
    assert f.limit is Limit.SOLD_OUT and f.refused
    assert f.share < 0.25 / 2


def test_an_untargeted_booking_sold_before_moves_to_the_other_residents() -> None:
    sold = [SoldBooking(0.5, EVERYONE)]
    f = forecast(CITY, OLD_TSURUGA, shares=1, shares_per_week=4, days=7, cap=3, sold=sold)
    assert f.limit is Limit.NARROW and not f.refused
    assert f.share == pytest.approx(0.25)
