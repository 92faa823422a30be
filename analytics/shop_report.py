"""A shop's report for one booking: what it bought, what it got, and who saw it (in aggregate).

Pure: the caller supplies the delivery rollups already aggregated (by SQL) into small frames:

* daily: day (Tokyo date), impressions, clicks, eligible_slots (slots of the placement the
  booking was eligible for that day: the one delivery measure's denominator,
  `marketplace/delivery/measure.py`), plus the placement's view rate over the period
* audience: dimension, value, residents, impressions, clicks — this booking, one row per cell
  of each dimension (age_band, household, district)
* placement_audience: the same shape for the whole placement over the booking's days

Audience figures pass through `privacy.suppress` before they are returned, so nothing that
leaves here can single out fewer than k residents. No resident id is ever an input.

What a shop sees (`report_tables(report, for_shop=True)`, issue 16 item 9): its own totals
over the booking exactly (its delivery and billing basis); per day only impressions, clicks and
the click rate, each count under k (and, by complementary suppression, enough others that the
total minus the visible days reveals no small count) hidden; no per-day figure of the
placement (eligible slots, owed, share delivered: they are the placement's traffic); and the
placement's click rates only when at least `MIN_OTHER_SHOPS` other shops had a booking on it
over the booking's days (shops, not bookings: three bookings of one rival are one rival). Finance staff see the exact daily table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

import pandas as pd

from analytics.export import ReportTable
from analytics.numbers import ratio, ratio_column
from analytics.privacy import (
    BREAKDOWN_COLUMNS,
    DIMENSIONS,
    K_ANONYMITY,
    UNKNOWN_VALUE,
    small_counts,
    suppress,
)
from marketplace.delivery.measure import ONE, DeliveryMeasure
from marketplace.vocab import DISTRICTS, HOUSEHOLD_LABELS

DAILY_COLUMNS = ["day", "impressions", "clicks", "eligible_slots"]
# The placement's figures are shown to a shop only as an aggregate over this many other shops
# with a booking on it over the booking's days; otherwise not at all.
MIN_OTHER_SHOPS = 3
DIMENSION_LABELS = {"age_band": "年代", "household": "世帯", "district": "地区"}


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
    def bought(self) -> Fraction:
        return Fraction(self.shares, self.shares_per_week)

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
    measure: DeliveryMeasure  # the one delivery measure over the booking's days

    @property
    def ctr(self) -> float | None:
        return ratio(self.clicks, self.impressions)

    @property
    def share_delivered(self) -> float | None:
        share = self.measure.share_delivered
        return None if share is None else float(share)

    @property
    def owed(self) -> int:
        """Impressions owed so far, rounded down."""
        return int(self.measure.owed)

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
    view_rate: Fraction = ONE,
    *,
    other_shops: int = 0,
) -> ShopReport:
    """`other_shops`: other shops with a confirmed booking on the placement over the booking's
    days (the placement comparison is left out below `MIN_OTHER_SHOPS`)."""
    days = _daily_table(booking, daily, view_rate)
    if other_shops < MIN_OTHER_SHOPS:
        placement_audience = placement_audience.iloc[0:0]
    impressions = int(days["impressions"].sum())
    clicks = int(days["clicks"].sum())
    measure = DeliveryMeasure(
        booking.bought, int(days["eligible_slots"].sum()), impressions, view_rate
    )
    return ShopReport(
        booking=booking,
        daily=days.drop(columns="eligible_slots"),
        audience=_audience_table(audience, placement_audience),
        impressions=impressions,
        clicks=clicks,
        measure=measure,
    )


def _daily_table(booking: BookingFacts, daily: pd.DataFrame, view_rate: Fraction) -> pd.DataFrame:
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
    measures = [
        DeliveryMeasure(booking.bought, int(slots), int(shown), view_rate)
        for slots, shown in zip(frame["eligible_slots"], frame["impressions"], strict=True)
    ]
    frame["owed"] = pd.Series([int(m.owed) for m in measures], index=frame.index, dtype="int64")
    frame["share_delivered"] = pd.Series(
        [None if m.share_delivered is None else float(m.share_delivered) for m in measures],
        index=frame.index,
        dtype=object,
    )
    frame["share_bought"] = booking.share_bought
    return frame[
        [
            "day",
            "impressions",
            "owed",
            "clicks",
            "ctr",
            "eligible_slots",
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
    "owed": "表示すべき回数",
    "share_delivered": "表示シェア（実績）",
    "share_bought": "表示シェア（購入）",
    "dimension_label": "区分",
    "value_label": "属性",
    "residents": "人数",
    "placement_ctr": "広告枠平均のクリック率",
    "protected": "保護",
}


SHOP_DAILY_COLUMNS = ["day", "impressions", "clicks", "ctr", "protected"]
SMALL_COUNT_NOTE = f"{K_ANONYMITY}件未満の保護のため一部非表示"


def shop_daily(daily: pd.DataFrame, k: int = K_ANONYMITY) -> pd.DataFrame:
    """The daily table as a shop sees it: impressions, clicks and click rate per day, a count
    under k hidden (missing, never 0) together with enough other days that the booking's exact
    total minus the visible days reveals only a sum of ≥ 2 days and ≥ k."""
    frame = daily[["day", "impressions", "clicks", "ctr"]].reset_index(drop=True).copy()
    hidden_impressions = small_counts(frame["impressions"], k)
    hidden_clicks = small_counts(frame["clicks"], k)
    frame["impressions"] = frame["impressions"].astype("Int64")
    frame["clicks"] = frame["clicks"].astype("Int64")
    frame.loc[hidden_impressions, "impressions"] = pd.NA
    frame.loc[hidden_clicks, "clicks"] = pd.NA
    hidden = sorted(set(hidden_impressions) | set(hidden_clicks))
    ctr = frame["ctr"].astype(object)
    ctr.loc[hidden] = None
    frame["ctr"] = ctr
    frame["protected"] = ""
    frame.loc[hidden, "protected"] = SMALL_COUNT_NOTE
    return frame[SHOP_DAILY_COLUMNS]


def report_tables(report: ShopReport, *, for_shop: bool = True) -> list[ReportTable]:
    """The report's tables for the page and for CSV (no ids of any person, ever): for the
    shop, the daily table of `shop_daily`; for finance staff, the exact one."""
    audience = report.audience.copy()
    audience["protected"] = [
        "10人未満の保護のため非表示" if hidden else "" for hidden in audience["suppressed"]
    ]
    shown = [c for c in AUDIENCE_COLUMNS if c not in {"dimension", "value", "suppressed"}]
    audience = audience[[*shown, "protected"]]
    return [
        ReportTable(
            "daily",
            "日別の実績",
            shop_daily(report.daily) if for_shop else report.daily,
            REPORT_LABELS,
        ),
        ReportTable("audience", "見た人の内訳（集計）", audience, REPORT_LABELS),
    ]
