"""The demo portal in a real browser (Debian chromium): residents, staff login, languages.

Each test saves a screenshot per step under test-artifacts/browser/<test>/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from marketplace.vocab import StaffRole
from tests.proof.browser import (
    PHONE,
    Journey,
    assert_accessible,
    enlarge_text,
    horizontal_overflow,
)
from tests.proof.livesite import STAFF_ACCOUNTS, STAFF_PASSWORD, LiveServer

pytestmark = pytest.mark.browser


def expect_feed_heading_for(page: Page, notice: str) -> None:
    """The resident's feed is there, with at least one card, whatever their consent."""
    expect(page.locator("#feed-heading")).to_be_visible()
    expect(page.locator(".feed .card").first).to_be_visible()
    assert ("個人化はオフ" in notice) or ("さんとして表示しています" in notice)


def test_home_in_japanese_then_switching_residents_changes_the_page(
    live_site: LiveServer, journey: Journey
) -> None:
    page = journey.page
    page.goto(live_site.url + "/")
    expect(page).to_have_title(re.compile("会津若松"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator(".notice")).to_contain_text("ログインしていない訪問者")
    expect(page.locator("#feed-heading")).to_be_visible()
    expect(page.locator(".feed .card").first).to_be_visible()
    journey.shot("anonymous-home")
    assert_accessible(page)

    options = page.locator("#resident option")
    first_id = options.nth(1).get_attribute("value")
    second_id = options.nth(2).get_attribute("value")
    assert first_id and second_id and first_id != second_id

    page.select_option("#resident", first_id)
    page.get_by_role("button", name="切り替える").click()
    expect(page.locator(".notice")).to_contain_text(f"{first_id} さんとして表示しています")
    first_notice = page.locator(".notice").inner_text()
    expect_feed_heading_for(page, first_notice)
    journey.shot("first-resident")

    page.select_option("#resident", second_id)
    page.get_by_role("button", name="切り替える").click()
    expect(page.locator(".notice")).to_contain_text(f"{second_id} さんとして表示しています")
    second_notice = page.locator(".notice").inner_text()
    assert second_notice != first_notice
    expect_feed_heading_for(page, second_notice)
    journey.shot("second-resident")
    # The resident cookie carries the choice to the next visit.
    page.goto(live_site.url + "/")
    expect(page.locator(".notice")).to_contain_text(second_id)
    journey.assert_clean()


def test_staff_login_works_and_wrong_password_is_refused(
    live_site: LiveServer, journey: Journey
) -> None:
    page = journey.page
    page.goto(live_site.url + "/")
    page.get_by_role("link", name="職員ログイン").click()
    expect(page.get_by_role("heading", name="職員ログイン")).to_be_visible()
    assert_accessible(page)
    journey.shot("login-form")

    page.get_by_label("メールアドレス").fill(STAFF_ACCOUNTS[StaffRole.REVIEWER])
    page.get_by_label("パスワード").fill("not the password")
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("alert")).to_contain_text("パスワードが違います")
    journey.shot("wrong-password")

    page.get_by_label("パスワード").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", name="職員メニュー")).to_be_visible()
    expect(page.locator("main")).to_contain_text("審査担当")
    journey.shot("staff-home")
    assert_accessible(page)

    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["pm_session"]["httpOnly"] is True
    assert cookies["pm_session"]["sameSite"] == "Lax"

    page.get_by_role("button", name="ログアウト").click()
    expect(page.get_by_role("heading", name="職員ログイン")).to_be_visible()
    page.goto(live_site.url + "/marketplace/staff/")
    expect(page.get_by_role("heading", name="職員ログイン")).to_be_visible()
    journey.assert_clean()


def test_language_switch_to_english_and_back(live_site: LiveServer, journey: Journey) -> None:
    page = journey.page
    page.goto(live_site.url + "/marketplace/staff/login")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name="日本語")).to_be_visible()
    journey.shot("english")
    assert_accessible(page)
    # The choice is remembered in a cookie for the next page.
    page.goto(live_site.url + "/marketplace/staff/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    journey.shot("japanese-again")
    journey.assert_clean()


@pytest.mark.parametrize("path", ["/", "/marketplace/staff/login"])
def test_pages_fit_a_phone_and_large_text(
    live_site: LiveServer, journey: Journey, path: str
) -> None:
    page = journey.page
    page.set_viewport_size(PHONE)
    page.goto(live_site.url + path)
    assert horizontal_overflow(page) == 0, "the page scrolls sideways at 375 px"
    journey.shot("phone")
    assert_accessible(page)
    enlarge_text(page, 200)
    assert horizontal_overflow(page) == 0, "the page scrolls sideways at 375 px with 200% text"
    journey.shot("phone-large-text")
    assert_accessible(page)
    journey.assert_clean()
