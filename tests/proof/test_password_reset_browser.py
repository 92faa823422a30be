"""Password reset by email as a shop owner does it on a phone and at a desk, in chromium.

A demo portal of its own whose mail goes to a real local SMTP sink (aiosmtpd). From the login
page: 「パスワードを忘れた方」 → the address → the mail arrives → its link → a new password
(a mismatch first) → signed in with it; the link then refuses a second use; a signed-in
change of password. Every page: no sideways scroll at 375 px, every control and link on the
page (the shop menu too) at least 44 px high, axe-core finds nothing serious. Screenshots under
test-artifacts/browser/.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from marketplace.accounts.shop_profile import ShopProfile
from marketplace.accounts.shops import sign_up_shop
from marketplace.db import make_engine, make_session_factory
from portal_plugin.demo.app import create_demo_app
from portal_plugin.mail_sink import MailSink, start_sink
from portal_plugin.migrate import upgrade
from tests.proof.browser import (
    DESKTOP,
    PHONE,
    Journey,
    artifact_dir,
    assert_accessible,
    horizontal_overflow,
    small_touch_targets,
)
from tests.proof.livesite import LiveServer, live_server
from tests.support.databases import throwaway_database
from tests.support.mail import PUBLIC_BASE_URL, free_port, mail_settings
from tests.support.settings import make_settings

pytestmark = pytest.mark.browser

OLD = "correct horse battery"
PROFILE = ShopProfile(
    business_name="鶴ヶ城そば",
    business_name_kana="ツルガジョウソバ",
    category="restaurant",
    district="tsuruga",
    contact_name="会津 花子",
    contact_phone="0242-00-0000",
    invoice_registration_number=None,
)


@pytest.fixture(scope="module")
def mail_site(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, MailSink, str]]:
    port = free_port()
    controller, sink = start_sink("127.0.0.1", port)
    folder = tmp_path_factory.mktemp("reset-db")
    try:
        with throwaway_database("sqlite", folder) as url:
            upgrade(url)
            settings = make_settings(
                url,
                session_cookie_secure=False,
                model_store_dir=tmp_path_factory.mktemp("reset-models"),
                **mail_settings(port),
            )
            with live_server(create_demo_app(settings)) as server:
                yield server, sink, url
    finally:
        controller.stop()


def new_shop(database_url: str) -> str:
    email = f"shop-{uuid.uuid4().hex[:8]}@example.jp"
    engine = make_engine(database_url)
    with make_session_factory(engine).begin() as session:
        sign_up_shop(session, email, OLD, PROFILE)
    engine.dispose()
    return email


def check(journey: Journey, name: str) -> None:
    page = journey.page
    assert horizontal_overflow(page) == 0, f"{name} scrolls sideways"
    assert small_touch_targets(page) == [], f"{name}: {small_touch_targets(page)}"
    assert_accessible(page)
    journey.shot(name)


def reset_link(sink: MailSink, email: str) -> str:
    [mail] = [m for m in sink.to(email) if "パスワード再設定" in m.subject]
    match = re.search(
        re.escape(PUBLIC_BASE_URL) + r"(/marketplace/shop/password/reset/\S+)", mail.body
    )
    assert match, mail.body
    return match.group(1)


@pytest.mark.parametrize(("label", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_a_shop_owner_resets_a_forgotten_password_by_mail(
    browser: Browser,
    mail_site: tuple[LiveServer, MailSink, str],
    request: pytest.FixtureRequest,
    label: str,
    viewport: dict[str, int],
) -> None:
    server, sink, database_url = mail_site
    email = new_shop(database_url)
    base = server.url + "/marketplace"
    context = browser.new_context(viewport=viewport, locale="ja-JP")  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    journey = Journey(context.new_page(), artifact_dir(request.node.name))
    page = journey.page

    page.goto(base + "/shop/login")
    check(journey, "login")
    page.get_by_role("link", name="パスワードを忘れた方（メールで再設定）").click()
    expect(page.get_by_role("heading", name="パスワードの再設定")).to_be_visible()
    check(journey, "forgot")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_role("button", name="再設定のリンクを送る").click()
    expect(page.get_by_role("status")).to_contain_text("再設定のご案内をお送りしました")
    check(journey, "forgot-sent")

    path = reset_link(sink, email)
    page.goto(server.url + path)
    check(journey, "reset-form")
    page.get_by_label("新しいパスワード(10文字以上)").fill("a brand new passphrase")
    page.get_by_label("新しいパスワード(確認)").fill("a brand new passphrase?")
    page.get_by_role("button", name="パスワードを設定する").click()
    expect(page.get_by_role("alert")).to_contain_text("確認用パスワードが一致しません")
    check(journey, "reset-mismatch")
    page.get_by_label("新しいパスワード(10文字以上)").fill("a brand new passphrase")
    page.get_by_label("新しいパスワード(確認)").fill("a brand new passphrase")
    page.get_by_role("button", name="パスワードを設定する").click()
    expect(page.get_by_role("status")).to_contain_text("新しいパスワードでログインしてください")
    check(journey, "reset-done-login")

    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード", exact=True).fill("a brand new passphrase")
    page.get_by_role("button", name="ログイン").click()
    expect(page).to_have_url(re.compile(r"/marketplace/shop/$"))

    page.goto(base + "/shop/password")
    check(journey, "change-form")
    page.get_by_label("現在のパスワード", exact=True).fill("a brand new passphrase")
    page.get_by_label("新しいパスワード(10文字以上)").fill("yet another passphrase")
    page.get_by_label("新しいパスワード(確認)").fill("yet another passphrase")
    page.get_by_role("button", name="パスワードを変更する").click()
    expect(page.get_by_role("status")).to_contain_text("パスワードを変更しました")
    check(journey, "change-done")

    page.goto(server.url + path)
    expect(page.get_by_role("alert")).to_contain_text("このリンクはもう使えません")
    check(journey, "link-used")
    journey.assert_clean()
    context.close()
