from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.routing import Mount
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from marketplace.db import make_engine, make_session_factory
from marketplace.seeding import load_city
from marketplace.synthetic import generate_city
from portal_plugin.demo.app import create_demo_app
from portal_plugin.migrate import upgrade
from tests.conftest import make_settings
from tests.dbtools import throwaway_database


@pytest.fixture(scope="module")
def demo_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with throwaway_database("sqlite", Path(tmp_path_factory.mktemp("demo"))) as url:
        upgrade(url)
        engine = make_engine(url)
        with make_session_factory(engine).begin() as session:
            load_city(session, generate_city(400, n_articles=40, n_shops=8, days=14, seed=11))
        engine.dispose()
        app = create_demo_app(make_settings(url, session_cookie_secure=False))
        with TestClient(app) as client:
            yield client


def test_home_page_is_japanese_with_gadgets_and_articles(demo_client: TestClient) -> None:
    page = demo_client.get("/")
    assert page.status_code == 200
    assert '<html lang="ja">' in page.text
    assert "会津若松+" in page.text
    assert "除雪車ナビ" in page.text
    assert "あなたへのおすすめ" in page.text
    assert page.text.count('class="card') >= 5
    assert "ログインしていない訪問者として表示しています" in page.text
    assert "content-security-policy" in page.headers


def test_switching_resident_shows_who_is_browsing_and_is_remembered(
    demo_client: TestClient,
) -> None:
    page = demo_client.get("/?resident=resident-000002")
    assert "resident-000002 さんとして表示しています" in page.text
    assert "demo_resident=resident-000002" in page.headers["set-cookie"]
    again = demo_client.get("/")
    assert "resident-000002 さんとして表示しています" in again.text


def test_plugin_is_mounted_under_marketplace(demo_client: TestClient) -> None:
    health = demo_client.get("/marketplace/healthz").json()
    assert health["status"] == "ok" and health["database"] == "ok"
    assert set(health["delivery"]) == {"relevance_model", "residents_ranked_ahead"}
    assert demo_client.get("/marketplace/static/portal.css").status_code == 200


def test_feed_follows_the_residents_language_not_the_browsers(demo_client: TestClient) -> None:
    page = demo_client.get("/?resident=resident-000002", headers={"accept-language": "en-US,en"})
    assert "あなたへのおすすめ" in page.text
    assert "Recommended for you" not in page.text


def test_the_feed_is_answered_on_the_hosts_fast_lane(
    demo_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    routed: list[str] = []
    original = Mount.handle

    async def through_the_mount(self: Mount, scope: Scope, receive: Receive, send: Send) -> None:
        routed.append(scope["path"])
        await original(self, scope, receive, send)

    monkeypatch.setattr(Mount, "handle", through_the_mount)
    feed = demo_client.get("/marketplace/api/feed?limit=5")
    assert feed.status_code == 200 and len(feed.json()["items"]) == 5
    assert len(feed.headers.get_list("content-security-policy")) == 1
    assert routed == []  # neither the host's router nor the mount saw it
    assert demo_client.get("/marketplace/healthz").status_code == 200
    assert routed == ["/marketplace/healthz"]
    assert demo_client.get("/marketplace/api/feed?limit=0").status_code == 422
    assert demo_client.post("/marketplace/api/feed").status_code in (403, 405)
