"""The delivery-over-time chart of a simulation: delivered ÷ bought per booking, by hour."""

from __future__ import annotations

from pathlib import Path

import altair as alt
import pandas as pd

from marketplace.calendar import TOKYO
from marketplace.synthetic.simulation import SimulationResult

TOLERANCE = 0.05


def delivery_chart(result: SimulationResult) -> alt.LayerChart:
    frame = pd.DataFrame(result.timeline, columns=["hour", "booking", "ratio"])
    frame["hour"] = (
        pd.to_datetime(frame["hour"], utc=True).dt.tz_convert(TOKYO).dt.tz_localize(None)
    )
    labels = {
        b.booking_id: f"#{b.booking_id} {b.shop_category} ({b.share_bought:.0%})"
        for b in result.bookings
    }
    frame["booking"] = frame["booking"].map(labels)
    band = (
        alt.Chart(pd.DataFrame({"low": [1 - TOLERANCE], "high": [1 + TOLERANCE]}))
        .mark_rect(opacity=0.15, color="green")
        .encode(y="low:Q", y2="high:Q")
    )
    lines = (
        alt.Chart(frame)
        .mark_line(strokeWidth=1.5)
        .encode(
            x=alt.X("hour:T", title="時刻 (Asia/Tokyo)"),
            y=alt.Y(
                "ratio:Q",
                title="配信 ÷ 購入シェア",
                scale=alt.Scale(domain=[0.8, 1.2], clamp=True, zero=False),
            ),
            color=alt.Color("booking:N", title="予約"),
        )
    )
    return (band + lines).properties(
        width=720,
        height=320,
        title=(
            f"シェア配信の推移 (最大偏差 {result.max_abs_deviation:.2%}, "
            f"CTR リフト {result.ctr_lift:.2f}×)"
        ),
    )


def save_chart(result: SimulationResult, path: Path) -> Path:
    """Write the chart as PNG (vl-convert) or HTML, chosen by the file's suffix."""
    if path.suffix not in {".png", ".html"}:
        raise ValueError(f"chart path must end in .png or .html, not {path.suffix!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    chart = delivery_chart(result)
    if path.suffix == ".png":
        chart.save(str(path), format="png", scale_factor=2)
    else:
        chart.save(str(path), format="html")
    return path
