"""The booking form opens on the first week with a free share (issue 21 item 3)."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

from marketplace.inventory.stock import WeekAvailability
from marketplace.queries import PlacementCalendar, booking_opening

MONDAY = date(2026, 12, 7)


def calendar(placement_id: int, free: list[int]) -> PlacementCalendar:
    placement: Any = SimpleNamespace(id=placement_id)
    weeks = [
        WeekAvailability(MONDAY + timedelta(weeks=n), total=4, sold=4 - left, held=0)
        for n, left in enumerate(free)
    ]
    return PlacementCalendar(placement, weeks)


def test_the_first_placement_opens_on_its_first_free_week() -> None:
    opening = booking_opening([calendar(1, [0, 0, 2, 4]), calendar(2, [4, 4, 4, 4])], None)
    assert opening.placement_id == 1
    assert opening.first_week == MONDAY + timedelta(weeks=2)
    assert opening.weeks[0].free == {1: 0, 2: 4}


def test_the_placement_asked_for_is_kept() -> None:
    opening = booking_opening([calendar(1, [0, 3]), calendar(2, [0, 0])], 2)
    assert (opening.placement_id, opening.first_week) == (2, None)


def test_a_sold_out_placement_gives_way_unless_asked_for() -> None:
    grid = [calendar(1, [0, 0]), calendar(2, [0, 1])]
    assert booking_opening(grid, None).placement_id == 2
    assert booking_opening(grid, None).first_week == MONDAY + timedelta(weeks=1)
    assert booking_opening(grid, 99).placement_id == 2  # not a sellable placement


def test_nothing_to_sell() -> None:
    opening = booking_opening([], None)
    assert (opening.placement_id, opening.first_week, opening.weeks) == (None, None, [])
