from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from portal_plugin.cli.main import app


@pytest.mark.slow
def test_simulate_delivery_prints_the_documented_json_and_a_chart(tmp_path: Path) -> None:
    chart = tmp_path / "delivery.html"
    result = CliRunner().invoke(
        app,
        ["simulate", "delivery", "--days", "2", "--residents", "1500", "--seed", "3",
         "--scorer", "profile", "--json", "--chart", str(chart)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert set(body) == {"bookings", "max_abs_deviation", "ctr_lift"}
    keys = {"booking_id", "share_bought", "share_delivered", "deviation", "expected_clicks",
            "rotation_expected_clicks"}  # fmt: skip
    assert all(set(b) == keys for b in body["bookings"]) and len(body["bookings"]) == 10
    assert body["max_abs_deviation"] == max(abs(b["deviation"]) for b in body["bookings"])
    assert body["max_abs_deviation"] <= 0.05
    assert body["ctr_lift"] > 1.0
    assert chart.exists() and "vega" in chart.read_text()


def test_simulate_refuses_a_bad_chart_path(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["simulate", "delivery", "--chart", str(tmp_path / "chart.pdf")]
    )
    assert result.exit_code == 2
