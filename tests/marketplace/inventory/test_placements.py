"""A placement that no page of the host shows cannot be created, moved there, or sold."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from marketplace.audit import Actor
from marketplace.bookings.requests import BookingRequest
from marketplace.bookings.services import place_hold, quote_booking
from marketplace.delivery.layout import HostLayout
from marketplace.errors import InvalidInput, PlacementNotServable
from marketplace.inventory.placements import (
    create_placement,
    parse_placement,
    sellable_placements,
    update_placement,
)
from marketplace.inventory.targeting import EVERYONE
from marketplace.lifecycle import ActorKind, PlacementKind
from marketplace.models import Placement
from tests.support.marketplace_factories import (
    NOW,
    PLACEMENT_FORM,
    WEEK,
    make_placement,
    make_shop,
)

ADMIN = Actor(ActorKind.STAFF, 1, "管理 太郎")
NO_GADGET_COLUMN = HostLayout(side_slots=0)


@pytest.fixture(autouse=True)
def no_other_placements(session: Session) -> None:
    session.execute(update(Placement).values(active=False))


def form(**changes: Any) -> dict[str, Any]:
    return parse_placement({**PLACEMENT_FORM, **changes})


def test_a_new_placement_at_a_position_another_holds_is_refused(session: Session) -> None:
    make_placement(session, name="3件目の枠", feed_position=3)
    with pytest.raises(InvalidInput) as refused:
        create_placement(session, form(feed_position="3"), ADMIN)
    assert refused.value.field == "feed_position"
    assert "3件目には枠「3件目の枠」が表示される" in refused.value.message
    assert create_placement(session, form(feed_position="5"), ADMIN).feed_position == 5


def test_a_position_the_longest_feed_never_opens_is_refused(session: Session) -> None:
    with pytest.raises(InvalidInput, match="最長50件のフィードでも表示されません"):
        create_placement(session, form(feed_position="50"), ADMIN)


def test_a_side_placement_needs_a_gadget_column(session: Session) -> None:
    side = form(code="side-new", kind="side_gadget", feed_position="")
    with pytest.raises(InvalidInput, match="ガジェット欄に広告を表示する場所がありません"):
        create_placement(session, side, ADMIN, NO_GADGET_COLUMN)
    created = create_placement(session, side, ADMIN, HostLayout(side_slots=1))
    with pytest.raises(InvalidInput) as full:
        create_placement(session, {**side, "code": "side-two"}, ADMIN)
    assert full.value.message.endswith("1件までで、ほかの枠(「新しい枠」)で埋まっています")
    # Saved inactive it takes no card, so nothing is refused.
    create_placement(session, {**side, "code": "side-off", "active": False}, ADMIN)
    assert created.kind is PlacementKind.SIDE_GADGET


def test_an_edit_that_pushes_another_placement_off_the_page_is_refused(session: Session) -> None:
    older = make_placement(session, name="古い枠", feed_position=3)
    make_placement(session, name="8件目の枠", feed_position=8)
    # The older placement would win position 8 and take the other off every page.
    with pytest.raises(InvalidInput, match="枠「8件目の枠」が住民のページに表示されなくなる"):
        update_placement(
            session, older.id, form(code=older.code, name="古い枠", feed_position="8"), ADMIN
        )
    session.refresh(older)
    assert older.feed_position == 3
    moved = update_placement(
        session, older.id, form(code=older.code, name="古い枠", feed_position="5"), ADMIN
    )
    assert moved.feed_position == 5


def test_an_unservable_placement_is_neither_listed_nor_quoted_nor_held(session: Session) -> None:
    shop = make_shop(session)
    side = make_placement(
        session, kind=PlacementKind.SIDE_GADGET, feed_position=None, name="ガジェット欄"
    )
    request = BookingRequest(
        placement_id=side.id, first_week=WEEK, weeks=1, shares=1, targeting=EVERYONE
    )
    assert quote_booking(session, shop.id, request, NOW, HostLayout()).placement.id == side.id
    assert side in sellable_placements(session, HostLayout())
    assert side not in sellable_placements(session, NO_GADGET_COLUMN)
    with pytest.raises(PlacementNotServable) as refused:
        quote_booking(session, shop.id, request, NOW, NO_GADGET_COLUMN)
    assert refused.value.message == "この枠は住民のページに表示されないため、現在は販売していません"
    assert refused.value.field == "placement_id"
    with pytest.raises(PlacementNotServable):
        place_hold(session, shop.id, request, "key-1", now=NOW, host=NO_GADGET_COLUMN)
