"""Password reset by email (issue 21 item 5): the mail arrives in a real SMTP sink, the link
works once and expires, a reset ends every other session, and nothing tells whether an address
has an account."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from marketplace.models import Shop
from marketplace.vocab import ShopStatus
from portal_plugin.mail_sink import MailSink
from tests.support.mail import PUBLIC_BASE_URL
from tests.support.marketplace_http import HTML, SIGNUP, api_client, csrf_from, post_form, sign_up

EMAIL, OLD, NEW = SIGNUP["email"], SIGNUP["password"], "a brand new passphrase"
LINK = re.compile(re.escape(PUBLIC_BASE_URL) + r"(/shop/password/reset/[A-Za-z0-9_.\-]+)")


@pytest.fixture
def browser(mail_app: Starlette) -> Iterator[TestClient]:
    with TestClient(mail_app, base_url="https://testserver") as client:
        yield client


def ask_for_link(client: TestClient, email: str = EMAIL) -> str:
    response = post_form(client, "/shop/password/forgot", {"email": email}, "/shop/password/forgot")
    assert response.status_code == 200, response.text
    return response.text


def link_in(sink: MailSink, email: str = EMAIL) -> str:
    resets = [m for m in sink.to(email) if "パスワード再設定" in m.subject]
    assert resets, "no reset mail arrived"
    match = LINK.search(resets[-1].body)
    assert match, resets[-1].body
    return match.group(1)


def mail_after_sign_up(sink: MailSink, email: str = EMAIL) -> list[str]:
    """Subjects of the mail `email` got, leaving out the welcome mail of its sign-up."""
    return [m.subject for m in sink.to(email) if "お店の登録を受け付けました" not in m.subject]


def log_in(client: TestClient, password: str) -> int:
    return post_form(
        client, "/shop/login", {"email": EMAIL, "password": password}, "/shop/login"
    ).status_code


def set_password(client: TestClient, path: str, password: str = NEW, confirm: str = NEW) -> object:
    data = {"password": password, "password_confirm": confirm}
    return post_form(client, path, data, "/shop/password/forgot")


def test_a_reset_mail_arrives_and_its_link_works_once(
    browser: TestClient, mail_sink: tuple[MailSink, int]
) -> None:
    sink, _port = mail_sink
    sign_up(browser)
    browser.cookies.clear()
    page = ask_for_link(browser)
    assert "再設定のご案内をお送りしました" in page
    path = link_in(sink)

    form = browser.get(path, headers=HTML)
    assert form.status_code == 200 and 'name="password_confirm"' in form.text
    done = set_password(browser, path)
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert done.headers["location"] == "/shop/login?reset=1"  # type: ignore[attr-defined]
    assert "新しいパスワードでログインしてください" in browser.get("/shop/login?reset=1").text

    assert log_in(browser, OLD) == 400
    assert log_in(browser, NEW) == 303
    again = browser.get(path, headers=HTML)
    assert again.status_code == 410 and "このリンクはもう使えません" in again.text
    assert (
        set_password(browser, path, "another passphrase!", "another passphrase!").status_code == 410
    )  # type: ignore[attr-defined]
    [notice] = [m for m in sink.to(EMAIL) if "パスワードが変更されました" in m.subject]
    assert f"{PUBLIC_BASE_URL}/shop/password/forgot" in notice.body


def test_a_reset_ends_every_other_session(
    mail_app: Starlette, browser: TestClient, mail_sink: tuple[MailSink, int]
) -> None:
    sign_up(browser)  # signed in on this browser (the phone)
    assert browser.get("/shop/", headers=HTML).status_code == 200
    with TestClient(mail_app, base_url="https://testserver") as other:
        ask_for_link(other)
        set_password(other, link_in(mail_sink[0]))
    assert browser.get("/shop/", headers=HTML, follow_redirects=False).status_code == 303


def test_the_answer_is_the_same_for_an_address_without_an_account(
    browser: TestClient, mail_sink: tuple[MailSink, int]
) -> None:
    sign_up(browser)
    browser.cookies.clear()
    known = ask_for_link(browser, EMAIL)
    unknown = ask_for_link(browser, "nobody@example.jp")
    strip = re.compile(r'name="csrf_token" value="[^"]+"')
    assert strip.sub("", known).replace(EMAIL, "X") == strip.sub("", unknown).replace(
        "nobody@example.jp", "X"
    )
    assert mail_sink[0].to("nobody@example.jp") == []
    assert len(mail_after_sign_up(mail_sink[0])) == 1


def test_a_closed_shop_gets_no_link(
    browser: TestClient, session: Session, mail_sink: tuple[MailSink, int]
) -> None:
    sign_up(browser)
    session.scalars(select(Shop)).one().status = ShopStatus.CLOSED
    session.flush()
    assert "再設定のご案内をお送りしました" in ask_for_link(browser)
    assert mail_after_sign_up(mail_sink[0]) == []


def test_an_expired_or_tampered_link_says_so_and_offers_a_new_one(
    browser: TestClient, mail_sink: tuple[MailSink, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_up(browser)
    with monkeypatch.context() as past:
        # The link was mailed 31 minutes ago.
        past.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 31 * 60)
        ask_for_link(browser)
    path = link_in(mail_sink[0])
    expired = browser.get(path, headers=HTML)
    assert expired.status_code == 410
    assert "有効期限（30分）が切れています" in expired.text
    assert 'href="/shop/password/forgot"' in expired.text
    assert set_password(browser, path).status_code == 410  # type: ignore[attr-defined]

    tampered = browser.get(path[:-3] + "xyz", headers=HTML)
    assert tampered.status_code == 400 and "このリンクは正しくありません" in tampered.text
    assert log_in(browser, OLD) == 303  # nothing changed


def test_a_mismatched_confirmation_keeps_the_link_usable(
    browser: TestClient, mail_sink: tuple[MailSink, int]
) -> None:
    sign_up(browser)
    ask_for_link(browser)
    path = link_in(mail_sink[0])
    wrong = set_password(browser, path, NEW, NEW + "x")
    assert wrong.status_code == 422  # type: ignore[attr-defined]
    assert "確認用パスワードが一致しません" in wrong.text  # type: ignore[attr-defined]
    assert 'aria-invalid="true"' in wrong.text  # type: ignore[attr-defined]
    short = set_password(browser, path, "short", "short")
    assert short.status_code == 422  # type: ignore[attr-defined]
    assert set_password(browser, path).status_code == 303  # type: ignore[attr-defined]


def test_one_address_gets_at_most_three_links_an_hour(
    browser: TestClient, mail_sink: tuple[MailSink, int]
) -> None:
    sign_up(browser)
    for _ in range(5):
        assert "再設定のご案内をお送りしました" in ask_for_link(browser)
    assert len(mail_after_sign_up(mail_sink[0])) == 3


def test_the_page_is_in_english_when_asked(browser: TestClient) -> None:
    page = browser.get("/shop/password/forgot?lang=en", headers=HTML)
    assert "Reset your password" in page.text


def test_a_lockout_says_how_long_to_wait_and_never_that_the_password_was_wrong(
    client: TestClient,
) -> None:
    sign_up(client)  # which logs in: a success, not counted
    client.cookies.clear()
    assert [log_in(client, "wrong password!") for _ in range(10)] == [400] * 10
    locked = post_form(client, "/shop/login", {"email": EMAIL, "password": OLD}, "/shop/login")
    assert locked.status_code == 429
    assert "あと 15 分後に再度お試しください" in locked.text
    assert "この間は正しいパスワードでもログインできません" in locked.text
    assert "パスワードが違います" not in locked.text
    assert 'href="/shop/password/forgot"' in locked.text
    english = client.post(
        "/shop/login?lang=en",
        data={"email": EMAIL, "password": OLD, "csrf_token": csrf_from(client, "/shop/login")},
        headers=HTML,
    )
    assert "Try again after 15 min." in english.text


def test_changing_the_password_ends_every_other_session_and_keeps_this_one(
    mail_app: Starlette, browser: TestClient, mail_sink: tuple[MailSink, int]
) -> None:
    sign_up(browser)
    with TestClient(mail_app, base_url="https://testserver") as tablet:
        assert log_in(tablet, OLD) == 303
        wrong = post_form(
            browser,
            "/shop/password",
            {"current_password": "not it at all", "password": NEW, "password_confirm": NEW},
            "/shop/password",
        )
        assert wrong.status_code == 422 and "現在のパスワードが違います" in wrong.text
        changed = post_form(
            browser,
            "/shop/password",
            {"current_password": OLD, "password": NEW, "password_confirm": NEW},
            "/shop/password",
        )
        assert changed.status_code == 200 and "パスワードを変更しました" in changed.text
        assert browser.get("/shop/", headers=HTML).status_code == 200  # this one stays
        assert tablet.get("/shop/", headers=HTML, follow_redirects=False).status_code == 303
    assert mail_after_sign_up(mail_sink[0]) == ["【会津若松+ 広告】パスワードが変更されました"]


def test_an_api_token_cannot_change_a_password(client: TestClient, session: Session) -> None:
    headers = api_client(client, session)
    answer = client.post(
        "/shop/password",
        data={"current_password": OLD, "password": NEW, "password_confirm": NEW},
        headers=headers,
    )
    assert answer.status_code == 403
