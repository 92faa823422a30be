from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.routing import Mount
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from marketplace.db import make_engine, make_session_factory
from marketplace.synthetic import generate_city
from marketplace.synthetic.loader import load_city
from marketplace.vocab import AGE_BAND_LABELS, DISTRICTS, AgeBand, Household
from portal_plugin.demo.accounts import DEMO_PASSWORD, DEMO_SHOP_EMAIL, DEMO_STAFF
from portal_plugin.demo.app import create_demo_app
from portal_plugin.demo.campaigns import seed_demo_campaigns
from portal_plugin.demo.inventory import seed_inventory
from portal_plugin.migrate import upgrade
from tests.support.databases import throwaway_database
from tests.support.settings import make_settings


@pytest.fixture(scope="module")
def demo_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with throwaway_database("sqlite", Path(tmp_path_factory.mktemp("demo"))) as url:
        upgrade(url)
        engine = make_engine(url)
        with make_session_factory(engine).begin() as session:
            load_city(session, generate_city(400, n_articles=40, n_shops=120, days=14, seed=11))
            seed_inventory(session)
            seed_demo_campaigns(session)
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


def test_the_switcher_names_residents_in_japanese_not_codes(demo_client: TestClient) -> None:
    page = demo_client.get("/").text
    switcher = page[page.index('<select id="resident"') : page.index("</select>")]
    labels = re.findall(r"<option value=\"resident-[^\"]+\"[^>]*>\s*([^<]+?)\s*</option>", switcher)
    assert len(labels) >= 6
    for label in labels:
        age, household, district = label.removesuffix("（個人化オフ）").split("・")
        assert age in AGE_BAND_LABELS.values() or age == "年代未登録"
        assert household.endswith("世帯")
        assert district in DISTRICTS.values() or district == "地区未登録"
    codes = [*(a.value for a in AgeBand), *(h.value for h in Household), *DISTRICTS]
    assert not [code for code in codes if f"・{code}" in switcher or f"{code}・" in switcher]


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


def gadget_column(page: str) -> str:
    start = page.index('<aside aria-label="ガジェット">')
    return page[start : page.index("</aside>", start)]


def test_the_gadget_column_shows_the_side_placements_card(demo_client: TestClient) -> None:
    # Half of the placement's shares are sold: about every other view carries a shop's card.
    columns = [gadget_column(demo_client.get("/?resident=resident-000002").text) for _ in range(12)]
    assert all("除雪車ナビ" in column for column in columns)
    with_card = [column for column in columns if 'class="card ad side-slot"' in column]
    assert with_card
    column = with_card[0]
    assert 'class="ad-image"' in column and 'loading="lazy"' in column
    assert "/marketplace/creative-images/" in column and "/marketplace/c/" in column
    assert any(headline in column for headline in ("新米と朝どれ野菜", "会津塗の箸"))


def test_the_portal_shows_shops_where_to_sign_up(demo_client: TestClient) -> None:
    page = demo_client.get("/").text
    header = page[page.index('<header class="site-header">') : page.index("</header>")]
    assert '<a href="/marketplace/shop/signup">お店の方へ：広告を出す</a>' in header
    assert '<a href="/marketplace/shop/login">お店のログイン</a>' in header
    assert demo_client.get("/marketplace/shop/signup").status_code == 200


def test_the_readme_lists_the_entry_points_and_the_demo_accounts() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    for path in ("/marketplace/shop/signup", "/marketplace/shop/login", "/marketplace/staff/login"):
        assert f"http://127.0.0.1:8000{path}" in readme, path
    for email in (DEMO_SHOP_EMAIL, *(staff.email for staff in DEMO_STAFF)):
        assert f"`{email}`" in readme, email
    assert f"`{DEMO_PASSWORD}`" in readme
