"""Charts for the finance dashboard, as Vega-Lite specs (altair) and PNG (vl-convert).

The browser renders the same spec interactively (tooltips, hover); PNG export renders it on
the server with vl-convert, so both always show the same figures.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import vl_convert

from analytics.dashboard import Dashboard

CHART_NAMES = ("revenue_vs_costs", "services", "forecast", "sellthrough", "delivery")
FONT = "IPAexGothic, Noto Sans CJK JP, sans-serif"


def _config(chart: alt.TopLevelMixin) -> Any:
    return chart.configure(font=FONT).configure_axis(labelFontSize=12, titleFontSize=13)


def revenue_vs_costs(dashboard: Dashboard) -> Any:
    months = dashboard.report.months
    frame = pd.DataFrame(
        {
            "月": [f"{m:%Y-%m}" for m in months["month"]] * 2,
            "区分": ["広告収入"] * len(months) + ["運営費"] * len(months),
            "金額": list(months["revenue"]) + list(months["running_cost"]),
        }
    )
    return _config(
        alt.Chart(frame, title=f"{dashboard.fiscal_year}年度 月別の広告収入と運営費")
        .mark_bar()
        .encode(
            x=alt.X("月:N", title="月"),
            xOffset="区分:N",
            y=alt.Y("金額:Q", title="円", axis=alt.Axis(format=",.0f")),
            color=alt.Color("区分:N", scale=alt.Scale(range=["#0b5cad", "#b0b0a8"])),
            tooltip=["月:N", "区分:N", alt.Tooltip("金額:Q", format=",.0f")],
        )
        .properties(width=640, height=280)
    )


def services(dashboard: Dashboard) -> Any:
    rows = [
        {
            "サービス": share.name,
            "広告で賄えた割合": share.offset_ratio or 0.0,
            "充当額": share.allocated_revenue,
            "運営費": share.running_cost,
        }
        for share in dashboard.report.allocation.shares
    ]
    frame = pd.DataFrame(rows, columns=["サービス", "広告で賄えた割合", "充当額", "運営費"])
    return _config(
        alt.Chart(frame, title="サービス別: 広告収入で賄えた割合")
        .mark_bar(color="#8a5a00")
        .encode(
            y=alt.Y("サービス:N", sort="-x", title=None),
            x=alt.X(
                "広告で賄えた割合:Q",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
                title="割合",
            ),
            tooltip=[
                "サービス:N",
                alt.Tooltip("広告で賄えた割合:Q", format=".1%"),
                alt.Tooltip("充当額:Q", format=",.0f"),
                alt.Tooltip("運営費:Q", format=",.0f"),
            ],
        )
        .properties(width=560, height=40 * max(1, len(frame)))
    )


def forecast(dashboard: Dashboard) -> Any:
    table = dashboard.forecast.months
    frame = pd.DataFrame(
        {
            "月": [f"{m:%Y-%m}" for m in table["month"]],
            "区分": table["kind"].map({"actual": "実績", "forecast": "予測"}),
            "広告収入": table["revenue"],
        }
    )
    frame["累計"] = frame["広告収入"].cumsum()
    return _config(
        alt.Chart(frame, title="年度末までの広告収入の予測（累計）")
        .mark_bar()
        .encode(
            x=alt.X("月:N"),
            y=alt.Y("累計:Q", title="円", axis=alt.Axis(format=",.0f")),
            color=alt.Color("区分:N", scale=alt.Scale(range=["#0b5cad", "#9cc3ea"])),
            tooltip=[
                "月:N",
                "区分:N",
                alt.Tooltip("広告収入:Q", format=",.0f"),
                alt.Tooltip("累計:Q", format=",.0f"),
            ],
        )
        .properties(width=640, height=260)
    )


def sellthrough(dashboard: Dashboard) -> Any:
    table = dashboard.sellthrough
    frame = pd.DataFrame(
        {
            "広告枠": table["placement"] if not table.empty else [],
            "週": [f"{w:%Y-%m-%d}" for w in table["week_start"]] if not table.empty else [],
            "販売率": [r or 0.0 for r in table["rate"]] if not table.empty else [],
        }
    )
    return _config(
        alt.Chart(frame, title="広告枠・週別の販売率")
        .mark_line(point=True)
        .encode(
            x=alt.X("週:T", title="週"),
            y=alt.Y("販売率:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            color="広告枠:N",
            tooltip=["広告枠:N", "週:N", alt.Tooltip("販売率:Q", format=".0%")],
        )
        .properties(width=640, height=260)
    )


def delivery(dashboard: Dashboard) -> Any:
    """Delivered ÷ owed per placement and month (the one delivery measure); 100% is on target."""
    table = dashboard.delivery
    frame = pd.DataFrame(
        {
            "広告枠": list(table["placement"]),
            "月": list(table["month"]),
            "予定に対する配信": list(table["delivery_rate"]),
            "予定表示回数": list(table["owed"]),
            "有効な表示回数": list(table["delivered"]),
            "補償額": list(table["make_good_yen"]),
        }
    )
    frame = frame[frame["予定表示回数"] > 0]
    target = alt.Chart(pd.DataFrame({"y": [1.0]})).mark_rule(color="#555", strokeDash=[4, 4])
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("月:N", title="月", axis=alt.Axis(labelAngle=0)),
            xOffset="広告枠:N",
            y=alt.Y("予定に対する配信:Q", axis=alt.Axis(format="%"), title="予定に対する配信"),
            color=alt.Color(
                "広告枠:N", legend=alt.Legend(orient="bottom", columns=1, labelLimit=400)
            ),
            tooltip=[
                "広告枠:N",
                "月:N",
                alt.Tooltip("予定表示回数:Q", format=",.0f"),
                alt.Tooltip("有効な表示回数:Q", format=",.0f"),
                alt.Tooltip("予定に対する配信:Q", format=".1%"),
                alt.Tooltip("補償額:Q", format=",.0f"),
            ],
        )
    )
    return _config(
        alt.layer(bars, target.encode(y="y:Q"), title="広告枠・月別: 予定に対する配信").properties(
            width=640, height=260
        )
    )


BUILDERS = {
    "revenue_vs_costs": revenue_vs_costs,
    "services": services,
    "forecast": forecast,
    "sellthrough": sellthrough,
    "delivery": delivery,
}


def chart_spec(dashboard: Dashboard, name: str) -> dict[str, Any]:
    """The Vega-Lite spec (a JSON-ready dict) of chart `name`; data is inlined."""
    spec: dict[str, Any] = BUILDERS[name](dashboard).to_dict()
    return spec


def chart_png(dashboard: Dashboard, name: str, scale: float = 2.0) -> bytes:
    return bytes(vl_convert.vegalite_to_png(chart_spec(dashboard, name), scale=scale))
