from __future__ import annotations

from datetime import date

import pandas as pd

from analytics.forecast import forecast_year


def test_forecast_uses_actuals_then_max_of_booked_and_run_rate() -> None:
    recognised = pd.DataFrame(
        {
            "month": [date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1), date(2026, 7, 1)],
            "revenue": [100, 200, 300, 400],
        }
    )
    scheduled = pd.DataFrame({"month": [date(2026, 8, 1), date(2026, 9, 1)], "revenue": [50, 900]})
    forecast = forecast_year(2026, date(2026, 8, 10), recognised, scheduled, annual_cost=12_000)
    assert forecast.run_rate == 300  # mean of May, June, July
    months = forecast.months.set_index("month")
    assert months.loc[date(2026, 7, 1), "kind"] == "actual"
    assert months.loc[date(2026, 8, 1), "revenue"] == 300
    assert months.loc[date(2026, 9, 1), "revenue"] == 900
    assert forecast.total == 1000 + 300 + 900 + 300 * 6
    assert forecast.offset_ratio == forecast.total / 12_000
    assert any("直近 3 か月" in line for line in forecast.assumptions)


def test_forecast_without_history_or_costs() -> None:
    empty = pd.DataFrame(columns=["month", "revenue"])
    forecast = forecast_year(2026, date(2026, 4, 1), empty, empty, annual_cost=0)
    assert forecast.total == 0
    assert forecast.offset_ratio is None
    assert any("0 円" in line for line in forecast.assumptions)
