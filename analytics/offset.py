"""The offset report: how much of the citizen services' running costs local ads paid for.

Pure: it takes the recognised revenue per Tokyo month (from the ledger) and the running costs
per service and month, and shapes them. No figure here is ever NaN: a ratio with no cost to
divide by is None and is shown as "—".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analytics.allocation import Allocation, AllocationMethod, ServiceCostLine, allocate
from analytics.numbers import ratio_column
from marketplace.calendar import fiscal_months

REVENUE_COLUMNS = ["month", "revenue"]
MONTH_TABLE_COLUMNS = ["month", "revenue", "running_cost", "offset_ratio"]


@dataclass(frozen=True)
class OffsetReport:
    fiscal_year: int
    months: pd.DataFrame  # MONTH_TABLE_COLUMNS, twelve rows April → March
    allocation: Allocation
    method: AllocationMethod

    @property
    def revenue_recognised(self) -> int:
        return self.allocation.revenue

    @property
    def running_costs(self) -> int:
        return self.allocation.running_costs

    @property
    def offset_ratio(self) -> float | None:
        return self.allocation.offset_ratio

    @property
    def has_data(self) -> bool:
        return self.revenue_recognised != 0 or self.running_costs != 0

    def as_json(self) -> dict[str, Any]:
        """The CLI's JSON contract: yen as integers, ratios as fractions (or null)."""
        return {
            "fiscal_year": self.fiscal_year,
            "revenue_recognised": int(self.revenue_recognised),
            "running_costs": int(self.running_costs),
            "offset_ratio": self.offset_ratio,
            "services": [
                {
                    "name": share.name,
                    "running_cost": int(share.running_cost),
                    "allocated_revenue": int(share.allocated_revenue),
                    "offset_ratio": share.offset_ratio,
                }
                for share in self.allocation.shares
            ],
        }


def monthly_revenue(fiscal_year: int, revenue: pd.DataFrame) -> pd.Series:
    """Revenue per fiscal month (12 entries, zero-filled), from REVENUE_COLUMNS rows."""
    months = fiscal_months(fiscal_year)
    if revenue.empty:
        return pd.Series([0] * 12, index=months, dtype="int64")
    missing = [column for column in REVENUE_COLUMNS if column not in revenue.columns]
    if missing:
        raise ValueError(f"revenue frame is missing columns {missing}")
    keyed = revenue.assign(month=[_month_start(value) for value in revenue["month"]])
    summed = keyed.groupby("month")["revenue"].sum()
    outside = sorted(set(summed.index) - set(months))
    if outside:
        raise ValueError(f"revenue rows outside fiscal year {fiscal_year}: {outside[:3]}")
    return summed.reindex(months, fill_value=0).astype("int64")


def _month_start(value: Any) -> Any:
    stamp = pd.Timestamp(value)
    return stamp.date().replace(day=1)


def build_offset_report(
    fiscal_year: int,
    revenue: pd.DataFrame,
    costs: pd.DataFrame,
    method: AllocationMethod,
    priority_order: Sequence[str] = (),
) -> OffsetReport:
    """`revenue`: REVENUE_COLUMNS; `costs`: code, name, month, running_cost (per service-month)."""
    per_month_revenue = monthly_revenue(fiscal_year, revenue)
    months = fiscal_months(fiscal_year)
    if costs.empty:
        per_month_cost = pd.Series([0] * 12, index=months, dtype="int64")
        lines: list[ServiceCostLine] = []
    else:
        per_month_cost = costs.groupby("month")["running_cost"].sum().reindex(months, fill_value=0)
        per_service = costs.groupby(["code", "name"], sort=False, as_index=False)[
            "running_cost"
        ].sum()
        lines = [
            ServiceCostLine(str(code), str(name), int(total))
            for code, name, total in zip(
                per_service["code"], per_service["name"], per_service["running_cost"], strict=True
            )
        ]
    table = pd.DataFrame(
        {
            "month": months,
            "revenue": per_month_revenue.to_numpy(dtype="int64"),
            "running_cost": per_month_cost.to_numpy(dtype="int64"),
        }
    )
    table["offset_ratio"] = ratio_column(table["revenue"], table["running_cost"], table.index)
    total_revenue = int(table["revenue"].sum())
    allocation = allocate(total_revenue, lines, method, priority_order)
    return OffsetReport(fiscal_year, table, allocation, method)


def years_table(reports: Sequence[OffsetReport]) -> pd.DataFrame:
    """One row per fiscal year: revenue, costs, ratio (the dashboard's year-over-year view)."""
    return pd.DataFrame(
        {
            "fiscal_year": [report.fiscal_year for report in reports],
            "revenue": [report.revenue_recognised for report in reports],
            "running_cost": [report.running_costs for report in reports],
            "offset_ratio": [report.offset_ratio for report in reports],
        },
        columns=["fiscal_year", "revenue", "running_cost", "offset_ratio"],
    )


def services_table(report: OffsetReport) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "name": share.name,
                "running_cost": share.running_cost,
                "allocated_revenue": share.allocated_revenue,
                "offset_ratio": share.offset_ratio,
            }
            for share in report.allocation.shares
        ],
        columns=["name", "running_cost", "allocated_revenue", "offset_ratio"],
    )
