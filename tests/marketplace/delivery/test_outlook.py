"""Forecast vs sold per placement-week (pure rules of outlook.py)."""

from __future__ import annotations

from datetime import date

import pytest

from marketplace.delivery.forecast import Limit, PlacementTraffic, ProfileTraffic
from marketplace.delivery.outlook import SoldShare, WeekOutlook, week_outlook
from marketplace.inventory.targeting import EVERYONE, parse_targeting

WEEK = date(2026, 12, 7)
CITY = PlacementTraffic(
    slots_per_day=1000.0,
    profiles=(
        ProfileTraffic("40-49", "single", "sakaemachi", (), True, ((1.0, 900),)),
        ProfileTraffic("70+", "single", "tsuruga", (), True, ((1.0, 100),)),
    ),
)
OLD_TSURUGA = parse_targeting({"age_bands": ["70+"], "districts": ["tsuruga"]})


def outlook(*sold: SoldShare) -> WeekOutlook:
    return week_outlook(CITY, WEEK, sold, total_shares=4, shares_per_week=4, cap=3)


def test_a_placement_sold_whole_untargeted_can_be_delivered() -> None:
    week = outlook(SoldShare(1, 3, EVERYONE), SoldShare(2, 1, EVERYONE))
    assert week.sold_shares == 4 and not week.oversold and week.short_bookings == ()
    assert week.sold == pytest.approx(7 * 1000, rel=0.01)
    assert week.ratio == pytest.approx(1.0, abs=0.01)


def test_narrow_bookings_sold_beyond_their_residents_are_flagged() -> None:
    """Five shares' worth sold to the same hundred residents (staff lowered the placement's
    shares after the sale): the week is oversold and each booking names the cause."""
    week = outlook(
        SoldShare(1, 2, OLD_TSURUGA), SoldShare(2, 2, OLD_TSURUGA), SoldShare(3, 1, OLD_TSURUGA)
    )
    assert week.oversold and week.ratio is not None and week.ratio < 0.97
    assert {b.booking_id for b in week.short_bookings} == {1, 2, 3}
    assert {b.limit for b in week.short_bookings} == {Limit.SOLD_OUT}


def test_a_narrow_booking_beside_untargeted_ones_is_fine() -> None:
    week = outlook(SoldShare(1, 1, OLD_TSURUGA), SoldShare(2, 3, EVERYONE))
    assert not week.oversold and week.short_bookings == ()


def test_without_traffic_there_is_no_forecast_and_no_flag() -> None:
    week = week_outlook(None, WEEK, [SoldShare(1, 1, EVERYONE)], total_shares=4,
                        shares_per_week=4, cap=3)  # fmt: skip
    assert not week.forecast_known and week.ratio is None and not week.oversold
    assert week.sold_shares == 1
