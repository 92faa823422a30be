"""Staff pages: disaster mode, pausing a booking, editing the ad standards, the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from marketplace.accounts.shops import create_api_token
from marketplace.accounts.staff import create_staff
from marketplace.bookings.requests import BookingRequest, first_bookable_week
from marketplace.bookings.services import confirm_booking, place_hold
from marketplace.calendar import tokyo_date
from marketplace.creatives.images import process_image
from marketplace.creatives.services import create_creative, parse_creative_text
from marketplace.inventory.targeting import EVERYONE
from marketplace.lifecycle import BookingStatus
from marketplace.models import AuditEntry, Booking, Placement
from marketplace.review.standards import DEFAULT_POLICY_PATH, load_policy
from marketplace.switches import is_disaster_mode
from marketplace.vocab import ShopStatus, StaffRole
from portal_plugin.app import create_app
from portal_plugin.demo.inventory import seed_inventory
from tests.support.images import png_bytes
from tests.support.marketplace_factories import make_shop
from tests.support.marketplace_http import HTML, csrf_from, post_form, staff_login
from tests.support.settings import make_settings


def _client(app: Starlette, session: Session, role: StaffRole, email: str) -> TestClient:
    create_staff(session, email, f"{role.value} user", "staff-password-1", role)
    session.flush()
    client = TestClient(app, base_url="https://testserver")
    staff_login(client, email, "staff-password-1")
    return client


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    target = tmp_path / "ad_standards.toml"
    target.write_text(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    return target


@pytest.fixture
def staff_app(
    database_url: str, engine: Engine, session_factory: sessionmaker[Session], policy_file: Path
) -> Starlette:
    app = create_app(make_settings(database_url, ad_standards_path=policy_file), engine=engine)
    app.state.ctx.session_factory = session_factory
    return app


@pytest.fixture
def reviewer(staff_app: Starlette, session: Session) -> Iterator[TestClient]:
    with _client(staff_app, session, StaffRole.REVIEWER, "reviewer@city.example.jp") as client:
        yield client


@pytest.fixture
def admin(staff_app: Starlette, session: Session) -> Iterator[TestClient]:
    with _client(staff_app, session, StaffRole.ADMIN, "admin@city.example.jp") as client:
        yield client


def test_disaster_mode_switch_is_recorded(reviewer: TestClient, session: Session) -> None:
    assert not is_disaster_mode(session)
    response = post_form(
        reviewer,
        "/staff/disaster-mode",
        {"enabled": "1", "message": "地震のため"},
        "/staff/marketplace/",
    )
    assert response.status_code == 303
    assert is_disaster_mode(session)
    assert "災害モード中" in reviewer.get("/staff/marketplace/", headers=HTML).text
    post_form(reviewer, "/staff/disaster-mode", {"enabled": "0"}, "/staff/marketplace/")
    assert not is_disaster_mode(session)
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["disaster_mode_on", "disaster_mode_off"]


def test_staff_pause_and_resume(reviewer: TestClient, session: Session) -> None:
    placement = seed_inventory(session)[0]
    shop = make_shop(session)
    week = first_bookable_week(tokyo_date(datetime.now(UTC))) + timedelta(weeks=1)
    booking = place_hold(
        session, shop.id, BookingRequest(placement.id, week, 2, 1, EVERYONE), "staff-key-1"
    )
    confirm_booking(session, booking.id)
    session.flush()
    page = reviewer.get("/staff/inventory", headers=HTML)
    assert page.status_code == 200 and shop.business_name in page.text
    missing_reason = post_form(
        reviewer, f"/staff/bookings/{booking.id}/pause", {"reason": ""}, "/staff/inventory"
    )
    assert missing_reason.status_code == 422
    paused = post_form(
        reviewer,
        f"/staff/bookings/{booking.id}/pause",
        {"reason": "苦情の確認中"},
        "/staff/inventory",
    )
    assert paused.status_code == 303
    session.refresh(booking)
    assert booking.status is BookingStatus.PAUSED and booking.status_reason == "苦情の確認中"
    post_form(reviewer, f"/staff/bookings/{booking.id}/resume", {}, "/staff/inventory")
    session.refresh(booking)
    assert booking.status is BookingStatus.IN_REVIEW
    audit = reviewer.get("/staff/audit", headers=HTML)
    assert "予約の一時停止" in audit.text and "苦情の確認中" in audit.text


def test_only_admins_edit_the_ad_standards(
    reviewer: TestClient, admin: TestClient, policy_file: Path, session: Session
) -> None:
    assert "日本一" in reviewer.get("/staff/ad-standards", headers=HTML).text
    new_policy = policy_file.read_text(encoding="utf-8") + (
        '\n[[rules]]\nid = "word.test"\nlabel = "テスト語"\nkind = "word"\nterms = ["激安"]\n'
    )
    refused = post_form(
        reviewer, "/staff/ad-standards", {"policy": new_policy}, "/staff/ad-standards"
    )
    assert refused.status_code == 403
    broken = post_form(
        admin, "/staff/ad-standards", {"policy": "version = ["}, "/staff/ad-standards"
    )
    assert broken.status_code == 422 and "TOML" in broken.text
    saved = post_form(admin, "/staff/ad-standards", {"policy": new_policy}, "/staff/ad-standards")
    assert saved.status_code == 303
    assert load_policy(policy_file).rule("word.test") is not None
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "ad_standards_updated")
    ).one()
    assert "激安" in entry.details["source"]


def test_shop_users_cannot_reach_staff_pages(client: TestClient) -> None:
    assert client.get("/staff/review").status_code == 401
    assert client.post("/staff/disaster-mode", data={"enabled": "1"}).status_code in (401, 403)


def test_shop_login_is_rate_limited(client: TestClient) -> None:
    statuses = [
        post_form(
            client,
            "/shop/login",
            {"email": "a@example.jp", "password": "wrong-password"},
            "/shop/login",
        ).status_code
        for _ in range(11)
    ]
    # Ten failures an account in 15 minutes (tests/portal_plugin/security/test_login_throttle.py).
    assert statuses[:10] == [400] * 10 and statuses[10] == 429


def test_booking_rows_are_isolated(session: Session) -> None:
    # Sanity check that nothing from the HTTP tests leaked into this rolled-back session.
    assert (
        session.scalar(select(Booking.id).where(Booking.idempotency_key == "staff-key-1")) is None
    )


def test_staff_json_api(reviewer: TestClient, session: Session) -> None:

    shop = make_shop(session)
    shop.status = ShopStatus.PENDING
    version = create_creative(
        session,
        shop.id,
        parse_creative_text("n", "絶対おいしい", "", "https://example.jp/"),
        process_image(png_bytes()),
        load_policy(),
    )
    session.flush()
    headers = {"X-CSRF-Token": csrf_from(reviewer, "/staff/marketplace/")}
    api = "/api/marketplace/staff"
    # Without the CSRF header a cookie-authenticated POST is refused.
    assert reviewer.post(f"{api}/disaster-mode", json={"enabled": True}).status_code == 403

    items = reviewer.get(f"{api}/review-queue").json()["items"]
    assert items[0]["version_id"] == version.id
    assert items[0]["precheck_flags"][0]["rule"] == "superlative.unproven"
    missing = reviewer.post(
        f"{api}/creative-versions/{version.id}/reject",
        json={"rule": "superlative.unproven"},
        headers=headers,
    )
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "reason"
    rejected = reviewer.post(
        f"{api}/creative-versions/{version.id}/reject",
        json={"rule": "superlative.unproven", "reason": "根拠を示してください"},
        headers=headers,
    )
    assert rejected.json()["status"] == "rejected"
    again = reviewer.post(f"{api}/creative-versions/{version.id}/approve", json={}, headers=headers)
    assert again.status_code == 409

    approved = reviewer.post(
        f"{api}/shops/{shop.id}/decision", json={"decision": "approve"}, headers=headers
    )
    assert approved.json() == {"shop_id": shop.id, "status": "approved"}

    on = reviewer.post(
        f"{api}/disaster-mode", json={"enabled": True, "message": "大雪"}, headers=headers
    )
    assert on.status_code == 200 and on.json()["disaster_mode"] is True
    assert is_disaster_mode(session)
    assert (
        reviewer.post(f"{api}/disaster-mode", json={"enabled": "yes"}, headers=headers).status_code
        == 422
    )
    reviewer.post(f"{api}/disaster-mode", json={"enabled": False}, headers=headers)
    assert reviewer.get(f"{api}/disaster-mode").json()["disaster_mode"] is False


def test_shop_tokens_cannot_use_the_staff_api(client: TestClient, session: Session) -> None:
    shop = make_shop(session)
    _token, secret = create_api_token(session, shop.id, None, "t")
    session.flush()
    response = client.post(
        "/api/marketplace/staff/disaster-mode",
        json={"enabled": True},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 401
    assert not is_disaster_mode(session)


def test_admin_creates_and_edits_a_placement(admin: TestClient, session: Session) -> None:
    form = {
        "code": "feed-5",
        "name": "5件目の下",
        "kind": "in_feed",
        "feed_position": "5",
        "image_width": "600",
        "image_height": "314",
        "max_image_bytes": "300000",
        "headline_max_chars": "30",
        "body_max_chars": "80",
        "shares_per_week": "3",
        "price_per_share_week_yen": "2200",
        "out_of_city_price_per_share_week_yen": "3300",
        "term_discounts": "13:15, 26:25",
        "surcharge.districts": "20",
        "active": "1",
    }
    created = post_form(admin, "/staff/placements", form, "/staff/inventory")
    assert created.status_code == 303, created.text
    placement = session.scalars(select(Placement).where(Placement.code == "feed-5")).one()
    assert placement.term_discounts == [
        {"min_weeks": 13, "percent": 15},
        {"min_weeks": 26, "percent": 25},
    ]
    assert placement.targeting_surcharges == {"districts": 20}
    edit_page = admin.get(f"/staff/placements/{placement.id}", headers=HTML)
    assert 'value="13:15, 26:25"' in edit_page.text
    bad = post_form(
        admin, "/staff/placements", {**form, "term_discounts": "lots"}, "/staff/inventory"
    )
    assert bad.status_code == 422
    updated = post_form(
        admin,
        "/staff/placements",
        {**form, "placement_id": str(placement.id), "price_per_share_week_yen": "2500"},
        "/staff/inventory",
    )
    assert updated.status_code == 303
    session.refresh(placement)
    assert placement.price_per_share_week_yen == 2500
