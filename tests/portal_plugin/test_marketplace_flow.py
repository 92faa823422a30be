"""The whole shop journey over HTTP: sign up → approval → creative → review → availability →
quote → hold → confirm, plus isolation between shops and double submission."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from marketplace.accounts.staff import create_staff
from marketplace.lifecycle import BookingStatus
from marketplace.models import Booking, InventoryWeek, Shop
from marketplace.vocab import ShopStatus, StaffRole
from portal_plugin.demo.inventory import seed_inventory
from tests.support.images import png_bytes
from tests.support.marketplace_factories import make_creative
from tests.support.marketplace_http import (
    HTML,
    SIGNUP,
    csrf_from,
    hold_one_share,
    post_form,
    sign_up,
    staff_login,
)

STAFF_EMAIL, STAFF_PASSWORD = "reviewer@city.example.jp", "reviewer-password-1"


@pytest.fixture
def staff_client(app: Starlette, session: Session) -> Iterator[TestClient]:
    create_staff(session, STAFF_EMAIL, "審査 花子", STAFF_PASSWORD, StaffRole.ADMIN)
    session.flush()
    with TestClient(app, base_url="https://testserver") as client:
        staff_login(client, STAFF_EMAIL, STAFF_PASSWORD)
        yield client


def test_full_shop_journey(client: TestClient, staff_client: TestClient, session: Session) -> None:
    placement = seed_inventory(session)[0]
    session.flush()

    # 1. Sign up: the shop is pending and cannot book yet.
    response = sign_up(client)
    assert response.status_code == 303
    dashboard = client.get("/shop/", headers=HTML)
    assert "市の担当者が確認中" in dashboard.text
    shop = session.scalars(select(Shop).where(Shop.contact_email == "soba@example.jp")).one()
    assert shop.status is ShopStatus.PENDING

    # 2. Staff approve the shop.
    response = post_form(
        staff_client, f"/staff/shops/{shop.id}/decision", {"decision": "approve"}, "/staff/shops"
    )
    assert response.status_code == 303
    session.refresh(shop)
    assert shop.status is ShopStatus.APPROVED

    # 3. The shop creates a creative; the pre-check flags 「日本一」.
    token = csrf_from(client, "/shop/creatives/new")
    response = client.post(
        "/shop/creatives",
        data={
            "csrf_token": token,
            "name": "冬の新そば",
            "headline": "日本一の十割そば",
            "body": "鶴ヶ城から徒歩5分",
            "landing_url": "https://soba.example.jp/",
        },
        files={"image": ("banner.png", png_bytes(), "image/png")},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    creative_page = client.get(response.headers["location"], headers=HTML)
    assert "根拠のない最上級" in creative_page.text
    assert 'id="live-preview"' in creative_page.text
    assert client.get("/static/marketplace-preview.js").status_code == 200
    creative_id = int(response.headers["location"].rstrip("/").rsplit("/", 1)[1])

    # 4. The reviewer sees it with its flag and a preview, and rejects it with a reason.
    queue = staff_client.get("/staff/review", headers=HTML)
    version_id = int(re.search(r"/staff/review/(\d+)", queue.text).group(1))  # type: ignore[union-attr]
    review = staff_client.get(f"/staff/review/{version_id}", headers=HTML)
    assert 'class="flag-text">日本一' in review.text
    assert f"/creative-images/{version_id}" in review.text
    anonymous = TestClient(client.app, base_url="https://testserver")
    assert anonymous.get(f"/creative-images/{version_id}").status_code == 404  # not approved
    assert client.get(f"/creative-images/{version_id}").status_code == 200  # its own shop
    response = post_form(
        staff_client,
        f"/staff/review/{version_id}/reject",
        {"rule": "superlative.unproven", "reason": "根拠が示せない表現です"},
        f"/staff/review/{version_id}",
    )
    assert response.status_code == 303
    assert "根拠が示せない表現です" in client.get("/shop/", headers=HTML).text

    # 5. The shop edits (new version, same image); the reviewer approves.
    token = csrf_from(client, f"/shop/creatives/{creative_id}")
    response = client.post(
        f"/shop/creatives/{creative_id}",
        data={
            "csrf_token": token,
            "name": "冬の新そば",
            "headline": "会津の十割そば",
            "body": "鶴ヶ城から徒歩5分",
            "landing_url": "https://soba.example.jp/",
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    queue = staff_client.get("/staff/review", headers=HTML)
    new_version = int(re.search(r"/staff/review/(\d+)", queue.text).group(1))  # type: ignore[union-attr]
    assert new_version != version_id
    response = post_form(
        staff_client, f"/staff/review/{new_version}/approve", {}, f"/staff/review/{new_version}"
    )
    assert response.status_code == 303
    image = TestClient(client.app, base_url="https://testserver").get(
        f"/creative-images/{new_version}"
    )
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"

    # 6. Availability, then a quote.
    availability = client.get("/shop/availability", headers=HTML)
    assert placement.name in availability.text
    first_week = re.search(r"first_week=(\d{4}-\d{2}-\d{2})", availability.text).group(1)  # type: ignore[union-attr]
    quote = client.get(
        "/shop/book/quote",
        params={
            "placement_id": placement.id,
            "first_week": first_week,
            "weeks": 13,
            "shares": 2,
            "creative_id": creative_id,
            "targeting.age_bands": ["30-39", "40-49"],
        },
        headers=HTML,
    )
    assert quote.status_code == 200, quote.text
    assert "期間割引" in quote.text and "20%" in quote.text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', quote.text).group(1)  # type: ignore[union-attr]

    # 7. Hold, submitted twice (double click): one booking.
    form = {
        "idempotency_key": key,
        "placement_id": placement.id,
        "first_week": first_week,
        "weeks": 13,
        "shares": 2,
        "creative_id": creative_id,
        "targeting.age_bands": ["30-39", "40-49"],
    }
    token = csrf_from(client, "/shop/book")
    first = client.post(
        "/shop/bookings", data={**form, "csrf_token": token}, headers=HTML, follow_redirects=False
    )
    second = client.post(
        "/shop/bookings", data={**form, "csrf_token": token}, headers=HTML, follow_redirects=False
    )
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert session.scalars(select(Booking).where(Booking.shop_id == shop.id)).all().__len__() == 1
    booking_page = client.get(first.headers["location"], headers=HTML)
    assert "仮押さえ中" in booking_page.text

    # 8. Confirm: the creative is approved, so the booking is scheduled and the shares sold.
    booking_id = int(first.headers["location"].rsplit("/", 1)[1])
    response = post_form(
        client, f"/shop/bookings/{booking_id}/confirm", {}, f"/shop/bookings/{booking_id}"
    )
    assert response.status_code == 303
    booking = session.get_one(Booking, booking_id)
    session.refresh(booking)
    assert booking.status is BookingStatus.SCHEDULED
    assert booking.targeting == {"age_bands": ["30-39", "40-49"]}
    week = session.scalars(
        select(InventoryWeek)
        .where(InventoryWeek.placement_id == placement.id)
        .order_by(InventoryWeek.week_start)
    ).first()
    assert week is not None and (week.sold_shares, week.held_shares) == (2, 0)


def test_pending_shop_cannot_book(client: TestClient, session: Session) -> None:
    placement = seed_inventory(session)[0]
    session.flush()
    sign_up(client)
    response = hold_one_share(client, placement.id)
    assert response.status_code == 403
    assert "承認されるまで" in response.text


def test_signup_errors_name_the_field_and_write_nothing(
    client: TestClient, session: Session
) -> None:
    response = sign_up(client, invoice_registration_number="T1000012050002")
    assert response.status_code == 422
    assert "登録番号" in response.text
    assert session.scalar(select(Shop.id).where(Shop.contact_email == "soba@example.jp")) is None
    english = client.post(
        "/shop/signup?lang=en",
        data={"csrf_token": csrf_from(client, "/shop/signup"), "email": "x@example.jp"},
        headers=HTML,
    )
    assert english.status_code == 422
    assert "Register your shop" in english.text
    assert "The password must be 10–256 characters" in english.text


def test_other_shops_booking_is_404(app: Starlette, client: TestClient, session: Session) -> None:
    placement = seed_inventory(session)[0]
    sign_up(client)
    owner = session.scalars(select(Shop).where(Shop.contact_email == "soba@example.jp")).one()
    owner.status = ShopStatus.APPROVED
    make_creative(session, owner.id)
    held = hold_one_share(client, placement.id)
    booking_path = held.headers["location"]
    with TestClient(app, base_url="https://testserver") as intruder:
        sign_up(intruder, email="other@example.jp")
        assert intruder.get(booking_path, headers=HTML).status_code == 404
        response = post_form(intruder, f"{booking_path}/cancel", {}, "/shop/")
        assert response.status_code == 404
        booking_id = booking_path.rsplit("/", 1)[1]
        api = intruder.get(f"/api/marketplace/bookings/{booking_id}")
        assert api.status_code == 404
        assert api.json()["error"]["code"] == "not_found"
    booking = session.get_one(Booking, int(booking_path.rsplit("/", 1)[1]))
    session.refresh(booking)
    assert booking.status is BookingStatus.HELD


def test_pages_require_login(client: TestClient) -> None:
    response = client.get("/shop/", headers=HTML, follow_redirects=False)
    assert response.status_code == 303 and "/shop/login" in response.headers["location"]
    assert client.get("/api/marketplace/bookings").status_code == 401
    assert client.get("/staff/review", headers=HTML, follow_redirects=False).status_code == 303


def test_oversized_upload_is_413(client: TestClient) -> None:
    sign_up(client)
    token = csrf_from(client, "/shop/creatives/new")
    response = client.post(
        "/shop/creatives",
        data={
            "csrf_token": token,
            "name": "n",
            "headline": "h",
            "landing_url": "https://example.jp/",
        },
        files={"image": ("big.png", b"\x89PNG" + b"0" * (3 * 1024 * 1024), "image/png")},
        headers=HTML,
    )
    assert response.status_code == 413


def test_shop_edits_its_own_profile(client: TestClient, session: Session) -> None:
    sign_up(client)
    page = client.get("/shop/profile", headers=HTML)
    assert "鶴ヶ城そば" in page.text
    form = {
        key: value
        for key, value in SIGNUP.items()
        if key not in ("email", "password", "password_confirm")
    }
    moved = post_form(client, "/shop/profile", {**form, "district": "outside"}, "/shop/profile")
    assert moved.status_code == 200 and "保存しました" in moved.text
    shop = session.scalars(select(Shop).where(Shop.contact_email == "soba@example.jp")).one()
    session.refresh(shop)
    assert shop.district == "outside" and shop.in_city is False
    bad = post_form(client, "/shop/profile", {**form, "category": "casino"}, "/shop/profile")
    assert bad.status_code == 422
    session.refresh(shop)
    assert shop.category == "restaurant"
