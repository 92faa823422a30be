"""Helpers for driving the marketplace over HTTP: its pages as a browser would, its JSON API."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.accounts.shops import create_api_token
from marketplace.bookings.requests import first_bookable_week
from marketplace.calendar import tokyo_date
from marketplace.db import utcnow
from marketplace.models import Shop
from marketplace.vocab import ShopStatus
from tests.support.marketplace_factories import make_creative

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HTML = {"accept": "text/html"}


def csrf_from(client: TestClient, path: str) -> str:
    page = client.get(path, headers=HTML)
    assert page.status_code == 200, page.text
    match = CSRF.search(page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(
    client: TestClient, path: str, data: dict[str, Any], token_page: str, **kwargs: Any
) -> Any:
    token = csrf_from(client, token_page)
    return client.post(
        path, data={**data, "csrf_token": token}, headers=HTML, follow_redirects=False, **kwargs
    )


SIGNUP = {
    "email": "soba@example.jp",
    "password": "correct horse battery",
    "password_confirm": "correct horse battery",
    "business_name": "鶴ヶ城そば",
    "business_name_kana": "ツルガジョウソバ",
    "category": "restaurant",
    "district": "tsuruga",
    "contact_name": "会津 花子",
    "contact_phone": "0242-00-0000",
    "invoice_registration_number": "T7000012050002",
}


def sign_up(client: TestClient, **overrides: Any) -> Any:
    """Sign a shop up and, when that was accepted, log in as it (sign-up itself never does).

    The answer is the sign-up's when it was refused (422, 429), else the login's (303).
    """
    form = {**SIGNUP, **overrides}
    response = post_form(client, "/shop/signup", form, "/shop/signup")
    if response.status_code != 303:
        return response
    credentials = {"email": form["email"], "password": form["password"]}
    return post_form(client, "/shop/login", credentials, "/shop/login")


def staff_login(client: TestClient, email: str, password: str) -> None:
    response = post_form(
        client, "/staff/login", {"email": email, "password": password}, "/staff/login"
    )
    assert response.status_code == 303, response.text


def first_open_week(client: TestClient) -> str:
    """The first week the availability page offers to book."""
    page = client.get("/shop/availability", headers=HTML)
    match = re.search(r"first_week=(\d{4}-\d{2}-\d{2})", page.text)
    assert match, "no bookable week on the availability page"
    return match.group(1)


def hold_one_share(client: TestClient, placement_id: int, key: str = "k" * 16) -> Any:
    return post_form(
        client,
        "/shop/bookings",
        {
            "idempotency_key": key,
            "placement_id": placement_id,
            "first_week": first_open_week(client),
            "weeks": 1,
            "shares": 1,
        },
        "/shop/book",
    )


def api_client(
    client: TestClient, session: Session, email: str = "soba@example.jp"
) -> dict[str, str]:
    """Sign a shop up, approve it, give it a creative in review (so it may hold shares), and
    return the headers of its API token (no session cookie)."""
    sign_up(client, email=email)
    shop = session.scalars(select(Shop).where(Shop.contact_email == email)).one()
    shop.status = ShopStatus.APPROVED
    make_creative(session, shop.id)
    _token, secret = create_api_token(session, shop.id, None, "test")
    session.flush()
    client.cookies.clear()  # token only, no session cookie
    return {"Authorization": f"Bearer {secret}"}


def monday(weeks_ahead: int = 2) -> date:
    """A bookable Monday, `weeks_ahead` weeks after the first one."""
    return first_bookable_week(tokyo_date(utcnow())) + timedelta(weeks=weeks_ahead)
