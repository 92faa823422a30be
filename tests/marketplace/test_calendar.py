from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from marketplace.calendar import (
    fiscal_months,
    fiscal_year,
    fiscal_year_bounds,
    start_of_tokyo_day,
    tokyo_date,
    week_start,
)


def test_tokyo_date_crosses_midnight_nine_hours_before_utc() -> None:
    assert tokyo_date(datetime(2026, 3, 31, 14, 59, tzinfo=UTC)) == date(2026, 3, 31)
    assert tokyo_date(datetime(2026, 3, 31, 15, 0, tzinfo=UTC)) == date(2026, 4, 1)


def test_tokyo_date_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        tokyo_date(datetime(2026, 1, 1))


def test_start_of_tokyo_day_is_utc_previous_evening() -> None:
    assert start_of_tokyo_day(date(2026, 4, 1)) == datetime(2026, 3, 31, 15, 0, tzinfo=UTC)


def test_week_starts_on_monday() -> None:
    assert week_start(date(2026, 11, 29)) == date(2026, 11, 23)  # Sunday -> previous Monday
    assert week_start(date(2026, 11, 23)) == date(2026, 11, 23)


def test_fiscal_year_starts_in_april() -> None:
    assert fiscal_year(date(2026, 3, 31)) == 2025
    assert fiscal_year(date(2026, 4, 1)) == 2026
    assert fiscal_year_bounds(2026) == (date(2026, 4, 1), date(2027, 3, 31))


def test_fiscal_months_run_april_to_march() -> None:
    months = fiscal_months(2026)
    assert months[0] == date(2026, 4, 1)
    assert months[-1] == date(2027, 3, 1)
    assert len(months) == 12
