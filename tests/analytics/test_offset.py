from __future__ import annotations

import json
import math
from datetime import date

import pandas as pd
import pytest

from analytics.allocation import AllocationMethod
from analytics.offset import build_offset_report, monthly_revenue, years_table


def _costs() -> pd.DataFrame:
    rows = []
    for code, name, monthly in (
        ("snow", "除雪車ナビ", 400_000),
        ("portal", "ポータル運営", 800_000),
    ):
        for offset in range(12):
            index = 3 + offset
            rows.append((code, name, date(2026 + index // 12, index % 12 + 1, 1), monthly))
    return pd.DataFrame(rows, columns=["code", "name", "month", "running_cost"])


def test_offset_report_json_contract() -> None:
    revenue = pd.DataFrame(
        {"month": [date(2026, 4, 1), date(2026, 5, 1)], "revenue": [600_000, 300_000]}
    )
    report = build_offset_report(2026, revenue, _costs(), AllocationMethod.PROPORTIONAL)
    payload = report.as_json()
    assert list(payload) == [
        "fiscal_year",
        "revenue_recognised",
        "running_costs",
        "offset_ratio",
        "services",
    ]
    assert payload["revenue_recognised"] == 900_000
    assert payload["running_costs"] == 14_400_000
    assert payload["offset_ratio"] == pytest.approx(900_000 / 14_400_000)
    assert [s["name"] for s in payload["services"]] == ["除雪車ナビ", "ポータル運営"]
    assert sum(s["allocated_revenue"] for s in payload["services"]) == 900_000
    assert all(isinstance(s["running_cost"], int) for s in payload["services"])
    json.dumps(payload)  # plain JSON types only
    months = report.months
    assert len(months) == 12
    assert months.loc[0, "offset_ratio"] == pytest.approx(0.5)


def test_a_year_without_data_says_so_and_has_no_nan() -> None:
    empty = pd.DataFrame(columns=["month", "revenue"])
    costs = pd.DataFrame(columns=["code", "name", "month", "running_cost"])
    report = build_offset_report(2030, empty, costs, AllocationMethod.PRIORITY)
    assert not report.has_data
    assert report.offset_ratio is None
    assert report.as_json()["services"] == []
    assert all(value is None for value in report.months["offset_ratio"])
    assert not any(isinstance(v, float) and math.isnan(v) for v in report.months["revenue"])
    table = years_table([report])
    assert table.loc[0, "offset_ratio"] is None


def test_revenue_outside_the_fiscal_year_is_a_programming_error() -> None:
    stray = pd.DataFrame({"month": [date(2027, 4, 1)], "revenue": [1]})
    with pytest.raises(ValueError, match="outside fiscal year 2026"):
        monthly_revenue(2026, stray)
