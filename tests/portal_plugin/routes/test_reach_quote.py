"""Reach before sale: the quote shows what a targeted booking can really get, and refuses
what cannot be delivered (issue 20 item 3)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from marketplace.delivery import forecast_traffic
from marketplace.delivery.forecast_traffic import RecentTraffic
from marketplace.models import Placement, Shop
from marketplace.vocab import ShopStatus
from portal_plugin.demo.inventory import seed_inventory
from tests.support.marketplace_http import api_client, monday, sign_up
from tests.support.reach_traffic import traffic

HTML = {"Accept": "text/html"}


def body(placement: Placement, **targeting: list[str]) -> dict[str, object]:
    return {"placement_id": placement.id, "first_week": monday().isoformat(), "weeks": 1,
            "shares": 1, "targeting": targeting}  # fmt: skip


def test_a_quote_forecasts_reach_and_warns_when_narrow(
    client: TestClient, session: Session
) -> None:
    placement = seed_inventory(session)[0]
    traffic(session, placement)
    auth = api_client(client, session)
    wide = client.post("/api/marketplace/quotes", json=body(placement), headers=auth).json()
    assert wide["reach"]["limit"] is None and not wide["reach"]["refused"]
    # A quarter of 235 slots a day for a week (a day's batch counted over the days since the
    # first one: within 5%).
    assert abs(wide["reach"]["forecast_impressions"] / (235 * 7 / 4) - 1) <= 0.05
    narrow = client.post(
        "/api/marketplace/quotes",
        json=body(placement, age_bands=["70+"], districts=["tsuruga"]),
        headers=auth,
    ).json()
    reach = narrow["reach"]
    assert reach["limit"] == "narrow" and not reach["refused"]
    assert abs(reach["forecast_impressions"] / (30 * 7 / 4) - 1) <= 0.05
    assert set(reach) == {"forecast_impressions", "untargeted_impressions", "forecast_share",
                          "limit", "refused"}  # fmt: skip


def test_too_few_residents_are_refused_without_a_figure(
    client: TestClient, session: Session
) -> None:
    placement = seed_inventory(session)[0]
    traffic(session, placement)
    auth = api_client(client, session)
    request = body(placement, age_bands=["70+"], districts=["ikki"])
    quote = client.post("/api/marketplace/quotes", json=request, headers=auth).json()
    assert quote["reach"]["refused"] and quote["reach"]["forecast_impressions"] is None
    held = client.post(
        "/api/marketplace/bookings", json=request, headers={**auth, "Idempotency-Key": "r" * 16}
    )
    assert held.status_code == 422
    assert held.json()["error"]["code"] == "reach_too_narrow"
    assert "対象が狭すぎます" in held.json()["error"]["message"]


def test_the_quote_page_names_the_cause_in_japanese(client: TestClient, session: Session) -> None:
    placement = seed_inventory(session)[0]
    traffic(session, placement)
    sign_up(client, email="reach@example.jp")
    shop = session.scalars(select(Shop).where(Shop.contact_email == "reach@example.jp")).one()
    shop.status = ShopStatus.APPROVED
    session.flush()
    params = {
        "placement_id": placement.id,
        "first_week": monday().isoformat(),
        "weeks": 1,
        "shares": 1,
        "targeting.age_bands": "70+",
        "targeting.districts": "tsuruga",
    }
    page = client.get("/shop/book/quote", params=params, headers=HTML)
    assert page.status_code == 200, page.text
    assert "表示回数の見込み" in page.text and "対象が狭すぎます" in page.text
    assert "15分間仮押さえする" in page.text  # a warning: the shop may still book
    refused = client.get(
        "/shop/book/quote", params={**params, "targeting.districts": "ikki"}, headers=HTML
    )
    assert "お申し込みいただけません" in refused.text
    assert "15分間仮押さえする" not in refused.text


def test_quotes_and_holds_share_one_traffic_reading(
    app: Starlette, client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web process reads a placement's 28 days once per period (RecentTraffic), however
    many quotes ask for it; a hold's reach check reads through the same cache."""
    placement = seed_inventory(session)[0]
    traffic(session, placement)
    auth = api_client(client, session)
    readings: list[int] = []
    real = forecast_traffic.load_traffic

    def counted(session: Session, placement_id: int, now: datetime) -> object:
        readings.append(placement_id)
        return real(session, placement_id, now)

    monkeypatch.setattr(forecast_traffic, "load_traffic", counted)
    for _ in range(3):
        quoted = client.post("/api/marketplace/quotes", json=body(placement), headers=auth)
        assert quoted.json()["reach"]["forecast_impressions"] > 0
    assert 1 <= len(readings) <= 2  # one, or two if a five-minute period turned meanwhile
    app.state.ctx.recent_traffic = RecentTraffic()  # forget: the hold must read through it
    held = client.post(
        "/api/marketplace/bookings",
        json=body(placement),
        headers={**auth, "Idempotency-Key": "s" * 16},
    )
    assert held.status_code == 201
    assert 2 <= len(readings) <= 3 and set(readings) == {placement.id}
