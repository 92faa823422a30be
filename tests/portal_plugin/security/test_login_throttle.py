"""Login throttling per account and per address, shared by every worker (issue 16 item 3).

The review's reproductions: one address tried 40 accounts without a 429; 8 addresses made 32
guesses at one account in seconds. Both are refused now, each by its own limit, and the counts
live in the database, so two app instances (two workers) share them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from marketplace.accounts import login_throttle
from marketplace.accounts.login_throttle import (
    FailureLimit,
    LoginRefused,
    RecentRefusals,
    account_key,
    address_key,
    wait_seconds,
)
from marketplace.accounts.staff import create_staff
from marketplace.vocab import StaffRole
from portal_plugin.app import create_app
from portal_plugin.settings import Settings
from tests.support.marketplace_http import HTML, SIGNUP, csrf_from, post_form, sign_up

PASSWORD = SIGNUP["password"]


@contextmanager
def browser(app: Starlette, address: str) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", client=(address, 50000)) as client:
        yield client


def log_in(app: Starlette, address: str, email: str, password: str, area: str = "shop") -> object:
    with browser(app, address) as client:
        path = f"/{area}/login"
        return post_form(client, path, {"email": email, "password": password}, path)


def status(response: object) -> int:
    return int(response.status_code)  # type: ignore[attr-defined]


@pytest.fixture
def second_worker(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> Starlette:
    """Another app on the same database, with its own memory: a second worker process."""
    app = create_app(settings, engine=engine)
    app.state.ctx.session_factory = session_factory
    return app


def test_one_address_cannot_spray_many_accounts(app: Starlette, second_worker: Starlette) -> None:
    # 40 accounts from one address, alternating between two workers.
    statuses = [
        status(
            log_in((app, second_worker)[n % 2], "198.51.100.7", f"shop{n}@example.jp", "Aizu2026!")
        )
        for n in range(40)
    ]
    assert statuses[:20] == [400] * 20
    assert statuses[20:] == [429] * 20
    refused = log_in(app, "198.51.100.7", "another@example.jp", "Aizu2026!")
    assert "この接続元からのログインの失敗が続いた" in refused.text  # type: ignore[attr-defined]
    assert "あと 15 分後に再度お試しください" in refused.text  # type: ignore[attr-defined]
    # The oldest of the 20 failures leaves the 15-minute window first.
    assert 600 < int(refused.headers["retry-after"]) <= 900  # type: ignore[attr-defined]
    # Another address is not held back by this one's spraying.
    assert status(log_in(app, "198.51.100.8", "shop0@example.jp", "Aizu2026!")) == 400


def test_many_addresses_cannot_guess_at_one_account(
    app: Starlette, client: TestClient, second_worker: Starlette
) -> None:
    sign_up(client)
    email = SIGNUP["email"]
    guesses = [
        status(log_in((app, second_worker)[n % 2], f"203.0.113.{n % 8 + 1}", email, f"guess-{n}"))
        for n in range(32)
    ]
    assert guesses[:10] == [400] * 10
    assert guesses[10:] == [429] * 22
    # Locked: even the right password from a new address is refused, and the page says so.
    locked = log_in(app, "203.0.113.99", email, PASSWORD)
    assert status(locked) == 429
    assert "この間は正しいパスワードでもログインできません" in locked.text  # type: ignore[attr-defined]
    assert "パスワードが違います" not in locked.text  # type: ignore[attr-defined]
    # The addresses themselves are not locked out of other accounts.
    assert status(log_in(app, "203.0.113.1", "other@example.jp", "guess")) == 400


def test_successful_logins_do_not_count(
    app: Starlette, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(login_throttle, "ACCOUNT_LIMIT", FailureLimit(2, timedelta(minutes=15)))
    monkeypatch.setattr(login_throttle, "ADDRESS_LIMIT", FailureLimit(2, timedelta(minutes=15)))
    sign_up(client)  # its own login succeeded
    assert [status(log_in(app, "192.0.2.1", SIGNUP["email"], PASSWORD)) for _ in range(4)] == [
        303
    ] * 4
    assert status(log_in(app, "192.0.2.1", SIGNUP["email"], "wrong")) == 400
    assert status(log_in(app, "192.0.2.1", SIGNUP["email"], PASSWORD)) == 303
    assert status(log_in(app, "192.0.2.1", SIGNUP["email"], "wrong")) == 400
    assert status(log_in(app, "192.0.2.1", SIGNUP["email"], PASSWORD)) == 429


def test_staff_logins_are_counted_apart_and_say_how_long_to_wait(
    app: Starlette, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(login_throttle, "ACCOUNT_LIMIT", FailureLimit(2, timedelta(minutes=15)))
    create_staff(
        session, "reviewer@city.example.jp", "審査", "reviewer-password-1", StaffRole.REVIEWER
    )
    session.flush()
    staff = "reviewer@city.example.jp"
    for _ in range(2):
        assert status(log_in(app, "192.0.2.5", staff, "nope-nope", "staff")) == 400
    # A shop login with the same address is another realm: not locked by the staff failures.
    assert status(log_in(app, "192.0.2.5", staff, "nope-nope")) == 400
    locked = log_in(app, "192.0.2.5", staff, "reviewer-password-1", "staff")
    assert status(locked) == 429
    assert "あと 15 分後に再度お試しください" in locked.text  # type: ignore[attr-defined]
    assert "メールで再設定" not in locked.text  # type: ignore[attr-defined]
    with browser(app, "192.0.2.5") as english:
        page = english.post(
            "/staff/login?lang=en",
            data={
                "email": staff,
                "password": "x",
                "csrf_token": csrf_from(english, "/staff/login"),
            },
            headers=HTML,
        )
    assert "Try again after 15 min." in page.text


NOW = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)


def test_the_wait_ends_when_the_oldest_counted_failure_leaves_the_window() -> None:
    limit = FailureLimit(3, timedelta(minutes=15))
    recent = [NOW - timedelta(minutes=m) for m in (1, 5, 10)]  # newest first
    assert wait_seconds(recent[:2], limit, NOW) == 0
    assert wait_seconds(recent, limit, NOW) == 5 * 60
    assert wait_seconds([NOW, NOW, NOW, NOW], limit, NOW) == 15 * 60


def test_addresses_and_accounts_are_keyed_as_one_client_and_one_account() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9")
    assert address_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_key("testclient") == "testclient"
    assert account_key(" Soba@Example.JP ") == account_key("soba@example.jp")
    assert "soba" not in account_key("soba@example.jp")


def test_a_refusal_is_remembered_until_its_wait_ends() -> None:
    refusals = RecentRefusals()
    refusals.remember("shop", "a@example.jp", "192.0.2.1", LoginRefused("address", 60), NOW)
    later = NOW + timedelta(seconds=20)
    assert refusals.check("shop", "b@example.jp", "192.0.2.1", later) == LoginRefused("address", 40)
    assert refusals.check("staff", "b@example.jp", "192.0.2.1", later) is None
    assert refusals.check("shop", "a@example.jp", "192.0.2.2", later) is None
    assert refusals.check("shop", "b@example.jp", "192.0.2.1", NOW + timedelta(seconds=61)) is None
    refusals.remember("shop", "A@example.jp", "192.0.2.9", LoginRefused("account", 900), NOW)
    assert refusals.check("shop", "a@example.jp", "192.0.2.1", later) == LoginRefused(
        "account", 880
    )
