"""Forecast of recognised ad revenue to the end of the fiscal year.

Method (shown on the dashboard as the assumptions):
* months already closed count what the ledger recognised;
* each month from the current one on counts the larger of (a) the revenue already scheduled by
  confirmed bookings for that month and (b) the recent run rate, the mean recognised revenue of
  the last `window` closed months. Bookings already sold are firm; the run rate stands for the
  bookings the city usually sells for a month before it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from analytics.numbers import ratio
from marketplace.calendar import fiscal_months

RUN_RATE_WINDOW = 3


@dataclass(frozen=True)
class Forecast:
    fiscal_year: int
    as_of: date
    months: pd.DataFrame  # month, kind ("actual" | "forecast"), revenue, scheduled, run_rate
    run_rate: int
    run_rate_months: int
    annual_cost: int

    @property
    def total(self) -> int:
        return int(self.months["revenue"].sum())

    @property
    def offset_ratio(self) -> float | None:
        return ratio(self.total, self.annual_cost)

    @property
    def assumptions(self) -> list[str]:
        lines = [
            f"{self.as_of:%Y年%-m月%-d日} 時点の予測です。締まった月は帳簿で認識済みの収益です。",
            "今月以降の各月は「確定した予約で予定されている収益」と「最近の平均」の大きい方です。",
        ]
        if self.run_rate_months:
            lines.append(
                f"最近の平均: 直近 {self.run_rate_months} か月の認識収益の平均 ¥{self.run_rate:,}/月。"
            )
        else:
            lines.append("締まった月の実績がまだないため、最近の平均は 0 円としています。")
        lines.append("解約・返金は予定に反映済みの分のみ含み、今後の解約は見込んでいません。")
        return lines


def _by_month(frame: pd.DataFrame) -> dict[date, int]:
    if frame.empty:
        return {}
    months = [pd.Timestamp(value).date().replace(day=1) for value in frame["month"]]
    totals: dict[date, int] = {}
    for month, amount in zip(months, frame["revenue"], strict=True):
        totals[month] = totals.get(month, 0) + int(amount)
    return totals


def forecast_year(
    fiscal_year: int,
    as_of: date,
    recognised: pd.DataFrame,
    scheduled: pd.DataFrame,
    annual_cost: int,
    window: int = RUN_RATE_WINDOW,
) -> Forecast:
    """`recognised` and `scheduled`: month, revenue. `recognised` may reach before the year."""
    actual = _by_month(recognised)
    booked = _by_month(scheduled)
    current = as_of.replace(day=1)
    closed = sorted(month for month in actual if month < current)[-window:]
    run_rate = round(sum(actual[m] for m in closed) / len(closed)) if closed else 0
    rows = []
    for month in fiscal_months(fiscal_year):
        if month < current:
            rows.append((month, "actual", actual.get(month, 0), booked.get(month, 0)))
        else:
            planned = booked.get(month, 0)
            rows.append((month, "forecast", max(planned, run_rate), planned))
    table = pd.DataFrame(rows, columns=["month", "kind", "revenue", "scheduled"])
    return Forecast(fiscal_year, as_of, table, run_rate, len(closed), annual_cost)
