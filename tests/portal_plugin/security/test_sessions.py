"""Sessions end when they should (issue 16 item 2): each attack of the review, now refused.

A cookie copied before logout, a closed or suspended shop's cookie and API token, and staff
sessions after logout or deactivation. Each test failed on the code before session versions.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from marketplace.accounts.staff import create_staff
from marketplace.lifecycle import BookingStatus
from marketplace.models import (
    AuditEntry,
    Booking,
    Creative,
    Shop,
    ShopApiToken,
    StaffUser,
)
from marketplace.vocab import ShopStatus, StaffRole
from portal_plugin.app import SESSION_COOKIE
from portal_plugin.demo.inventory import seed_inventory
from tests.support.marketplace_factories import make_creative
from tests.support.marketplace_http import (
    HTML,
    csrf_from,
    hold_one_share,
    post_form,
    sign_up,
    staff_login,
)

ADMIN, ADMIN_PASSWORD = "admin@city.example.jp", "admin-password-12345"


def copy_of(app: Starlette, client: TestClient) -> TestClient:
    """Another browser holding the same cookie (copied from the first one)."""
    copied = TestClient(app, base_url="https://testserver")
    copied.cookies.set(SESSION_COOKIE, client.cookies[SESSION_COOKIE])
    return copied


@pytest.fixture
def staff_client(app: Starlette, session: Session) -> Iterator[TestClient]:
    create_staff(session, ADMIN, "管理 太郎", ADMIN_PASSWORD, StaffRole.ADMIN)
    session.flush()
    with TestClient(app, base_url="https://testserver") as client:
        staff_login(client, ADMIN, ADMIN_PASSWORD)
        yield client


def approved_shop_with_a_hold(client: TestClient, session: Session) -> tuple[Shop, int]:
    placement = seed_inventory(session)[0]
    assert sign_up(client).status_code == 303
    shop = session.scalars(select(Shop).where(Shop.contact_email == "soba@example.jp")).one()
    shop.status = ShopStatus.APPROVED
    make_creative(session, shop.id)
    held = hold_one_share(client, placement.id)
    assert held.status_code == 303, held.text
    return shop, int(held.headers["location"].rsplit("/", 1)[1])


def decide(staff_client: TestClient, shop_id: int, decision: str) -> None:
    response = post_form(
        staff_client,
        f"/staff/shops/{shop_id}/decision",
        {"decision": decision, "reason": "広告掲載基準に違反"},
        "/staff/shops",
    )
    assert response.status_code == 303, response.text


def signed_out(response: object) -> bool:
    status = getattr(response, "status_code", 0)
    location = getattr(response, "headers", {}).get("location", "")
    return status == 401 or (status == 303 and "/shop/login" in location)


def attempt_confirm_create_and_mint(client: TestClient, booking_id: int, csrf: str) -> list[object]:
    """What the review did with a closed shop's old cookie (its CSRF token taken beforehand)."""
    post = {"headers": HTML, "follow_redirects": False}
    return [
        client.post(f"/shop/bookings/{booking_id}/confirm", data={"csrf_token": csrf}, **post),
        client.post(
            "/shop/creatives",
            data={"csrf_token": csrf, "name": "x", "headline": "x", "body": "x"},
            **post,
        ),
        client.post("/shop/tokens", data={"csrf_token": csrf, "name": "後で使う"}, **post),
    ]


@pytest.mark.parametrize("decision", ["close", "suspend"])
def test_a_closed_or_suspended_shops_cookie_confirms_creates_and_mints_nothing(
    app: Starlette,
    client: TestClient,
    staff_client: TestClient,
    session: Session,
    decision: str,
) -> None:
    shop, booking_id = approved_shop_with_a_hold(client, session)
    csrf = csrf_from(client, f"/shop/bookings/{booking_id}")
    decide(staff_client, shop.id, decision)

    for answer in attempt_confirm_create_and_mint(client, booking_id, csrf):
        assert signed_out(answer), answer
    session.expire_all()
    assert session.get_one(Booking, booking_id).status is BookingStatus.HELD  # no invoice
    # Only the creative in review the shop needed before its hold.
    assert session.scalar(select(func.count()).select_from(Creative)) == 1
    assert session.scalar(select(func.count()).select_from(ShopApiToken)) == 0
    assert client.get("/shop/", headers=HTML, follow_redirects=False).status_code == 303


