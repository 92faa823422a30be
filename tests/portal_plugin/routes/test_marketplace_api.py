"""The shops' JSON API with API tokens, and its OpenAPI document."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.lifecycle import MarketplaceEventKind
from marketplace.models import MarketplaceEvent
from portal_plugin.demo.inventory import seed_inventory
from tests.support.images import png_bytes
from tests.support.marketplace_http import api_client, monday


def test_token_booking_flow(client: TestClient, session: Session) -> None:
    placement = seed_inventory(session)[0]
    auth = api_client(client, session)
    listed = client.get("/api/marketplace/placements", headers=auth).json()["placements"]
    assert [p["code"] for p in listed] == ["feed-3", "feed-8", "side-gadget"]
    calendar = client.get(
        "/api/marketplace/availability",
        params={"placement_id": placement.id, "weeks": 3},
        headers=auth,
    )
    assert calendar.status_code == 200
    assert [week["free"] for week in calendar.json()["weeks"]] == [4, 4, 4]

    body = {
        "placement_id": placement.id,
        "first_week": monday().isoformat(),
        "weeks": 26,
        "shares": 1,
        "targeting": {"districts": ["tsuruga", "ikki"]},
    }
    quote = client.post("/api/marketplace/quotes", json=body, headers=auth).json()
    assert quote["discount_percent"] == 30 and quote["surcharge_percent"] == 15
    assert quote["tax_yen"] == quote["total_yen"] * 10 // 110

    held = client.post(
        "/api/marketplace/bookings", json=body, headers={**auth, "Idempotency-Key": "api-key-0001"}
    )
    again = client.post(
        "/api/marketplace/bookings", json=body, headers={**auth, "Idempotency-Key": "api-key-0001"}
    )
    assert held.status_code == again.status_code == 201
    assert held.json()["id"] == again.json()["id"]
    assert held.json()["status"] == "held" and held.json()["total_yen"] == quote["total_yen"]
    different = client.post(
        "/api/marketplace/bookings",
        json={**body, "shares": 2},
        headers={**auth, "Idempotency-Key": "api-key-0001"},
    )
    assert different.status_code == 409

    booking_id = held.json()["id"]
    confirmed = client.post(f"/api/marketplace/bookings/{booking_id}/confirm", headers=auth)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "in_review"
    cancelled = client.post(
        f"/api/marketplace/bookings/{booking_id}/cancel",
        json={"reason": "閉店のため"},
        headers=auth,
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["refund_yen"] == quote["total_yen"]  # all weeks start ≥ 7 days later
    event = session.scalars(
        select(MarketplaceEvent).where(
            MarketplaceEvent.booking_id == booking_id,
            MarketplaceEvent.kind == MarketplaceEventKind.BOOKING_CANCELLED,
        )
    ).one()
    assert event.refund_yen == quote["total_yen"]
    assert (
        client.post(f"/api/marketplace/bookings/{booking_id}/cancel", headers=auth).status_code
        == 409
    )


def test_validation_errors_name_the_field(client: TestClient, session: Session) -> None:
    placement = seed_inventory(session)[0]
    auth = api_client(client, session)
    base = {
        "placement_id": placement.id,
        "first_week": monday().isoformat(),
        "weeks": 1,
        "shares": 1,
    }
    cases = [
        ({**base, "first_week": (monday() + timedelta(days=1)).isoformat()}, "first_week"),
        ({**base, "weeks": 0}, "weeks"),
        ({**base, "shares": "many"}, "shares"),
        ({**base, "targeting": {"religion": ["x"]}}, "targeting.religion"),
        ({**base, "targeting": {"age_bands": ["25-29"]}}, "targeting.age_bands"),
    ]
    for body, field in cases:
        response = client.post("/api/marketplace/quotes", json=body, headers=auth)
        assert response.status_code == 422, body
        assert response.json()["error"]["field"] == field
    english = client.post(
        "/api/marketplace/quotes?lang=en", json={**base, "weeks": 0}, headers=auth
    )
    assert english.status_code == 422
    assert english.json()["error"]["message"] == "Length (weeks) must be between 1 and 52"
    assert client.post("/api/marketplace/quotes", content=b"[1]", headers=auth).status_code == 422
    missing_key = client.post("/api/marketplace/bookings", json=base, headers=auth)
    assert missing_key.json()["error"]["field"] == "idempotency_key"


def test_bad_token_is_401(client: TestClient) -> None:
    response = client.get("/api/marketplace/bookings", headers={"Authorization": "Bearer pmk_nope"})
    assert response.status_code == 401


def test_creative_upload_over_api(client: TestClient, session: Session) -> None:
    auth = api_client(client, session)
    response = client.post(
        "/api/marketplace/creatives",
        data={"name": "看板", "headline": "今すぐクリック!", "landing_url": "https://example.jp/"},
        files={"image": ("a.png", png_bytes(), "image/png")},
        headers=auth,
    )
    assert response.status_code == 201, response.text
    assert response.json()["precheck_flags"][0]["rule"] == "ui.imitation"
    bad = client.post(
        "/api/marketplace/creatives",
        data={"name": "看板", "headline": "h", "landing_url": "javascript:alert(1)"},
        files={"image": ("a.png", png_bytes(), "image/png")},
        headers=auth,
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "landing_url"
    listed = client.get("/api/marketplace/creatives", headers=auth).json()["creatives"]
    assert listed[0]["latest_version"]["status"] == "in_review"


def test_openapi_document(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    assert set(paths) >= {
        "/api/marketplace/placements",
        "/api/marketplace/availability",
        "/api/marketplace/quotes",
        "/api/marketplace/bookings",
        "/api/marketplace/bookings/{id}",
        "/api/marketplace/bookings/{id}/confirm",
        "/api/marketplace/bookings/{id}/cancel",
        "/api/marketplace/bookings/{id}/creative",
        "/api/marketplace/creatives",
    }
    assert set(paths["/api/marketplace/bookings"]) == {"get", "post"}
    # The feed, with the links the host shows residents (issue 17).
    feed = paths["/api/feed"]["get"]
    assert feed["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Feed"
    }
    feed_schema = document["components"]["schemas"]["Feed"]
    assert "links" in feed_schema["required"]
    assert set(feed_schema["properties"]["links"]["required"]) == {
        "about_ads",
        "transparency",
        "my_data",
    }
    for operations in paths.values():
        for operation in operations.values():
            assert operation["responses"] and operation["summary"]
            for response in operation["responses"].values():
                for media in response.get("content", {}).values():
                    ref = media["schema"].get("$ref")
                    if ref:
                        assert ref.rsplit("/", 1)[1] in document["components"]["schemas"]
