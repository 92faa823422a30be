"""Hostile creative text reaching residents: the delivered feed and the click redirect.

Broke: approved ads whose headline, body and shop name carry `<script>` and an attribute
break-out (`"><img onerror>`), served to residents. Checked: the HTML feed fragment shows them
escaped (no live tag, no attribute injected), the JSON feed returns them as plain strings, every
click URL points at this site's own /c/ route (never straight at the advertiser), and the click
redirect goes only to the approved https landing URL of that ad.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.models import CreativeVersion, Shop
from tests.support.delivery_world import World, build_world, world_client

HEADLINE = "<script>alert(1)</script>"
BODY = '"><img src=x onerror=alert(1)>'
SHOP = "</a><svg onload=alert(1)>"


@pytest.fixture
def world(world_engine: Engine) -> World:
    world = build_world(world_engine)
    with Session(world_engine) as session, session.begin():
        session.execute(update(CreativeVersion).values(headline=HEADLINE, body=BODY))
        session.execute(update(Shop).values(business_name=SHOP))
    return world


@pytest.fixture
def feed_client(world: World, tmp_path: Path) -> Iterator[TestClient]:
    with world_client(world, tmp_path / "spool") as client:
        yield client


def test_hostile_ad_text_is_escaped_and_clicks_go_only_to_the_approved_url(
    feed_client: TestClient, world: World
) -> None:
    fragment = feed_client.get("/fragment/feed")
    assert fragment.status_code == 200
    html = fragment.text
    assert html.count('data-kind="ad"') == 2
    for live in ("<script>alert", "<img src=x", "<svg onload"):
        assert live not in html, live
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;svg onload=alert(1)&gt;" in html

    body = feed_client.get("/api/feed", params={"limit": 10}).json()
    placed = [item for item in body["items"] if item["type"] == "ad"]
    assert len(placed) == 2
    approved = set(world.landing_urls.values())
    for ad in placed:
        assert ad["shop_name"] == SHOP  # JSON carries the text; escaping is the renderer's job
        click_url = urlsplit(ad["click_url"])
        assert click_url.netloc in ("", "testserver") and click_url.path.startswith("/c/")
        feed_client.get(ad["impression_url"])
        response = feed_client.get(ad["click_url"], follow_redirects=False)
        assert response.status_code == 302
        location = response.headers["location"]
        assert location in approved and location.startswith("https://")
