"""「この広告について」 on residents' cards, and the choices taken from it: hide this shop, stop
personalised ads. Stored, honoured by the next feed, told to the host, refused without the
resident's own form token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.models import Booking
from marketplace.vocab import AgeBand, Household
from portal_plugin.app import create_app
from portal_plugin.identity import HEADER, ResidentIdentity, mint_token
from tests.support.delivery_world import BROWSER, World, build_world
from tests.support.resident_hooks import RecordingHooks
from tests.support.settings import TEST_IDENTITY_SECRET, make_settings

HTML = {"accept": "text/html"}
JSON = {"accept": "application/json"}
TOKEN = re.compile(r'name="choice_token" value="([^"]+)"')
SHOP = re.compile(r'name="shop_id" value="(\d+)"')


@pytest.fixture
def world(world_engine: Engine) -> World:
    """Three shops: two target residents in their 30s, the last one everyone."""
    world = build_world(world_engine, shops=3, targeting={"age_bands": ["30-39"]})
    with Session(world_engine) as session, session.begin():
        last = session.get(Booking, world.bookings[-1])
        assert last is not None
        session.execute(update(Booking).where(Booking.shop_id == last.shop_id).values(targeting={}))
    return world


@pytest.fixture
def hooks_and_client(world: World, tmp_path: Path) -> Iterator[tuple[RecordingHooks, TestClient]]:
    url = world.engine.url.render_as_string(hide_password=False)
    settings = make_settings(url, delivery_spool_dir=tmp_path / "spool")
    hooks = RecordingHooks(settings)
    app = create_app(settings, hooks, engine=world.engine)
    with TestClient(app, base_url="https://testserver", headers=BROWSER) as client:
        yield hooks, client


def resident(external_id: str = "resident-about-1", consent: bool = True) -> dict[str, str]:
    identity = ResidentIdentity(
        external_id=external_id,
        age_band=AgeBand.AGE_30S,
        household=Household.YOUNG_CHILDREN,
        district="tsuruga",
        interests=("子育て",),
        personalization_consent=consent,
    )
    return {HEADER: mint_token(TEST_IDENTITY_SECRET, identity), **HTML}


def about_blocks(html: str) -> list[str]:
    return re.findall(r'<details class="about-ad">.*?</details>', html, re.S)


def test_every_ad_card_says_who_paid_and_which_attributes_matched(
    hooks_and_client: tuple[RecordingHooks, TestClient], world: World
) -> None:
    _, client = hooks_and_client
    page = client.get("/fragment/feed", headers=resident()).text
    blocks = about_blocks(page)
    assert len(blocks) == 2  # two ad slots, each card with its own control
    for block in blocks:
        assert "<summary>この広告について</summary>" in block
        assert "会津若松市に広告料を払って出しています" in block
        assert any(name in block for name in world.shop_names.values())
        # Only the targeted attribute that matched: the age band, not household or district;
        # the untargeted shop's card says it is shown to everyone.
        assert re.findall(r"<li>(.*?)</li>", block) == ["年代: 30代"] or (
            "<li>" not in block and "すべての方に表示しています" in block
        )
        assert "読んだ記事も使っています" in block
        assert "このお店の広告を表示しない" in block and "好みに合わせた広告を停止" in block
        assert "/transparency" in block and "/about-ads" in block
    assert 'href="/about-ads"' in page and 'href="/me"' in page  # the feed's own links


def test_anonymous_visitors_and_non_consenting_residents_are_told_nothing_was_used(
    hooks_and_client: tuple[RecordingHooks, TestClient],
) -> None:
    _, client = hooks_and_client
    for headers in (HTML, resident("resident-no-consent", consent=False)):
        blocks = about_blocks(client.get("/fragment/feed", headers=headers).text)
        assert blocks
        for block in blocks:
            assert "あなたの情報を使わずに選びました" in block
            assert "<li>" not in block and "読んだ記事" not in block
            assert "好みに合わせた広告を停止" not in block
    anonymous = about_blocks(client.get("/fragment/feed", headers=HTML).text)
    assert all("choice_token" not in block for block in anonymous)  # no one to store it for


def test_hiding_a_shop_from_its_card_works_without_javascript_and_tells_the_host(
    hooks_and_client: tuple[RecordingHooks, TestClient], world: World
) -> None:
    hooks, client = hooks_and_client
    me = resident()
    page = client.get("/fragment/feed", headers=me).text
    token = TOKEN.search(page)
    shop = SHOP.search(page)
    assert token and shop
    shop_id = int(shop.group(1))
    name = next(n for n in world.shop_names.values() if n in about_blocks(page)[0])

    answer = client.post(
        "/me/hidden-shops",
        data={"shop_id": shop_id, "choice_token": token.group(1)},
        headers=me,
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/about-ads?done=hide_shop"
    settings_page = client.get(answer.headers["location"], headers=me).text
    assert "このお店の広告を表示しないようにしました" in settings_page
    assert name in settings_page and "また表示する" in settings_page

    for _ in range(5):  # the next feeds, on this worker at once
        assert (
            f'name="shop_id" value="{shop_id}"' not in client.get("/fragment/feed", headers=me).text
        )
    assert [(c.what, c.shop_id, c.hidden_shop_ids) for c in hooks.changes] == [
        ("hide_shop", shop_id, (shop_id,))
    ]
    assert hooks.changes[0].external_id == "resident-about-1"

    undo = client.post(
        f"/me/hidden-shops/{shop_id}/show",
        data={"choice_token": token.group(1)},
        headers={**me, **JSON},
    )
    assert undo.status_code == 200
    assert undo.json()["hidden_shop_ids"] == []
    assert hooks.changes[-1].what == "show_shop"


def test_stopping_personalised_ads_leaves_only_untargeted_ads_and_says_so(
    hooks_and_client: tuple[RecordingHooks, TestClient], world: World
) -> None:
    hooks, client = hooks_and_client
    me = resident("resident-about-2")
    token = TOKEN.search(client.get("/fragment/feed", headers=me).text)
    assert token
    answer = client.post(
        "/me/personalized-ads",
        data={"personalized": "off", "choice_token": token.group(1)},
        headers={**me, **JSON},
    )
    assert answer.status_code == 200
    assert answer.json()["personalized_ads"] is False
    assert "停止しました" in answer.json()["message"]
    assert hooks.changes[-1].what == "personalized_ads"
    assert hooks.changes[-1].personalized_ads is False
    untargeted = world.shop_names[world.bookings[-1]]
    for _ in range(3):
        blocks = about_blocks(client.get("/fragment/feed", headers=me).text)
        # The targeted shops' ads need the attributes it no longer uses.
        assert blocks and all(untargeted in block for block in blocks)
        assert all("あなたの情報を使わずに選びました" in block for block in blocks)
        assert all("好みに合わせた広告を停止" not in block for block in blocks)
    settings_page = client.get("/about-ads", headers=me).text
    assert "好みに合わせた広告を再開" in settings_page


def test_a_choice_needs_the_residents_own_form_token(
    hooks_and_client: tuple[RecordingHooks, TestClient],
) -> None:
    hooks, client = hooks_and_client
    other = TOKEN.search(client.get("/fragment/feed", headers=resident("someone-else")).text)
    assert other
    me = {**resident(), **JSON}
    for data in ({}, {"choice_token": "forged"}, {"choice_token": other.group(1)}):
        answer = client.post(
            "/me/personalized-ads", data={"personalized": "off", **data}, headers=me
        )
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "stale_form"
    anonymous = client.post("/me/personalized-ads", data={"personalized": "off"}, headers=JSON)
    assert anonymous.status_code == 401
    mine = TOKEN.search(client.get("/fragment/feed", headers=resident()).text)
    assert mine
    bad = client.post(
        "/me/personalized-ads",
        data={"personalized": "maybe", "choice_token": mine.group(1)},
        headers=me,
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "personalized"
    missing = client.post(
        "/me/hidden-shops", data={"shop_id": "999999999", "choice_token": mine.group(1)}, headers=me
    )
    assert missing.status_code == 404
    assert hooks.changes == []


def test_a_browser_holding_a_plugin_session_can_still_use_the_cards_forms(
    hooks_and_client: tuple[RecordingHooks, TestClient],
) -> None:
    """The card is rendered for the host, which never sees the browser's session: its form has
    no session CSRF token, so resident forms are checked by their own token instead."""
    hooks, client = hooks_and_client
    me = resident("resident-with-session")
    client.get("/about-ads", headers=me)  # a plugin page: the browser now holds pm_session
    assert "pm_session" in client.cookies
    token = TOKEN.search(client.get("/fragment/feed", headers=me).text)
    assert token
    answer = client.post(
        "/me/personalized-ads",
        data={"personalized": "off", "choice_token": token.group(1)},
        headers={**me, **JSON},
    )
    assert answer.status_code == 200, answer.text
    assert hooks.changes[-1].what == "personalized_ads"
