"""The city's business days: not a weekend, a national holiday or the New Year closure.

Payment deadlines printed on invoices fall on a day a bank and the city office are open, so a
shop can actually pay on the day. National holidays (including substitute holidays and the
"sandwiched" 国民の休日) come from the maintained `holidays` package; city offices also close
from 29 December to 3 January (年末年始), which is no national holiday, so it is added here.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

NEW_YEAR_CLOSURE = ((12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3))


@lru_cache(maxsize=64)
def _national_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("JP", years=year, language="ja")


def closure_reason(day: date) -> str | None:
    """Why the city office is closed on `day` (Japanese), or None on a business day."""
    if (day.month, day.day) in NEW_YEAR_CLOSURE:
        return "年末年始"
    name = _national_holidays(day.year).get(day)
    if name:
        return str(name)
    if day.weekday() == 5:
        return "土曜日"
    if day.weekday() == 6:
        return "日曜日"
    return None


def is_business_day(day: date) -> bool:
    return closure_reason(day) is None


def next_business_day(day: date) -> date:
    """`day` itself when the office is open, else the first open day after it."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day
