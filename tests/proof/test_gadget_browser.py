"""The gadget column and the city's house ads as a resident sees them, in Debian's chromium.

A demo portal of its own (placements, the demo campaigns, the city's house ads) so that the
other browser tests keep their feeds. At a phone's width and at a desktop's, with a resident
picked in the switcher: the gadget column shows a shop's card with its image loaded, or the
city's house ad labelled 「市からのお知らせ」; house ads in the feed sit below the notices;
axe-core finds nothing serious; screenshots under test-artifacts/browser/.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from marketplace.db import make_engine, make_session_factory
from portal_plugin.demo.app import create_demo_app
from portal_plugin.demo.campaigns import seed_demo_campaigns
from portal_plugin.demo.house_ads import seed_house_ads
from tests.proof.browser import (
    DESKTOP,
    PHONE,
    Journey,
    artifact_dir,
    assert_accessible,
    horizontal_overflow,
)
from tests.proof.livesite import LiveServer, SmallCity, live_server, seeded_database
from tests.support.settings import make_settings

pytestmark = pytest.mark.browser

# Enough shops that the demo campaigns (the gadget column's among them) find their categories.
CITY = SmallCity(residents=300, shops=150, seed=5)


@pytest.fixture(scope="module")
def gadget_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with seeded_database(tmp_path_factory.mktemp("gadget-db"), CITY) as url:
        engine = make_engine(url)
        with make_session_factory(engine).begin() as session:
            assert seed_demo_campaigns(session) >= 7
            assert seed_house_ads(session) == 2
        engine.dispose()
        settings = make_settings(
            url,
            session_cookie_secure=False,
            delivery_refresh_seconds=0.5,
            model_store_dir=tmp_path_factory.mktemp("gadget-models"),
        )
        with live_server(create_demo_app(settings)) as server:
            yield server


def column(page: Page):  # type: ignore[no-untyped-def]
    return page.locator('aside[aria-label="ガジェット"]')


def view_until(page: Page, url: str, kind: str, seconds: float = 30) -> None:
    """Reload the resident's page until the gadget column holds a card of `kind` (bounded):
    half of the gadget placement is sold, so views alternate between shops' and the city's."""
    deadline = time.monotonic() + seconds
    while True:
        page.goto(url)
        if column(page).locator(f'.side-slot[data-kind="{kind}"]').count():
            return
        assert time.monotonic() < deadline, f"no {kind} card in the gadget column"
        time.sleep(0.2)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_gadget_column_shows_shops_cards_and_the_citys_house_ads(
    gadget_site: LiveServer,
    browser: Browser,
    viewport: dict[str, int],
    request: pytest.FixtureRequest,
) -> None:
    context = browser.new_context(viewport=viewport, locale="ja-JP")  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    journey = Journey(context.new_page(), artifact_dir(request.node.name))
    page = journey.page
    page.goto(gadget_site.url + "/")
    resident = page.locator("#resident option").nth(1).get_attribute("value")
    page.select_option("#resident", resident)
    page.get_by_role("button", name="切り替える").click()
    expect(page.locator(".notice")).to_contain_text(f"{resident} さんとして表示しています")
    home = f"{gadget_site.url}/?resident={resident}"

    view_until(page, home, "ad")
    card = column(page).locator('.side-slot[data-kind="ad"]')
    expect(card.locator(".ad-badge")).to_have_text("広告")
    expect(card.locator(".ad-sponsor")).not_to_be_empty()
    image = card.locator("img.ad-image")
    expect(image).to_have_attribute("loading", "lazy")
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 600", arg=image.element_handle()
    )
    assert image.get_attribute("alt") == card.locator(".ad-headline").inner_text()
    box = image.bounding_box()
    assert box is not None and 0 < box["width"] <= viewport["width"]
    assert abs(box["height"] / box["width"] - 314 / 600) < 0.02  # its own shape, not stretched
    assert horizontal_overflow(page) == 0
    journey.shot("gadget-column-shop-card")
    assert_accessible(page)

    view_until(page, home, "house")
    house = column(page).locator('.side-slot[data-kind="house"]')
    expect(house.locator(".house-badge")).to_have_text("市からのお知らせ")
    assert house.locator(".ad-sponsor").count() == 0 and house.locator(".ad-badge").count() == 0
    link = house.locator("a.ad-link")
    assert (link.get_attribute("rel") or "") == ""
    assert link.get_attribute("href") in (
        "/marketplace/shop/signup",
        "https://www.city.aizuwakamatsu.fukushima.jp/",
    )
    house.scroll_into_view_if_needed()
    journey.shot("gadget-column-house-ad")
    assert_accessible(page)

    # In the feed, a house ad (only 「広告募集中」 may show there) never sits above a notice.
    cards = page.locator(".feed > li")
    kinds = [cards.nth(i).get_attribute("data-kind") for i in range(cards.count())]
    notices = [
        i
        for i in range(cards.count())
        if "urgent" in (cards.nth(i).get_attribute("class") or "")
        or "important" in (cards.nth(i).get_attribute("class") or "")
    ]
    for index, kind in enumerate(kinds):
        if kind in ("ad", "house"):
            assert all(index > n for n in notices), kinds
    if "house" in kinds:
        recruit = page.locator('.feed > li[data-kind="house"]').first
        recruit.get_by_role("link").click()
        expect(page).to_have_url(gadget_site.url + "/marketplace/shop/signup")
        journey.shot("signup-from-house-ad")
    journey.assert_clean()
    context.close()
