from __future__ import annotations

from datetime import date

import pytest

from marketplace.business_days import closure_reason, is_business_day, next_business_day


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 12, 2), date(2026, 12, 2)),  # a Wednesday stays
        (date(2026, 12, 5), date(2026, 12, 7)),  # Saturday → Monday
        (date(2026, 12, 6), date(2026, 12, 7)),  # Sunday → Monday
        # 年末年始: 29 Dec 2026 (Tue) to 3 Jan 2027 (Sun), no national holiday but closed.
        (date(2026, 12, 29), date(2027, 1, 4)),
        (date(2026, 12, 31), date(2027, 1, 4)),
        (date(2027, 1, 2), date(2027, 1, 4)),
        # 成人の日 2027 is Monday 11 January.
        (date(2027, 1, 9), date(2027, 1, 12)),
        # Golden Week 2027: 3 (Mon) 憲法記念日, 4 みどりの日, 5 こどもの日.
        (date(2027, 5, 1), date(2027, 5, 6)),
        # 2026: 敬老の日 21 Sep (Mon), 国民の休日 22 Sep, 秋分の日 23 Sep.
        (date(2026, 9, 19), date(2026, 9, 24)),
        # 振替休日: 11 Feb 2029 is a Sunday, so Monday 12 Feb is a substitute holiday.
        (date(2029, 2, 11), date(2029, 2, 13)),
    ],
)
def test_next_business_day_skips_weekends_holidays_and_the_new_year(
    day: date, expected: date
) -> None:
    assert next_business_day(day) == expected


def test_closure_reasons_are_japanese() -> None:
    assert closure_reason(date(2026, 12, 30)) == "年末年始"
    assert closure_reason(date(2027, 1, 11)) == "成人の日"
    assert closure_reason(date(2026, 12, 5)) == "土曜日"
    assert closure_reason(date(2026, 12, 2)) is None
    assert is_business_day(date(2026, 12, 28))
