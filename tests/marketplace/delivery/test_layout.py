from __future__ import annotations

from marketplace.delivery.layout import (
    NO_POSITION,
    NO_SIDE_COLUMN,
    POSITION_TAKEN,
    POSITION_UNREACHABLE,
    SIDE_COLUMN_FULL,
    HostLayout,
    PlacementSpot,
    lay_out,
    newly_unservable,
)
from marketplace.lifecycle import PlacementKind

FEED, SIDE = PlacementKind.IN_FEED, PlacementKind.SIDE_GADGET


def spot(placement_id: int, kind: PlacementKind = FEED, position: int | None = None, **kw: bool):  # type: ignore[no-untyped-def]
    return PlacementSpot(placement_id, f"枠{placement_id}", kind, position, kw.get("active", True))


def test_the_demo_inventory_is_served_whole() -> None:
    layout = lay_out([spot(1, position=3), spot(2, position=8), spot(3, SIDE)], HostLayout())
    assert layout.feed == {3: 1, 8: 2}
    assert layout.side == (3,)
    assert not layout.unservable
    assert layout.served == {1, 2, 3}


def test_a_side_placement_needs_a_gadget_column_with_room() -> None:
    side = [spot(5, SIDE), spot(9, SIDE)]
    none = lay_out(side, HostLayout(side_slots=0))
    assert none.side == ()
    assert {p: r.template for p, r in none.unservable.items()} == {
        5: NO_SIDE_COLUMN,
        9: NO_SIDE_COLUMN,
    }
    one = lay_out(side, HostLayout(side_slots=1))
    assert one.side == (5,)  # the older placement keeps its card
    assert one.unservable[9].template == SIDE_COLUMN_FULL
    assert (
        one.unservable[9].message
        == "ガジェット欄に表示できる広告は1件までで、ほかの枠(「枠5」)で埋まっています"
    )
    assert lay_out(side, HostLayout(side_slots=2)).side == (5, 9)


def test_an_older_placement_keeps_its_feed_position() -> None:
    layout = lay_out([spot(7, position=3), spot(4, position=3)], HostLayout())
    assert layout.feed == {3: 4}
    reason = layout.unservable[7]
    assert reason.template == POSITION_TAKEN and reason.field == "feed_position"
    assert reason.message.startswith("フィードの3件目には枠「枠4」が表示される")


def test_positions_no_feed_can_show_are_unservable() -> None:
    # The last item of the longest feed (50) can never be an ad: a feed never ends on an ad.
    last = lay_out([spot(1, position=50)], HostLayout())
    assert last.feed == {}
    assert last.unservable[1].template == POSITION_UNREACHABLE
    assert last.unservable[1].params == {"position": 50, "limit": 50, "percent": 20}
    assert lay_out([spot(1, position=49)], HostLayout()).feed == {49: 1}
    # At most 20% of 50 items are ads: ten placements show, the eleventh never does.
    many = lay_out([spot(n, position=n) for n in range(1, 12)], HostLayout())
    assert sorted(many.feed) == list(range(1, 11))
    assert list(many.unservable) == [11]


def test_placements_without_a_position_take_the_free_default_ones() -> None:
    layout = lay_out(
        [spot(1, position=3), spot(2), spot(3), spot(4)], HostLayout(ad_positions=(3, 8, 12))
    )
    assert layout.feed == {3: 1, 8: 2, 12: 3}
    assert layout.unservable[4].template == NO_POSITION


def test_inactive_placements_take_no_slot() -> None:
    layout = lay_out(
        [spot(1, position=3, active=False), spot(2, position=3), spot(3, SIDE, active=False)],
        HostLayout(),
    )
    assert layout.feed == {3: 2}
    assert layout.side == ()
    assert not layout.unservable


def test_a_change_that_pushes_another_placement_off_is_found() -> None:
    before = lay_out([spot(1, position=3), spot(2, position=8)], HostLayout())
    # Placement 1 (older) moves to 8, where it wins over 2.
    after = lay_out([spot(1, position=8), spot(2, position=8)], HostLayout())
    assert newly_unservable(before, after, 1) == [2]
    assert newly_unservable(before, before, 1) == []
