from __future__ import annotations

from datetime import date

import pytest

from analytics.errors import InvalidAmount, InvalidPeriod
from analytics.inputs import month_start_in_fiscal_year, parse_fiscal_year, parse_month, parse_yen


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1200000", 1_200_000), ("¥1,200,000", 1_200_000), ("１２０円", 120), (0, 0), (5.0, 5)],
)
def test_parse_yen_accepts_whole_yen_in_common_spellings(raw: object, expected: int) -> None:
    assert parse_yen(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("-100", "負の値"),
        (-1, "負の値"),
        ("12.5", "整数"),
        (12.5, "小数"),
        ("", "入力してください"),
        ("abc", "整数"),
        (True, "整数"),
        (None, "整数"),
        (10**14, "大きすぎます"),
    ],
)
def test_parse_yen_refuses_bad_amounts_naming_the_field(raw: object, fragment: str) -> None:
    with pytest.raises(InvalidAmount) as caught:
        parse_yen(raw, field="running_cost")
    assert fragment in caught.value.message
    assert caught.value.field == "running_cost"
    assert caught.value.message.startswith("running_cost:")


def test_parse_fiscal_year_range() -> None:
    assert parse_fiscal_year("2026") == 2026
    assert parse_fiscal_year(2030) == 2030
    for bad in ("1999", "2101", "26", "year", None, "2026.5"):
        with pytest.raises(InvalidPeriod, match="fiscal_year"):
            parse_fiscal_year(bad)


def test_parse_month_and_fiscal_month_dates() -> None:
    assert parse_month("") == 0
    assert parse_month("4") == 4
    with pytest.raises(InvalidPeriod):
        parse_month("13")
    assert month_start_in_fiscal_year(2026, 4) == date(2026, 4, 1)
    assert month_start_in_fiscal_year(2026, 3) == date(2027, 3, 1)
