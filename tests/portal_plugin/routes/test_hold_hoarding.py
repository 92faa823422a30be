"""Issue 16 item 1: one shop's API token held every free share of all placements for 26 weeks
in about a second; a rival then saw everything sold out. This replays that script."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.bookings.controls import expire_hold
from marketplace.db import utcnow
from marketplace.lifecycle import CreativeStatus
from marketplace.models import Booking, Creative, CreativeVersion, Shop
from marketplace.vocab import ShopStatus, StaffRole
from portal_plugin.demo.inventory import seed_inventory
from portal_plugin.settings import SettingsError, load_settings
from tests.support.marketplace_factories import make_creative
from tests.support.marketplace_http import (
    HTML,
    api_client,
    hold_one_share,
    monday,
    sign_up,
)
from tests.support.settings import TEST_IDENTITY_SECRET, TEST_SECRET_KEY
from tests.support.staff_http import log_in

WEEKS = 26


def hoard(client: TestClient, auth: dict[str, str], placement_ids: list[int]) -> list[int]:
    """The attack: every free share of every placement, week by week; the statuses answered."""
    statuses = []
    for placement_id in placement_ids:
        calendar = client.get(
            "/api/marketplace/availability",
            params={"placement_id": placement_id, "weeks": WEEKS},
            headers=auth,
        ).json()["weeks"]
        for n, week in enumerate(calendar):
            if week["free"] == 0:
                continue
            body = {
                "placement_id": placement_id,
                "first_week": week["week_start"],
                "weeks": 1,
                "shares": week["free"],
            }
            key = {"Idempotency-Key": f"hoard-{placement_id}-{n:04d}"}
            statuses.append(
                client.post("/api/marketplace/bookings", json=body, headers={**auth, **key})
            )
    return [answer.status_code for answer in statuses]


def test_one_token_cannot_hold_every_share_of_half_a_year(
    client: TestClient, session: Session
) -> None:
    placements = seed_inventory(session)
    auth = api_client(client, session)
    statuses = hoard(client, auth, [p.id for p in placements])
    assert statuses.count(201) <= 10  # the hourly rate limit, whatever else happens
    assert 429 in statuses and 409 in statuses

    rival = api_client(client, session, email="rival@example.jp")
    for placement in placements:
        calendar = client.get(
            "/api/marketplace/availability",
            params={"placement_id": placement.id, "weeks": WEEKS},
            headers=rival,
        ).json()["weeks"]
        assert all(week["free"] > 0 for week in calendar), (placement.code, calendar)


def test_a_hold_over_a_limit_names_it_in_the_error_shape(
    client: TestClient, session: Session
) -> None:
    placement = seed_inventory(session)[0]
    auth = api_client(client, session)
    body = {"placement_id": placement.id, "first_week": monday().isoformat(), "weeks": 1}
    over_week = client.post(
        "/api/marketplace/bookings",
        json={**body, "shares": 3},
        headers={**auth, "Idempotency-Key": "limit-0001"},
    )
    assert over_week.status_code == 409
    error = over_week.json()["error"]
    assert error["code"] == "hold_limit" and error["field"] == "shares"
    assert "同時に仮押さえできるのは2枠まで" in error["message"]
    over_all = client.post(
        "/api/marketplace/bookings",
        json={**body, "weeks": 52, "shares": 2},
        headers={**auth, "Idempotency-Key": "limit-0003"},
    )
    assert over_all.status_code == 409
    assert "合計52枠・週" in over_all.json()["error"]["message"]
    english = client.post(
        "/api/marketplace/bookings?lang=en",
        json={**body, "shares": 3},
        headers={**auth, "Idempotency-Key": "limit-0002", "Accept-Language": "en"},
    )
    assert "at most 2 shares of one placement in one week" in english.json()["error"]["message"]


def test_holds_per_shop_are_rate_limited(client: TestClient, session: Session) -> None:
    placement = seed_inventory(session)[0]
    auth = api_client(client, session)
    answers = [
        client.post(
            "/api/marketplace/bookings",
            json={
                "placement_id": placement.id,
                "first_week": monday(n).isoformat(),
                "weeks": 1,
                "shares": 1,
            },
            headers={**auth, "Idempotency-Key": f"rate-{n:04d}"},
        )
        for n in range(11)
    ]
    assert [a.status_code for a in answers] == [201] * 10 + [429]
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "hold_rate_limited"
    assert "1時間に10回、1日に30回" in refused.json()["error"]["message"]
    assert int(refused.headers["retry-after"]) >= 60
    # Another shop is not held back by this one.
    rival = api_client(client, session, email="rival@example.jp")
    other = client.post(
        "/api/marketplace/bookings",
        json={"placement_id": placement.id, "first_week": monday().isoformat(), "weeks": 1,
              "shares": 1},
        headers={**rival, "Idempotency-Key": "rival-0001"},
    )  # fmt: skip
    assert other.status_code == 201, other.text


@pytest.mark.parametrize("creative", [None, CreativeStatus.DRAFT])
def test_the_web_form_refuses_a_hold_without_a_submitted_creative(
    client: TestClient, session: Session, creative: CreativeStatus | None
) -> None:
    placement = seed_inventory(session)[0]
    sign_up(client)
    shop = session.scalars(select(Shop).where(Shop.contact_email == "soba@example.jp")).one()
    shop.status = ShopStatus.APPROVED
    if creative is not None:
        make_creative(session, shop.id, creative)
    session.flush()
    refused = hold_one_share(client, placement.id)
    assert refused.status_code == 422
    assert "仮押さえの前に広告素材を登録して審査に出してください" in refused.text
    make_creative(session, shop.id)
    assert hold_one_share(client, placement.id, key="k" * 20).status_code == 303


def test_the_api_refuses_a_hold_without_a_submitted_creative(
    client: TestClient, session: Session
) -> None:
    placement = seed_inventory(session)[0]
    auth = api_client(client, session)
    shop = session.scalars(select(Shop).where(Shop.contact_email == "soba@example.jp")).one()
    for version in session.scalars(
        select(CreativeVersion).join(Creative).where(Creative.shop_id == shop.id)
    ):
        version.status = CreativeStatus.DRAFT
    session.flush()
    refused = client.post(
        "/api/marketplace/bookings",
        json={"placement_id": placement.id, "first_week": monday().isoformat(), "weeks": 1,
              "shares": 1},
        headers={**auth, "Idempotency-Key": "draft-0001"},
    )  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["error"] == {
        "code": "creative_required",
        "field": "creative_id",
        "message": "仮押さえの前に広告素材を登録して審査に出してください"
        "(審査中または承認済みの素材が必要です)",
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"HOLD_MAX_SHARES_PER_WEEK": "0"}, "HOLD_MAX_SHARES_PER_WEEK"),
        ({"HOLD_RATE_PER_HOUR": "abc"}, "HOLD_RATE_PER_HOUR"),
        (
            {"HOLD_MAX_SHARES_PER_WEEK": "8", "HOLD_MAX_SHARE_WEEKS": "4"},
            "HOLD_MAX_SHARE_WEEKS must be at least HOLD_MAX_SHARES_PER_WEEK",
        ),
        (
            {"HOLD_RATE_PER_HOUR": "20", "HOLD_RATE_PER_DAY": "5"},
            "HOLD_RATE_PER_DAY must be at least HOLD_RATE_PER_HOUR",
        ),
    ],
)
def test_hold_limits_are_validated(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], message: str
) -> None:
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("PORTAL_IDENTITY_SECRET", TEST_IDENTITY_SECRET)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        load_settings(_env_file=None)


def test_staff_see_shops_whose_holds_keep_lapsing(client: TestClient, session: Session) -> None:
    placement = seed_inventory(session)[0]
    auth = api_client(client, session)
    for n in range(3):
        held = client.post(
            "/api/marketplace/bookings",
            json={"placement_id": placement.id, "first_week": monday(n).isoformat(),
                  "weeks": 1, "shares": 1},
            headers={**auth, "Idempotency-Key": f"lapse-{n:04d}"},
        )  # fmt: skip
        assert held.status_code == 201, held.text
        booking = session.get_one(Booking, held.json()["id"])
        assert booking.hold_expires_at is not None
        booking.hold_expires_at = utcnow() - timedelta(minutes=n + 1)
        assert expire_hold(session, booking.id)
    session.flush()
    client.cookies.clear()
    log_in(client, session, StaffRole.REVIEWER)
    page = client.get("/staff/shops", headers=HTML)
    assert page.status_code == 200
    assert "仮押さえの期限切れが続いているお店" in page.text
    assert "鶴ヶ城そば: 3回" in page.text
    audit = client.get("/staff/audit", headers=HTML)
    assert "仮押さえの期限切れの繰り返し" in audit.text
