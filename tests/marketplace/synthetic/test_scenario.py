from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from marketplace.synthetic.scenario import ScenarioError, load_scenario, parse_scenario

ISSUE_EXAMPLE: dict[str, Any] = {
    "residents": 20000, "days": 7, "seed": 3, "frequency_cap": 3, "workers": 2,
    "placements": [{"key": "feed-3", "shares": 4}],
    "bookings": [{"id": "narrow", "placement": "feed-3", "shares": 1,
                  "targeting": {"districts": ["tsuruga"], "age_bands": ["70+"]},
                  "start_day": 0, "end_day": 7, "pauses": [[2.0, 3.0]]}],
    "disaster": [[4.0, 4.25]],
}  # fmt: skip
SUITE = Path(__file__).parent / "scenarios"


def example(**changes: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(ISSUE_EXAMPLE))
    data.update(changes)
    return data


def refused(data: Any) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(data)
    return caught.value


def test_the_issue_example_reads() -> None:
    scenario = parse_scenario(ISSUE_EXAMPLE)
    booking = scenario.bookings[0]
    assert booking.parsed_targeting.districts == {"tsuruga"}
    assert booking.pauses == [(2.0, 3.0)]
    assert scenario.placement("feed-3").feed_position == 3
    assert scenario.end_of(booking) == 7


def test_every_shipped_scenario_reads() -> None:
    files = sorted(SUITE.glob("*.json"))
    assert {f.stem for f in files} >= {
        "narrow", "whole_placement", "fully_sold", "quarter_sold", "mid_week_start", "pause",
        "disaster", "two_workers", "restart",
    }  # fmt: skip
    for file in files:
        load_scenario(file)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (example(colour="red"), "colour"),
        (example(bookings=[{**ISSUE_EXAMPLE["bookings"][0], "budget": 5}]), "bookings.0.budget"),
        (example(placements=[{"key": "feed-3", "shares": 4, "x": 1}]), "placements.0.x"),
    ],
)
def test_an_unknown_key_is_refused_by_name(data: dict[str, Any], key: str) -> None:
    error = refused(data)
    assert error.key == key
    assert "unknown key" in str(error)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"targeting": {"religion": ["x"]}}, "bookings.0.targeting"),
        ({"targeting": {"districts": ["atlantis"]}}, "bookings.0.targeting"),
        ({"placement": "feed-9"}, "bookings.0.placement"),
        ({"shares": 5}, "bookings"),
        ({"end_day": 3}, "bookings.0.end_day"),
        ({"start_day": 7}, "bookings.0.start_day"),
        ({"pauses": [[3.0, 2.0]]}, "bookings.0.pauses.0"),
        ({"shares": "one"}, "bookings.0.shares"),
    ],
)
def test_a_bad_booking_names_its_key(change: dict[str, Any], key: str) -> None:
    booking = {**ISSUE_EXAMPLE["bookings"][0], **change}
    assert refused(example(bookings=[booking])).key == key


def test_other_mistakes_name_their_key() -> None:
    assert refused(example(restarts=[[2, 1.0]])).key == "restarts.0"
    assert refused(example(disaster=[[6.0, 8.0]])).key == "disaster.0"
    assert refused(example(placements=[{"key": "banner", "shares": 4}])).key == "placements.0.key"
    assert refused(example(residents=10)).key == "residents"
    twice = [ISSUE_EXAMPLE["bookings"][0], ISSUE_EXAMPLE["bookings"][0]]
    assert "appears 2 times" in str(refused(example(bookings=twice)))


def test_a_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("{residents: 1}", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not JSON"):
        load_scenario(path)
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.json")


def test_an_unknown_shop_category_is_refused() -> None:
    booking = {**ISSUE_EXAMPLE["bookings"][0], "category": "casino"}
    assert refused(example(bookings=[booking])).key == "bookings.0.category"
