"""Residents in control, in Debian's chromium (issue 17's "done when").

Two workers (two demo portals on one database, each with its own delivery service and choice
book) and a resident with young children who consented to personalisation. On the first
worker the resident opens 「この広告について」 from the keyboard, reads which of their attributes
matched, hides that shop and stops personalised ads from the cards; the second worker's next
feeds honour both; the host's `consent_changed` hook heard both. Then 「あなたのデータ」 (/me)
from the feed's link: what is held, the JSON download, and 「データを削除」, after which the shops'
reports of the ads the resident saw are unchanged. At a phone's width and at a desktop's; axe-core
finds nothing serious; screenshots under test-artifacts/browser/.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from analytics.retention import resident_key
from analytics.shop_report_source import load_shop_report
from marketplace.db import make_engine, make_session_factory, utcnow
from marketplace.delivery.models import AdOffer
from marketplace.delivery.rollups import roll_up_hour
from marketplace.models import Resident
from marketplace.vocab import Household
from portal_plugin.demo.app import DemoHooks, create_demo_app, switcher_residents
from portal_plugin.demo.campaigns import seed_demo_campaigns
from portal_plugin.settings import Settings
from tests.proof.browser import (
    DESKTOP,
    PHONE,
    Journey,
    artifact_dir,
    assert_accessible,
    horizontal_overflow,
    small_touch_targets,
    wider_than_screen,
)
from tests.proof.livesite import LiveServer, SmallCity, live_server, seeded_database
from tests.support.settings import TEST_IDENTITY_SECRET, make_settings

pytestmark = pytest.mark.browser

CITY = SmallCity(residents=300, shops=150, seed=5)


@dataclass
class TwoWorkers:
    first: LiveServer
    second: LiveServer
    hooks: DemoHooks
    residents: list[str]  # consenting residents with young children, one per test
    url: str


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoWorkers]:
    with seeded_database(tmp_path_factory.mktemp("control-db"), CITY) as url:
        engine = make_engine(url)
        with make_session_factory(engine).begin() as session:
            assert seed_demo_campaigns(session) >= 7
            shown = {r.external_id for r in switcher_residents(session)}
            parents = [
                r.external_id
                for r in session.scalars(
                    select(Resident).where(
                        Resident.household == Household.YOUNG_CHILDREN,
                        Resident.personalization_consent.is_(True),
                    )
                )
            ]
        engine.dispose()
        assert len(parents) >= 4, "the city needs consenting residents with young children"
        parents.sort(key=lambda r: r not in shown)

        def settings(name: str) -> Settings:
            return make_settings(
                url,
                session_cookie_secure=False,
                delivery_refresh_seconds=0.5,
                model_store_dir=tmp_path_factory.mktemp(f"{name}-models"),
                delivery_spool_dir=tmp_path_factory.mktemp(f"{name}-spool"),
            )

        first_settings = settings("first")
        hooks = DemoHooks(first_settings)
        with (
            live_server(create_demo_app(first_settings, hooks)) as first,
            live_server(create_demo_app(settings("second"))) as second,
        ):
            yield TwoWorkers(first, second, hooks, parents, url)


def feed_until_matched(page: Page, url: str, seconds: float = 40) -> None:
    """Reload until a card's 「この広告について」 names a matched attribute (bounded): the
    targeted ads share their placement with others."""
    deadline = time.monotonic() + seconds
    while True:
        page.goto(url)
        if page.locator(".about-ad .about-ad-matched li").count():
            return
        assert time.monotonic() < deadline, "no targeted ad matched the resident"
        time.sleep(0.2)


def card_shop(card) -> str:  # type: ignore[no-untyped-def]
    return str(card.locator('input[name="shop_id"]').first.get_attribute("value"))


def feeds_honour(page: Page, url: str, hidden_shop: str, views: int = 8) -> None:
    """Several feeds: the hidden shop never shows; no ad used the resident's attributes."""
    for _ in range(views):
        page.goto(url)
        shops = page.locator('.about-ad input[name="shop_id"]')
        assert hidden_shop not in [
            shops.nth(i).get_attribute("value") for i in range(shops.count())
        ]
        assert page.locator(".about-ad .about-ad-matched li").count() == 0
        blocks = page.locator(".about-ad-body")
        for i in range(blocks.count()):
            assert "あなたの情報を使わずに選びました" in (blocks.nth(i).text_content() or "")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_resident_learns_why_hides_a_shop_and_stops_personalised_ads_on_any_worker(
    workers: TwoWorkers,
    browser: Browser,
    viewport: dict[str, int],
    request: pytest.FixtureRequest,
) -> None:
    resident = workers.residents[0 if viewport is PHONE else 1]
    context = browser.new_context(viewport=viewport, locale="ja-JP")  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    journey = Journey(context.new_page(), artifact_dir(request.node.name))
    page = journey.page
    home = f"{workers.first.url}/?resident={resident}"
    feed_until_matched(page, home)

    card = page.locator(".card.ad").filter(has=page.locator(".about-ad-matched li")).first
    summary = card.locator(".about-ad summary")
    expect(summary).to_have_text("この広告について")
    summary.focus()
    page.keyboard.press("Enter")  # a disclosure: opens in place from the keyboard
    body = card.locator(".about-ad-body")
    expect(body).to_be_visible()
    sponsor = card.locator(".ad-sponsor").inner_text()
    expect(body).to_contain_text(sponsor)
    expect(body).to_contain_text("会津若松市に広告料を払って出しています")
    expect(card.locator(".about-ad-matched li").first).to_contain_text(
        "世帯構成: 未就学児のいる世帯"
    )
    expect(body).to_contain_text("読んだ記事も使っています")
    assert horizontal_overflow(page) == 0
    card.scroll_into_view_if_needed()
    journey.shot("about-this-ad-open")
    assert_accessible(page)

    hidden_shop = card_shop(card)
    card.get_by_role("button", name="このお店の広告を表示しない").click()
    expect(page.locator(".choice-done").first).to_contain_text(
        "このお店の広告を表示しないようにしました"
    )
    journey.shot("shop-hidden-on-the-card")
    assert_accessible(page)

    # A card of another shop (its controls are inside the closed disclosure, so by markup).
    other = page.locator(".card.ad:has(form[data-choice='personalized_ads'])").first
    other.locator(".about-ad summary").click()
    other.get_by_role("button", name="好みに合わせた広告を停止").click()
    expect(other.locator(".choice-status")).to_contain_text("好みに合わせた広告を停止しました")
    journey.shot("personalised-ads-stopped")

    # The host heard both, on the worker that took them.
    heard = [(c.what, c.external_id) for c in workers.hooks.consent_changes]
    assert ("hide_shop", resident) in heard and ("personalized_ads", resident) in heard, heard

    time.sleep(1.5)  # the second worker's refresh (every 0.5 s here) notices the change
    feeds_honour(page, f"{workers.second.url}/?resident={resident}", hidden_shop)
    feeds_honour(page, home, hidden_shop)
    journey.shot("second-worker-feed")
    assert_accessible(page)
    journey.assert_clean()