def test_a_suspended_shop_approved_again_does_not_revive_old_cookies_or_tokens(
    app: Starlette, client: TestClient, staff_client: TestClient, session: Session
) -> None:
    shop, _booking_id = approved_shop_with_a_hold(client, session)
    page = client.get("/shop/tokens", headers=HTML)
    assert page.status_code == 200
    minted = post_form(client, "/shop/tokens", {"name": "在庫システム"}, "/shop/tokens")
    secret = minted.text.split("pmk_", 1)[1].split("<", 1)[0].split('"', 1)[0]
    bearer = {"Authorization": f"Bearer pmk_{secret}"}
    api = TestClient(app, base_url="https://testserver")
    assert api.get("/api/marketplace/bookings", headers=bearer).status_code == 200

    decide(staff_client, shop.id, "suspend")
    assert api.get("/api/marketplace/bookings", headers=bearer).status_code == 401
    decide(staff_client, shop.id, "approve")
    assert (
        api.get("/api/marketplace/bookings", headers=bearer).status_code == 401
    )  # revoked for good
    assert client.get("/shop/", headers=HTML, follow_redirects=False).status_code == 303
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "shop_suspend", AuditEntry.shop_id == shop.id)
    ).one()
    assert audit.details["tokens_revoked"] == 1


def test_a_shop_cookie_copied_before_logout_is_dead_after_it(
    app: Starlette, client: TestClient, session: Session
) -> None:
    _shop, booking_id = approved_shop_with_a_hold(client, session)
    thief = copy_of(app, client)
    csrf = csrf_from(thief, f"/shop/bookings/{booking_id}")
    assert thief.get("/shop/", headers=HTML).status_code == 200  # the copy works before

    response = post_form(client, "/shop/logout", {}, "/shop/")
    assert response.status_code == 303

    for answer in attempt_confirm_create_and_mint(thief, booking_id, csrf):
        assert signed_out(answer), answer
    assert thief.get("/api/marketplace/bookings").status_code == 401
    session.expire_all()
    assert session.get_one(Booking, booking_id).status is BookingStatus.HELD


def test_logging_in_again_after_logout_works(client: TestClient, session: Session) -> None:
    sign_up(client)
    post_form(client, "/shop/logout", {}, "/shop/")
    again = post_form(
        client,
        "/shop/login",
        {"email": "soba@example.jp", "password": "correct horse battery"},
        "/shop/login",
    )
    assert again.status_code == 303
    assert client.get("/shop/", headers=HTML).status_code == 200


def test_a_staff_cookie_copied_before_logout_is_dead_after_it(
    app: Starlette, staff_client: TestClient
) -> None:
    thief = copy_of(app, staff_client)
    assert thief.get("/staff/shops", headers=HTML).status_code == 200
    post_form(staff_client, "/staff/logout", {}, "/staff/")
    assert thief.get("/staff/shops", headers=HTML, follow_redirects=False).status_code == 303
    assert thief.get("/api/marketplace/staff/review-queue").status_code == 401


def test_a_deactivated_staff_member_is_signed_out_and_a_new_role_applies_at_once(
    app: Starlette, staff_client: TestClient, session: Session
) -> None:
    staff = session.scalars(select(StaffUser).where(StaffUser.email == ADMIN)).one()
    staff.role = StaffRole.REVIEWER
    session.flush()
    assert staff_client.get("/finance/", headers=HTML).status_code == 403
    assert staff_client.get("/staff/review", headers=HTML).status_code == 200
    staff.active = False
    session.flush()
    answer = staff_client.get("/staff/review", headers=HTML, follow_redirects=False)
    assert answer.status_code == 303 and "/staff/login" in answer.headers["location"]
