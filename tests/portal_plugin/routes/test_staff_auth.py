from __future__ import annotations

import re

from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from marketplace.accounts.staff import create_staff
from marketplace.vocab import StaffRole

PASSWORD = "correct horse battery"


def make_staff(
    session_factory: sessionmaker[Session], email: str = "reviewer@city.example.jp"
) -> None:
    with session_factory.begin() as session:
        create_staff(session, email, "審査 太郎", PASSWORD, StaffRole.REVIEWER)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def test_login_sets_a_secure_httponly_session_and_logout_clears_it(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    make_staff(session_factory)
    page = client.get("/staff/login")
    token = csrf_from(page.text)
    response = client.post(
        "/staff/login",
        data={
            "email": "Reviewer@City.example.jp",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "pm_session=" in cookie
    assert "httponly" in cookie.lower()
    assert "secure" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    home = client.get("/staff/")
    assert "審査 太郎" in home.text
    assert 'href="/staff/review"' in home.text  # the reviewer's menu leads to the queue
    assert "/finance/" not in home.text
    client.post("/staff/logout", data={"csrf_token": csrf_from(home.text)})
    assert client.get("/staff/", follow_redirects=False).status_code == 303


def test_wrong_password_is_refused_without_saying_which_part(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    make_staff(session_factory)
    token = csrf_from(client.get("/staff/login").text)
    response = client.post(
        "/staff/login",
        data={
            "email": "reviewer@city.example.jp",
            "password": "nope-nope-nope",
            "csrf_token": token,
        },
    )
    assert response.status_code == 400
    assert "メールアドレスまたはパスワードが違います" in response.text


def test_login_form_without_csrf_token_is_refused(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    make_staff(session_factory)
    client.get("/staff/login")  # establishes the session cookie
    response = client.post(
        "/staff/login", data={"email": "reviewer@city.example.jp", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert client.get("/staff/", follow_redirects=False).status_code == 303


def test_login_is_rate_limited(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    make_staff(session_factory)
    token = csrf_from(client.get("/staff/login").text)
    statuses = [
        client.post(
            "/staff/login",
            data={
                "email": "reviewer@city.example.jp",
                "password": "wrong-password",
                "csrf_token": token,
            },
        ).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [400] * 10  # ten failures an account in 15 minutes
    assert statuses[10] == 429
    # Even the right password is refused while the limit holds.
    right = client.post(
        "/staff/login",
        data={"email": "reviewer@city.example.jp", "password": PASSWORD, "csrf_token": token},
    )
    assert right.status_code == 429


def test_next_parameter_cannot_redirect_off_site(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    make_staff(session_factory)
    token = csrf_from(client.get("/staff/login").text)
    response = client.post(
        "/staff/login",
        data={
            "email": "reviewer@city.example.jp",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/staff/"