def bookings_seen(url: str, resident: str) -> list[int]:
    engine = make_engine(url)
    key = resident_key(TEST_IDENTITY_SECRET, resident)
    with make_session_factory(engine)() as session:
        found = session.scalars(
            select(AdOffer.booking_id).where(AdOffer.resident_key == key).distinct()
        ).all()
    engine.dispose()
    return sorted(found)


def shop_figures(url: str, bookings: list[int]) -> dict[int, tuple[int, int, object]]:
    """The shops' reports of these bookings: impressions, clicks and the audience table."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        reports = {b: load_shop_report(session, b) for b in bookings}
    engine.dispose()
    return {b: (r.impressions, r.clicks, r.audience.to_dict("split")) for b, r in reports.items()}


def roll_up_now(url: str) -> None:
    """Roll up the hours so far, as the workers do every few minutes."""
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        now = utcnow()
        for hours in range(3):
            roll_up_hour(session, now - timedelta(hours=hours))
    engine.dispose()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_resident_sees_downloads_and_deletes_their_data(
    workers: TwoWorkers,
    browser: Browser,
    viewport: dict[str, int],
    request: pytest.FixtureRequest,
) -> None:
    """「あなたのデータ」 from the feed's link: what is held, the JSON file, 「データを削除」;
    shops' reports of the ads the resident saw stay the same; the host hears it."""
    resident = workers.residents[2 if viewport is PHONE else 3]
    context = browser.new_context(viewport=viewport, locale="ja-JP", accept_downloads=True)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    journey = Journey(context.new_page(), artifact_dir(request.node.name))
    page = journey.page
    home = f"{workers.first.url}/?resident={resident}"
    feed_until_matched(page, home)  # ads shown to the resident: records the page will count
    # The host shows the feed's links too (the demo portal's footer).
    footer = page.get_by_role("navigation", name="広告と個人情報")
    expect(footer.get_by_role("link")).to_have_text(
        ["広告について", "広告の収入と使いみち", "あなたのデータ"]
    )
    hidden_card = page.locator(".card.ad").filter(has=page.locator(".about-ad-matched li")).first
    hidden_card.locator(".about-ad summary").click()
    hidden_card.get_by_role("button", name="このお店の広告を表示しない").click()
    expect(page.locator(".choice-done").first).to_be_visible()

    page.get_by_role("link", name="あなたのデータ").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("あなたのデータ")
    expect(page.locator(".facts").first).to_contain_text("未就学児のいる")
    expect(page.locator(".hidden-shops li")).to_have_count(1)
    deadline = time.monotonic() + 20
    while not page.locator("table.data-table tbody tr").count():  # the writer's next batch
        assert time.monotonic() < deadline, "no records counted for the resident"
        time.sleep(0.5)
        page.reload()
    expect(page.locator(".my-data")).to_contain_text("13か月")
    assert wider_than_screen(page) == []
    assert small_touch_targets(page) == []  # every link, button and tick at least 44 px
    journey.shot("my-data")
    assert_accessible(page)

    with page.expect_download() as downloading:
        page.get_by_role("link", name="JSONファイルでダウンロード").click()
    download = downloading.value
    assert download.suggested_filename.startswith("my-data-")
    data = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert data["external_id"] == resident
    assert data["from_host"]["household"] == "young_children"
    assert len(data["ad_settings"]["hidden_shops"]) == 1
    assert sum(month["ads_shown"] for month in data["records_by_month"]) > 0
    assert data["sent_to_others"] == []

    time.sleep(1.5)  # the writers' last batches (every 0.5 s), then the hours rolled up
    roll_up_now(workers.url)
    seen = bookings_seen(workers.url, resident)
    assert seen, "the resident saw ads of at least one booking"
    before = shop_figures(workers.url, seen)
    delete = page.get_by_role("button", name="データを削除")
    delete.click()  # without the tick, the browser asks for it and nothing is sent
    expect(page.get_by_role("heading", level=1)).to_have_text("あなたのデータ")
    assert "done=" not in page.url
    page.get_by_label("元に戻せないことを確認しました").check()
    delete.click()
    expect(page.locator(".notice[role=status]")).to_contain_text("あなたのデータを削除しました")
    expect(page.locator(".hidden-shops li")).to_have_count(0)
    assert page.locator("table.data-table tbody tr").count() == 0
    journey.shot("my-data-deleted")
    assert_accessible(page)
    heard = [(c.what, c.external_id) for c in workers.hooks.consent_changes]
    assert ("forgotten", resident) in heard, heard
    roll_up_now(workers.url)  # re-rolled after the deletion, as the workers will
    assert shop_figures(workers.url, seen) == before  # the shops' reports did not change
    assert bookings_seen(workers.url, resident) == []

    # The external-transmission notice (外部送信規律) on the transparency page.
    page.get_by_role("link", name="外部送信について").click()
    notice = page.locator("section[aria-labelledby=external]")
    expect(notice).to_contain_text("外部の事業者に、あなたの情報を送ることはありません")
    assert horizontal_overflow(page) == 0
    notice.scroll_into_view_if_needed()
    journey.shot("external-transmission-notice")
    assert_accessible(page)
    journey.assert_clean()
