"""`RecentTraffic`: quotes of one placement share a reading of its traffic for a few minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from marketplace.delivery import forecast_traffic
from marketplace.delivery.forecast import PlacementTraffic
from marketplace.delivery.forecast_traffic import RecentTraffic

AT = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)  # a period boundary for 300 s periods


@pytest.fixture
def readings(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, datetime]]:
    """Each database reading `RecentTraffic` makes, as (placement, now)."""
    made: list[tuple[int, datetime]] = []

    def load(session: Any, placement_id: int, now: datetime) -> PlacementTraffic | None:
        made.append((placement_id, now))
        return None if placement_id == 99 else PlacementTraffic(float(len(made)), ())

    monkeypatch.setattr(forecast_traffic, "load_traffic", load)
    return made


def test_quotes_within_one_period_share_one_reading(readings: list[tuple[int, datetime]]) -> None:
    recent = RecentTraffic(reuse_seconds=300)
    first = recent(None, 1, AT)  # type: ignore[arg-type]
    again = recent(None, 1, AT + timedelta(seconds=299))  # type: ignore[arg-type]
    assert first is again and readings == [(1, AT)]


def test_the_next_period_and_another_placement_read_afresh(
    readings: list[tuple[int, datetime]],
) -> None:
    recent = RecentTraffic(reuse_seconds=300)
    first = recent(None, 1, AT)  # type: ignore[arg-type]
    later = recent(None, 1, AT + timedelta(seconds=300))  # type: ignore[arg-type]
    other = recent(None, 2, AT)  # type: ignore[arg-type]
    assert first is not None and later is not None and other is not None
    assert (first.slots_per_day, later.slots_per_day, other.slots_per_day) == (1.0, 2.0, 3.0)
    assert [placement for placement, _ in readings] == [1, 1, 2]


def test_a_placement_without_traffic_is_remembered_too(
    readings: list[tuple[int, datetime]],
) -> None:
    recent = RecentTraffic(reuse_seconds=300)
    assert recent(None, 99, AT) is None  # type: ignore[arg-type]
    assert recent(None, 99, AT + timedelta(seconds=10)) is None  # type: ignore[arg-type]
    assert len(readings) == 1


def test_the_period_must_be_positive() -> None:
    with pytest.raises(ValueError, match="reuse_seconds must be positive"):
        RecentTraffic(reuse_seconds=0)
