"""The city's house ads fill the slots no booking filled, labelled as the city's, counted apart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.audit import Actor
from marketplace.db import utcnow
from marketplace.delivery.models import AdOffer, SlotOpportunity
from marketplace.lifecycle import ActorKind
from marketplace.models import HouseAd, HouseAdCount
from marketplace.switches import set_disaster_mode
from tests.support.delivery_world import World, build_world, running_delivery_service, world_client

STAFF = Actor(ActorKind.STAFF, 1, "広報 一郎")


@pytest.fixture
def world(world_engine: Engine) -> World:
    """Placements at 3 and 8 and in the gadget column, nothing sold: every slot is unfilled."""
    world = build_world(world_engine, shops=0, side=True)
    now = utcnow()
    with Session(world_engine) as session, session.begin():
        session.execute(delete(HouseAd))
        session.add_all(
            [
                HouseAd(
                    headline="広告募集中 地域のお店の広告を掲載しませんか",
                    body="1週間から申し込めます。",
                    link_url="/marketplace/shop/signup",
                    in_feed=True,
                    side=True,
                    starts_at=now - timedelta(days=1),
                ),
                HouseAd(
                    headline="除雪車ナビをご利用ください",
                    body="",
                    link_url="https://www.city.example.jp/snow",
                    in_feed=False,
                    side=True,
                    starts_at=now - timedelta(days=1),
                ),
                HouseAd(  # retired: never shown
                    headline="終わった催し",
                    body="",
                    link_url="https://www.city.example.jp/old",
                    in_feed=True,
                    side=True,
                    starts_at=now - timedelta(days=9),
                    retired_at=now - timedelta(days=1),
                ),
                HouseAd(  # scheduled for next week: not yet
                    headline="来週からのお知らせ",
                    body="",
                    link_url="https://www.city.example.jp/next",
                    in_feed=True,
                    side=True,
                    starts_at=now + timedelta(days=7),
                ),
            ]
        )
    return world


@pytest.fixture
def client(world: World, tmp_path: Path) -> Iterator[TestClient]:
    with world_client(world, tmp_path / "spool", delivery_refresh_seconds=0.2) as client:
        yield client


def houses(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in items if item["type"] == "house"]


def test_unfilled_slots_show_the_citys_house_ads_below_the_notices(client: TestClient) -> None:
    body = client.get("/api/feed", params={"limit": 10, "slots": "side"}).json()
    items = body["items"]
    assert items[0]["type"] == "article" and items[0]["priority"] == "urgent"
    placed = houses(items)
    # Two slots, one house ad that may show in the feed: it takes the first, an article the other.
    assert [h["position"] for h in placed] == [3]
    assert [i for i, item in enumerate(items, 1) if item["type"] != "article"] == [3]
    (house,) = placed
    assert house["label"] == "市からのお知らせ" and "shop_name" not in house
    assert house["headline"] == "広告募集中 地域のお店の広告を掲載しませんか"
    assert house["url"] == "/marketplace/shop/signup"
    assert house["impression_url"].startswith("/h/")
    assert not [item for item in items if item["type"] == "ad"]
    (side,) = body["slots"]["side"]
    assert side["type"] == "house" and side["label"] == "市からのお知らせ"
    shown = {h["headline"] for h in placed} | {side["headline"]}
    assert "終わった催し" not in shown and "来週からのお知らせ" not in shown


def test_house_ads_take_turns_and_never_repeat_on_a_page(client: TestClient) -> None:
    headlines = []
    for _ in range(6):
        side = client.get("/api/feed", params={"limit": 4, "slots": "side"}).json()
        (card,) = side["slots"]["side"]
        headlines.append(card["headline"])
    assert set(headlines) == {
        "広告募集中 地域のお店の広告を掲載しませんか",
        "除雪車ナビをご利用ください",
    }
    assert headlines[0] != headlines[1]


def test_house_ads_are_never_a_shops_delivery_and_their_views_count_once(
    client: TestClient, world: World
) -> None:
    service = running_delivery_service(client)
    assert service.writer.flush()
    with Session(world.engine) as session:
        offers_before = session.scalar(select(func.count()).select_from(AdOffer))
        slots_before = session.scalar(select(func.coalesce(func.sum(SlotOpportunity.slots), 0)))
    body = client.get("/api/feed", params={"limit": 10, "slots": "side"}).json()
    placed = houses(body["items"]) + body["slots"]["side"]
    assert len(placed) == 2
    for house in placed:
        assert client.get(house["impression_url"]).status_code == 204
        assert client.get(house["impression_url"]).status_code == 400  # a replay
    bot = client.get("/api/feed", params={"limit": 10}).json()
    (crawled,) = houses(bot["items"])
    assert (
        client.get(crawled["impression_url"], headers={"User-Agent": "Googlebot"}).status_code
        == 204
    )
    assert service.writer.flush()
    service.house_counts.flush(service.session_factory)
    with Session(world.engine) as session:
        # No offer: nothing a shop's report, pacing or invoice could count.
        assert session.scalar(select(func.count()).select_from(AdOffer)) == offers_before
        # The slots still existed: the bookings' denominator is what it was without house ads.
        slots = session.scalar(select(func.coalesce(func.sum(SlotOpportunity.slots), 0)))
        assert slots - slots_before == 2 + 1 + 2  # two feeds' two slots, one side card
        counts = session.execute(
            select(
                HouseAdCount.surface, func.sum(HouseAdCount.shown), func.sum(HouseAdCount.views)
            ).group_by(HouseAdCount.surface)
        ).all()
    totals = {surface: (int(shown), int(views)) for surface, shown, views in counts}
    assert totals == {"feed": (2, 1), "side": (1, 1)}  # the bot's view is not counted


def test_a_forged_or_foreign_view_token_is_refused(client: TestClient) -> None:
    body = client.get("/api/feed", params={"limit": 10}).json()
    (house,) = houses(body["items"])
    token = house["impression_url"].rsplit("/", 1)[1]
    assert client.get(f"/i/{token}").status_code == 400  # not an ad's impression token
    assert client.get(f"/h/{token[:-2]}xx").status_code == 400


def test_no_house_ads_in_disaster_mode(client: TestClient, world: World) -> None:
    with Session(world.engine) as session, session.begin():
        set_disaster_mode(session, STAFF, True, "地震")
    try:
        deadline = time.monotonic() + 5
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            body = client.get("/api/feed", params={"limit": 10, "slots": "side"}).json()
            if body["ads_suppressed"]:
                break
            time.sleep(0.1)
        assert body["ads_suppressed"] and not houses(body["items"])
        assert body["slots"]["side"] == []
        assert "市からのお知らせ" not in client.get("/fragment/feed").text
        assert "data-kind" not in client.get("/fragment/side").text
    finally:
        with Session(world.engine) as session, session.begin():
            set_disaster_mode(session, STAFF, False)


def test_the_fragments_label_house_ads_as_the_citys(client: TestClient, world: World) -> None:
    html = client.get("/fragment/feed").text
    assert html.count('data-kind="house"') == 1
    assert "市からのお知らせ" in html and 'href="/marketplace/shop/signup"' in html
    assert 'rel="sponsored' not in html  # the city's own page, not a sponsored link
    side = client.get("/fragment/side").text
    assert 'class="card house side-slot"' in side and 'class="pixel"' in side
    # With none live, an unfilled slot is an article again, as before house ads.
    with Session(world.engine) as session, session.begin():
        session.execute(update(HouseAd).values(retired_at=utcnow()))
    deadline = time.monotonic() + 5
    while 'data-kind="house"' in client.get("/fragment/feed").text and time.monotonic() < deadline:
        time.sleep(0.1)
    feed = client.get("/fragment/feed").text
    assert 'data-kind="house"' not in feed and feed.count('data-kind="article"') == 10
