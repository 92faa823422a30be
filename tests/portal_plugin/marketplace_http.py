"""Helpers for driving the marketplace pages over HTTP like a browser would."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

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
    return post_form(client, "/shop/signup", {**SIGNUP, **overrides}, "/shop/signup")


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
