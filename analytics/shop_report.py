"""A shop's report for one booking: what it bought, what it got, and who saw it (in aggregate).

Pure: the caller supplies the delivery rollups already aggregated (by SQL) into small frames:

* daily: day (Tokyo date), impressions, clicks, placement_impressions (all bookings on the
  placement that day, including this one)
* audience: dimension, value, residents, impressions, clicks — this booking, one row per cell
  of each dimension (age_band, household, district)
* placement_audience: the same shape for the whole placement over the booking's days

Audience figures pass through `privacy.suppress` before they are returned, so nothing that
leaves here can single out fewer than k residents. No resident id is ever an input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from analytics.export import ReportTable
from analytics.numbers import ratio, ratio_column
from analytics.privacy import BREAKDOWN_COLUMNS, DIMENSIONS, UNKNOWN_VALUE, suppress
from marketplace.vocab import DISTRICTS

DAILY_COLUMNS = ["day", "impressions", "clicks", "placement_impressions"]
DIMENSION_LABELS = {"age_band": "年代", "household": "世帯", "district": "地区"}
HOUSEHOLD_LABELS = {
    "single": "単身",
    "couple": "夫婦のみ",
    "young_children": "未就学児のいる世帯",
    "school_children": "小中学生のいる世帯",
    "three_generation": "三世代",
    "elderly_only": "高齢者のみ",
}


@dataclass(frozen=True)
class BookingFacts:
    booking_id: int
    shop_id: int
    shop_name: str
    placement_name: str
    first_day: date
    last_day: date
    shares: int
    shares_per_week: int
    billed_yen: int  # invoiced minus credited, tax included

    @property
    def share_bought(self) -> float:
        return self.shares / self.shares_per_week


@dataclass(frozen=True)
class ShopReport:
    booking: BookingFacts
    daily: pd.DataFrame
    audience: pd.DataFrame
    impressions: int
    clicks: int
    placement_impressions: int

    @property
    def ctr(self) -> float | None:
        return ratio(self.clicks, self.impressions)

    @property
    def share_delivered(self) -> float | None:
        return ratio(self.impressions, self.placement_impressions)

    @property
    def has_data(self) -> bool:
        return self.impressions > 0


def value_label(dimension: str, value: str) -> str:
    if value == UNKNOWN_VALUE:
        return "未登録"
    if dimension == "district":
        return DISTRICTS.get(value, value)
    if dimension == "household":
        return HOUSEHOLD_LABELS.get(value, value)
    return value


def build_shop_report(
    booking: BookingFacts,
    daily: pd.DataFrame,
    audience: pd.DataFrame,
    placement_audience: pd.DataFrame,
) -> ShopReport:
    days = _daily_table(booking, daily)
    impressions = int(days["impressions"].sum())
    clicks = int(days["clicks"].sum())
    placement_total = int(days["placement_impressions"].sum())
    return ShopReport(
        booking=booking,
        daily=days,
        audience=_audience_table(audience, placement_audience),
        impressions=impressions,
        clicks=clicks,
        placement_impressions=placement_total,
    )


def _daily_table(booking: BookingFacts, daily: pd.DataFrame) -> pd.DataFrame:
    every_day = pd.date_range(booking.first_day, booking.last_day, freq="D").date
    if daily.empty:
        frame = pd.DataFrame({"day": every_day})
        for column in DAILY_COLUMNS[1:]:
            frame[column] = 0
    else:
        frame = (
            daily[DAILY_COLUMNS]
            .groupby("day", as_index=False)
            .sum()
            .set_index("day")
            .reindex(every_day, fill_value=0)
            .rename_axis("day")
            .reset_index()
        )
    frame = frame.astype({column: "int64" for column in DAILY_COLUMNS[1:]})
    frame["ctr"] = ratio_column(frame["clicks"], frame["impressions"], frame.index)
    frame["share_delivered"] = ratio_column(
        frame["impressions"], frame["placement_impressions"], frame.index
    )
    frame["share_bought"] = booking.share_bought
    return frame[
        [
            "day",
            "impressions",
            "clicks",
            "ctr",
            "placement_impressions",
            "share_delivered",
            "share_bought",
        ]
    ].reset_index(drop=True)


AUDIENCE_COLUMNS = [
    "dimension",
    "dimension_label",
    "value",
    "value_label",
    "residents",
    "impressions",
    "clicks",
    "ctr",
    "placement_ctr",
    "suppressed",
]


def _audience_table(audience: pd.DataFrame, placement_audience: pd.DataFrame) -> pd.DataFrame:
    if audience.empty:
        return pd.DataFrame(columns=AUDIENCE_COLUMNS)
    published = suppress(audience[BREAKDOWN_COLUMNS])
    comparison = (
        suppress(placement_audience[BREAKDOWN_COLUMNS]) if not placement_audience.empty else None
    )
    placement_ctr: dict[tuple[str, str], float | None] = {}
    if comparison is not None:
        for cell in comparison.to_dict("records"):
            if not cell["suppressed"]:
                placement_ctr[(str(cell["dimension"]), str(cell["value"]))] = ratio(
                    int(cell["clicks"]), int(cell["impressions"])
                )
    rows = []
    order = {dimension: position for position, dimension in enumerate(DIMENSIONS)}
    for row in published.to_dict("records"):
        dimension, value = str(row["dimension"]), str(row["value"])
        hidden = bool(row["suppressed"])
        rows.append(
            {
                "dimension": dimension,
                "dimension_label": DIMENSION_LABELS.get(dimension, dimension),
                "value": value,
                "value_label": value_label(dimension, value),
                "residents": None if hidden else int(row["residents"]),
                "impressions": None if hidden else int(row["impressions"]),
                "clicks": None if hidden else int(row["clicks"]),
                "ctr": None if hidden else ratio(int(row["clicks"]), int(row["impressions"])),
                "placement_ctr": placement_ctr.get((dimension, value)),
                "suppressed": hidden,
            }
        )
    table = pd.DataFrame(rows, columns=AUDIENCE_COLUMNS)
    table["_order"] = [order.get(d, len(order)) for d in table["dimension"]]
    table = table.sort_values(["_order", "value"], kind="stable").drop(columns="_order")
    for column in ("residents", "impressions", "clicks"):
        table[column] = table[column].astype("Int64")
    for column in ("ctr", "placement_ctr"):
        table[column] = table[column].astype(object)
    return table.reset_index(drop=True)


REPORT_LABELS = {
    "day": "日付",
    "impressions": "表示回数",
    "clicks": "有効クリック",
    "ctr": "クリック率",
    "placement_impressions": "広告枠全体の表示回数",
    "share_delivered": "表示シェア（実績）",
    "share_bought": "表示シェア（購入）",
    "dimension_label": "区分",
    "value_label": "属性",
    "residents": "人数",
    "placement_ctr": "広告枠平均のクリック率",
    "protected": "保護",
}


def report_tables(report: ShopReport) -> list[ReportTable]:
    """The report's tables for the page and for CSV (no ids of any person, ever)."""
    audience = report.audience.copy()
    audience["protected"] = [
        "10人未満の保護のため非表示" if hidden else "" for hidden in audience["suppressed"]
    ]
    shown = [c for c in AUDIENCE_COLUMNS if c not in {"dimension", "value", "suppressed"}]
    audience = audience[[*shown, "protected"]]
    return [
        ReportTable("daily", "日別の実績", report.daily, REPORT_LABELS),
        ReportTable("audience", "見た人の内訳（集計）", audience, REPORT_LABELS),
    ]
