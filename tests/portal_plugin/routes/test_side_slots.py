"""The gadget column's placement is served: through the feed API's `slots` and its fragment."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.audit import Actor
from marketplace.delivery.models import AdOffer
from marketplace.lifecycle import ActorKind, PlacementKind
from marketplace.models import Booking, Placement
from marketplace.switches import set_disaster_mode
from tests.support.delivery_world import (
    World,
    build_world,
    running_delivery_service,
    world_client,
)


@pytest.fixture
def world(world_engine: Engine) -> World:
    return build_world(world_engine, side=True)


@pytest.fixture
def client(world: World, tmp_path: Path) -> Iterator[TestClient]:
    with world_client(world, tmp_path / "spool", delivery_refresh_seconds=0.2) as client:
        yield client


def side_placement(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalars(
            select(Placement.id).where(
                Placement.active.is_(True), Placement.kind == PlacementKind.SIDE_GADGET
            )
        ).one()


def test_the_side_cards_come_with_the_feed_when_asked(client: TestClient, world: World) -> None:
    plain = client.get("/api/feed", params={"limit": 10}).json()
    assert "slots" not in plain  # a host without a gadget column asks for nothing more
    body = client.get("/api/feed", params={"limit": 10, "slots": "side"}).json()
    assert len(body["items"]) == 10
    (card,) = body["slots"]["side"]
    assert card["type"] == "ad" and card["label"] == "広告" and card["position"] == 1
    assert card["shop_name"] in set(world.shop_names.values())
    version = card["image"]["url"].rsplit("/", 1)[1]
    assert card["image"] == {
        "url": f"/creative-images/{version}",
        "width": 600,
        "height": 314,
        "alt": card["headline"],
    }
    service = running_delivery_service(client)
    offer = service.read_click(card["click_url"].rsplit("/", 1)[1])
    assert offer.booking_id in world.side_bookings
    # In-feed ads carry their image the same way.
    feed_ads = [item for item in body["items"] if item["type"] == "ad"]
    assert feed_ads and all(ad["image"]["width"] == 600 for ad in feed_ads)
    assert client.get(card["impression_url"]).status_code == 204
    assert service.writer.flush()
    with Session(world.engine) as session:
        stored = session.scalar(select(AdOffer).where(AdOffer.id == offer.offer_id))
        assert stored is not None and stored.placement_id == side_placement(world.engine)


def test_an_unknown_slot_name_is_422(client: TestClient) -> None:
    response = client.get("/api/feed", params={"slots": "footer"})
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "slots"
    assert client.get("/api/feed", params={"slots": ""}).status_code == 200


def test_the_side_fragment_shows_the_card_with_its_image(client: TestClient, world: World) -> None:
    html = client.get("/fragment/side").text
    assert html.count('data-kind="ad"') == 1
    assert 'class="ad-image"' in html and 'loading="lazy"' in html
    assert 'width="600" height="314"' in html
    assert any(name in html for name in world.shop_names.values())
    assert 'rel="sponsored noopener"' in html and "/c/" in html and 'class="pixel"' in html


def test_each_card_is_a_slot_of_its_placement_and_shops_share_it(
    client: TestClient, world: World
) -> None:
    seen: dict[int, int] = {}
    service = running_delivery_service(client)
    for _ in range(40):
        card = client.get("/api/feed", params={"limit": 4, "slots": "side"}).json()
        for item in card["slots"]["side"]:
            booking = service.read_click(item["click_url"].rsplit("/", 1)[1]).booking_id
            seen[booking] = seen.get(booking, 0) + 1
    # Two shops bought 2 of the placement's 4 shares each: both are served, by pacing.
    assert set(seen) == set(world.side_bookings)
    assert service.writer.flush()
    with Session(world.engine) as session:
        offers = session.scalar(
            select(func.count())
            .select_from(AdOffer)
            .where(AdOffer.placement_id == side_placement(world.engine))
        )
        bookings = session.scalars(
            select(Booking.id).where(Booking.placement_id == side_placement(world.engine))
        ).all()
    assert offers == sum(seen.values()) and set(bookings) == set(world.side_bookings)


def test_no_side_cards_in_disaster_mode(client: TestClient, world: World) -> None:
    def side_cards() -> list[Any]:
        return list(client.get("/api/feed", params={"slots": "side"}).json()["slots"]["side"])

    assert side_cards()
    with Session(world.engine) as session, session.begin():
        set_disaster_mode(session, Actor(ActorKind.STAFF, 1, "staff"), True, "大雪")
    try:
        deadline = time.monotonic() + 5
        while side_cards() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert side_cards() == []
        assert "data-kind" not in client.get("/fragment/side").text
    finally:
        with Session(world.engine) as session, session.begin():
            set_disaster_mode(session, Actor(ActorKind.STAFF, 1, "staff"), False)
