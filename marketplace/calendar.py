"""Dates as the city counts them: Asia/Tokyo days, Monday-start weeks, April fiscal years."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")
FISCAL_YEAR_START_MONTH = 4


def tokyo_date(moment: datetime) -> date:
    """The calendar day in Tokyo on which an aware instant falls."""
    if moment.tzinfo is None:
        raise ValueError("tokyo_date needs a timezone-aware datetime")
    return moment.astimezone(TOKYO).date()


def start_of_tokyo_day(day: date) -> datetime:
    """Midnight in Tokyo at the start of `day`, as an aware UTC instant."""
    return datetime.combine(day, time.min, tzinfo=TOKYO).astimezone(UTC)


def week_start(day: date) -> date:
    """The Monday that starts the week containing `day`."""
    return day - timedelta(days=day.weekday())


def fiscal_year(day: date) -> int:
    """Japanese fiscal year (年度): FY2026 runs from 2026-04-01 to 2027-03-31."""
    return day.year if day.month >= FISCAL_YEAR_START_MONTH else day.year - 1


def fiscal_year_bounds(year: int) -> tuple[date, date]:
    """First and last day (inclusive) of fiscal year `year`."""
    return date(year, FISCAL_YEAR_START_MONTH, 1), date(
        year + 1, FISCAL_YEAR_START_MONTH, 1
    ) - timedelta(days=1)


def fiscal_months(year: int) -> list[date]:
    """The first day of each of the twelve months of fiscal year `year`, April first."""
    months = []
    for offset in range(12):
        month_index = FISCAL_YEAR_START_MONTH - 1 + offset
        months.append(date(year + month_index // 12, month_index % 12 + 1, 1))
    return months
