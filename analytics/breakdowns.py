"""Dashboard tables shaped with pandas from small, typed frames (no database access here).

Input frames and their columns:
* sell-through: placement, week_start (date), capacity (shares), sold (shares)
* booking revenue: booking_id, shop_id, category, district, month (date), revenue (yen)
* advertiser revenue by year: shop_id, shop_name, fiscal_year, revenue (yen)
* open invoices: invoice_number, shop_name, issued_on, due_on (date), outstanding (yen)
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from analytics.numbers import ratio_column
from marketplace.vocab import DISTRICTS, SHOP_CATEGORIES

SELLTHROUGH_COLUMNS = ["placement", "week_start", "capacity", "sold"]
BOOKING_REVENUE_COLUMNS = ["booking_id", "shop_id", "category", "district", "month", "revenue"]
ADVERTISER_COLUMNS = ["shop_id", "shop_name", "fiscal_year", "revenue"]
OPEN_INVOICE_COLUMNS = ["invoice_number", "shop_name", "issued_on", "due_on", "outstanding"]
AGING_BUCKETS = ("期日前", "1〜30日", "31〜60日", "61〜90日", "91日以上")


def _nullable_ratio(numerator: pd.Series, denominator: pd.Series) -> list[float | None]:
    return [
        None if int(d) <= 0 else int(n) / int(d)
        for n, d in zip(numerator, denominator, strict=True)
    ]


def sellthrough(weeks: pd.DataFrame) -> pd.DataFrame:
    """Shares sold against shares available, per placement and week (rate is None if 0 capacity)."""
    if weeks.empty:
        return pd.DataFrame(columns=[*SELLTHROUGH_COLUMNS, "rate"])
    table = (
        weeks[SELLTHROUGH_COLUMNS].sort_values(["placement", "week_start"]).reset_index(drop=True)
    )
    table["rate"] = ratio_column(table["sold"], table["capacity"], table.index)
    return table


def sellthrough_by_placement(weeks: pd.DataFrame) -> pd.DataFrame:
    if weeks.empty:
        return pd.DataFrame(columns=["placement", "capacity", "sold", "rate"])
    table = weeks.groupby("placement", as_index=False)[["capacity", "sold"]].sum()
    table["rate"] = ratio_column(table["sold"], table["capacity"], table.index)
    return table


def revenue_by(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """Recognised revenue by shop category or district, largest first, with Japanese labels."""
    labels = SHOP_CATEGORIES if key == "category" else DISTRICTS
    columns = [key, "label", "shops", "revenue", "share"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    grouped = frame.groupby(key, as_index=False).agg(
        shops=("shop_id", "nunique"), revenue=("revenue", "sum")
    )
    total = int(grouped["revenue"].sum())
    grouped["label"] = [labels.get(str(value), str(value)) for value in grouped[key]]
    grouped["share"] = ratio_column(grouped["revenue"], [total] * len(grouped), grouped.index)
    return grouped.sort_values("revenue", ascending=False, kind="stable")[columns].reset_index(
        drop=True
    )


def advertiser_status(frame: pd.DataFrame, fiscal_year: int) -> pd.DataFrame:
    """Each advertiser of this or last year as 新規 (new), 継続 (renewing) or 離脱 (lapsed).

    new: revenue this year and none in any earlier year; renewing: this year and an earlier
    year; lapsed: last year but not this year.
    """
    columns = ["shop_name", "status", "revenue_this_year", "revenue_last_year"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    positive = frame[frame["revenue"] > 0]
    years = positive.groupby("shop_id")["fiscal_year"].agg(["min", "max"])
    this_year = positive[positive["fiscal_year"] == fiscal_year].groupby("shop_id")["revenue"].sum()
    last_year = (
        positive[positive["fiscal_year"] == fiscal_year - 1].groupby("shop_id")["revenue"].sum()
    )
    names = frame.drop_duplicates("shop_id").set_index("shop_id")["shop_name"]
    rows = []
    for shop_id in sorted(set(this_year.index) | set(last_year.index)):
        if shop_id in this_year.index:
            status = "新規" if years.loc[shop_id, "min"] == fiscal_year else "継続"
        else:
            status = "離脱"
        rows.append(
            (names[shop_id], status, int(this_year.get(shop_id, 0)), int(last_year.get(shop_id, 0)))
        )
    return pd.DataFrame(rows, columns=columns)


def advertiser_counts(status: pd.DataFrame) -> dict[str, int]:
    counts = status["status"].value_counts() if not status.empty else pd.Series(dtype="int64")
    return {label: int(counts.get(label, 0)) for label in ("新規", "継続", "離脱")}


def receivables_aging(invoices: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Unpaid invoices with days overdue and their aging bucket (30/60/90 days)."""
    columns = [*OPEN_INVOICE_COLUMNS, "days_overdue", "bucket"]
    open_rows = invoices[invoices["outstanding"] > 0] if not invoices.empty else invoices
    if open_rows.empty:
        return pd.DataFrame(columns=columns)
    table = open_rows[OPEN_INVOICE_COLUMNS].copy()
    table["days_overdue"] = [max(0, (as_of - due).days) for due in table["due_on"]]
    table["bucket"] = [_bucket(days) for days in table["days_overdue"]]
    return table.sort_values(["days_overdue", "invoice_number"], ascending=[False, True])[
        columns
    ].reset_index(drop=True)


def _bucket(days: int) -> str:
    if days <= 0:
        return AGING_BUCKETS[0]
    if days <= 30:
        return AGING_BUCKETS[1]
    if days <= 60:
        return AGING_BUCKETS[2]
    if days <= 90:
        return AGING_BUCKETS[3]
    return AGING_BUCKETS[4]


def aging_summary(aging: pd.DataFrame) -> pd.DataFrame:
    totals = aging.groupby("bucket")["outstanding"].sum() if not aging.empty else pd.Series()
    return pd.DataFrame(
        {
            "bucket": list(AGING_BUCKETS),
            "outstanding": [int(totals.get(bucket, 0)) for bucket in AGING_BUCKETS],
        }
    )
