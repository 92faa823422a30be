"""How report values read on a page: yen with separators, ratios as percent, missing as —."""

from __future__ import annotations

from datetime import date
from typing import Any

MONEY_COLUMNS = frozenset(
    {
        "revenue",
        "running_cost",
        "allocated_revenue",
        "outstanding",
        "scheduled",
        "revenue_this_year",
        "revenue_last_year",
        "billed_yen",
        "make_good_yen",
    }
)
RATIO_COLUMNS = frozenset(
    {
        "offset_ratio",
        "rate",
        "share",
        "ctr",
        "placement_ctr",
        "share_delivered",
        "share_bought",
        "delivery_rate",
    }
)


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def cell(column: str, value: Any) -> str:
    """The text of one table cell on a page (exports keep raw numbers instead)."""
    if value is None:
        return "—"
    if column in RATIO_COLUMNS:
        return percent(float(value), 2 if column in {"ctr", "placement_ctr"} else 1)
    if column in MONEY_COLUMNS:
        return f"¥{int(value):,}"
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def is_number(column: str, value: Any) -> bool:
    return column in MONEY_COLUMNS or column in RATIO_COLUMNS or isinstance(value, int)
