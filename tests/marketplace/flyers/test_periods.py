"""掲載期間 and 特売期間: validation, and what they mean for delivery and booking."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from marketplace.calendar import start_of_tokyo_day
from marketplace.errors import InvalidInput
from marketplace.flyers.periods import (
    MAX_SHOWN_DAYS,
    FlyerPeriods,
    every_week_shown,
    parse_periods,
    shown_window,
)

TODAY = date(2027, 3, 24)  # a Wednesday


def form(**values: str) -> dict[str, str]:
    return {"shown_from": "2027-03-24", "shown_until": "2027-03-30", **values}


def test_a_display_period_with_an_optional_sale() -> None:
    assert parse_periods(form(), TODAY) == FlyerPeriods(date(2027, 3, 24), date(2027, 3, 30))
    with_sale = parse_periods(form(sale_from="2027-03-26", sale_until="2027-03-28"), TODAY)
    assert (with_sale.sale_from, with_sale.sale_until) == (date(2027, 3, 26), date(2027, 3, 28))


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"shown_from": ""}, "shown_from", "掲載開始日を入力してください"),
        ({"shown_until": "30/03/2027"}, "shown_until", "2026-12-05 のような日付"),
        (
            {"shown_until": "2027-03-20", "shown_from": "2027-03-21"},
            "shown_until",
            "掲載開始日より後",
        ),
        (
            {"shown_from": "2027-03-01", "shown_until": "2027-03-23"},
            "shown_until",
            "もう過ぎています",
        ),
        (
            {"shown_until": (TODAY + timedelta(days=MAX_SHOWN_DAYS)).isoformat()},
            "shown_until",
            f"{MAX_SHOWN_DAYS}日以内",
        ),
        ({"sale_from": "2027-03-25"}, "sale_until", "両方を入力"),
        ({"sale_from": "2027-03-28", "sale_until": "2027-03-26"}, "sale_until", "開始日より後"),
        ({"sale_from": "2027-04-01", "sale_until": "2027-04-02"}, "sale_from", "重なっていません"),
    ],
)
def test_bad_dates_name_the_field_in_japanese(
    values: dict[str, str], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as error:
        parse_periods(form(**values), TODAY)
    assert error.value.field == field


def test_delivery_window_is_the_booking_narrowed_to_the_display_period() -> None:
    week = date(2027, 3, 29)
    booked = (start_of_tokyo_day(week), start_of_tokyo_day(week + timedelta(days=7)))
    start, end = shown_window(date(2027, 3, 24), date(2027, 3, 31), *booked)
    assert (start, end) == (booked[0], start_of_tokyo_day(date(2027, 4, 1)))
    # No day in common: an empty window, never live.
    start, end = shown_window(date(2027, 3, 1), date(2027, 3, 10), *booked)
    assert start == end


def test_every_booked_week_must_have_a_shown_day() -> None:
    periods = FlyerPeriods(date(2027, 3, 31), date(2027, 4, 6))  # Wednesday to Tuesday
    assert every_week_shown(periods, date(2027, 3, 29), date(2027, 4, 5))
    assert not every_week_shown(periods, date(2027, 3, 29), date(2027, 4, 12))
    assert not every_week_shown(periods, date(2027, 3, 22), date(2027, 3, 29))
