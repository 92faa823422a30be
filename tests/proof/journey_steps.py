"""Steps of the shop's journey that several browser tests walk: sign-up, approval, an ad."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, Page, expect

from marketplace.vocab import StaffRole
from tests.proof.browser import DESKTOP, Journey, assert_accessible
from tests.proof.livesite import STAFF_ACCOUNTS, STAFF_PASSWORD, LiveServer


def banner(folder: Path) -> Path:
    """A small, valid, landscape PNG as a shop would upload."""
    image = Image.new("RGB", (600, 314), (200, 120, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path = folder / "banner.png"
    path.write_bytes(buffer.getvalue())
    return path


def staff_page(browser: Browser, live_site: LiveServer, role: StaffRole) -> Page:
    """A fresh browser context with one staff member logged in."""
    context = browser.new_context(viewport=DESKTOP, locale="ja-JP")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(live_site.url + "/marketplace/staff/login")
    page.get_by_label("メールアドレス").fill(STAFF_ACCOUNTS[role])
    page.get_by_label("パスワード").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", name="職員メニュー")).to_be_visible()
    return page


def sign_up_shop(journey: Journey, base: str, name: str) -> None:
    shop = journey.page
    shop.goto(base + "/shop/signup")
    assert_accessible(shop)
    email = f"shop-{uuid.uuid4().hex[:6]}@example.jp"
    shop.get_by_label("メールアドレス").fill(email)
    shop.get_by_label("パスワード(10文字以上)").fill("correct horse battery")
    shop.get_by_label("パスワード(確認)").fill("correct horse battery")
    shop.get_by_label("店名・事業者名").fill(name)
    shop.get_by_label("店名のフリガナ(カタカナ)").fill("ツルガジョウソバ")
    shop.get_by_label("業種").select_option(index=1)
    shop.get_by_label("所在地区").select_option(index=1)
    shop.get_by_label("担当者名").fill("会津 花子")
    journey.shot("signup-form")
    shop.get_by_role("button", name="登録する").click()
    # Sign-up answers the same whether or not the address is taken, so it does not sign in.
    expect(shop.get_by_role("status")).to_contain_text("登録を受け付けました")
    journey.shot("signed-up-login")
    shop.get_by_label("メールアドレス").fill(email)
    shop.get_by_label("パスワード").fill("correct horse battery")
    shop.get_by_role("button", name="ログイン").click()
    expect(shop.locator("main")).to_contain_text("登録を受け付けました")
    journey.shot("signed-up-pending")


def approve_shop(reviewer: Page, base: str, name: str) -> None:
    reviewer.goto(base + "/staff/shops")
    row = reviewer.locator("tr", has_text=name)
    row.get_by_label("操作").select_option("approve")
    row.get_by_role("button", name="実行").click()
    expect(reviewer.locator("tr", has_text=name)).to_contain_text("承認済み")


def submit_ad(journey: Journey, base: str, headline: str, landing_url: str) -> str:
    """The shop submits a new ad for review; returns the ad's page URL."""
    shop = journey.page
    shop.goto(base + "/shop/creatives/new")
    assert_accessible(shop)
    shop.get_by_label("素材名(管理用・お客様には表示されません)").fill("新そば")
    shop.locator("#headline").fill(headline)
    shop.locator("#body").fill("十割そばを毎朝打っています。")
    shop.locator("#landing_url").fill(landing_url)
    shop.locator("#image").set_input_files(str(banner(journey.folder.parent)))
    journey.shot("ad-form")
    shop.get_by_role("button", name="審査に出す").click()
    expect(shop.locator("main")).to_contain_text("v1 審査中")
    journey.shot("ad-submitted")
    return shop.url


def approve_ad(reviewer: Page, base: str, headline: str) -> None:
    reviewer.goto(base + "/staff/review")
    reviewer.locator("tr", has_text=headline).get_by_role("link", name="審査する").click()
    expect(reviewer.locator("main")).to_contain_text("基準に触れる表現は見つかりませんでした")
    reviewer.get_by_role("button", name="承認する").click()
