"""Sign-up does not tell whether an address has an account (issue 16 item 8).

A taken address and a new one get the same answer, and the owner of the taken one is told by
mail instead; nothing of the existing account changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from marketplace.models import Shop
from portal_plugin.mail_sink import MailSink
from tests.support.mail import PUBLIC_BASE_URL
from tests.support.marketplace_http import HTML, SIGNUP, post_form

TAKEN = SIGNUP["email"]
CSRF_VALUE = re.compile(r'value="[A-Za-z0-9_.\-]{20,}"')


def new_browser(app: Starlette, address: str = "testclient") -> TestClient:
    return TestClient(app, base_url="https://testserver", client=(address, 50000))


@pytest.fixture
def owner(mail_app: Starlette) -> Iterator[TestClient]:
    with new_browser(mail_app) as client:
        yield client


def sign_up(client: TestClient, email: str, password: str = SIGNUP["password"]) -> object:
    form = {**SIGNUP, "email": email, "password": password, "password_confirm": password}
    return post_form(client, "/shop/signup", form, "/shop/signup")


def answer(client: TestClient, response: object) -> tuple[int, str, str]:
    """What the person signing up sees: status, where it sends them, and that page."""
    status = response.status_code  # type: ignore[attr-defined]
    location = response.headers.get("location", "")  # type: ignore[attr-defined]
    page = client.get(location, headers=HTML).text if location else ""
    return status, location, CSRF_VALUE.sub('value="…"', page)


def log_in(client: TestClient, email: str, password: str) -> int:
    data = {"email": email, "password": password}
    return int(post_form(client, "/shop/login", data, "/shop/login").status_code)


def test_a_taken_address_gets_the_same_answer_as_a_new_one_and_its_owner_a_mail(
    mail_app: Starlette, owner: TestClient, session: Session, mail_sink: tuple[MailSink, int]
) -> None:
    sink, _port = mail_sink
    sign_up(owner, TAKEN)
    with new_browser(mail_app) as rival, new_browser(mail_app) as newcomer:
        probe = answer(rival, sign_up(rival, TAKEN.upper(), "a rival's own passphrase"))
        fresh = answer(newcomer, sign_up(newcomer, "new-shop@example.jp"))
        assert probe == fresh
        assert probe[0] == 303 and "/shop/login" in probe[1]
        # Neither is signed in: that too would tell a new account from a taken address.
        assert rival.get("/shop/", headers=HTML, follow_redirects=False).status_code == 303
        assert newcomer.get("/shop/", headers=HTML, follow_redirects=False).status_code == 303
        assert log_in(rival, TAKEN, "a rival's own passphrase") == 400

    shops = session.scalar(
        select(func.count()).select_from(Shop).where(Shop.contact_email == TAKEN)
    )
    assert shops == 1
    assert log_in(owner, TAKEN, SIGNUP["password"]) == 303
    notices = [m for m in sink.to(TAKEN) if "登録のお申し込みがありました" in m.subject]
    assert len(notices) == 1
    assert "すでにアカウントがある" in notices[0].body
    assert f"{PUBLIC_BASE_URL}/shop/password/forgot" in notices[0].body
    welcome = [m for m in sink.to("new-shop@example.jp") if "登録を受け付けました" in m.subject]
    assert len(welcome) == 1 and f"{PUBLIC_BASE_URL}/shop/login" in welcome[0].body


def test_the_new_shop_signs_in_with_the_password_it_chose(owner: TestClient) -> None:
    response = sign_up(owner, "soba2@example.jp")
    page = owner.get(response.headers["location"], headers=HTML)  # type: ignore[attr-defined]
    assert "登録を受け付けました" in page.text
    assert log_in(owner, "soba2@example.jp", SIGNUP["password"]) == 303
    assert "市の担当者が確認中" in owner.get("/shop/", headers=HTML).text


def test_sign_ups_cannot_flood_an_owner_with_notices(
    mail_app: Starlette, owner: TestClient, mail_sink: tuple[MailSink, int]
) -> None:
    sink, _port = mail_sink
    sign_up(owner, TAKEN)
    for attempt in range(5):  # from five addresses, each within its own sign-up limit
        with new_browser(mail_app, f"192.0.2.{attempt + 1}") as rival:
            assert sign_up(rival, TAKEN).status_code == 303  # type: ignore[attr-defined]
    notices = [m for m in sink.to(TAKEN) if "登録のお申し込みがありました" in m.subject]
    assert len(notices) == 3
