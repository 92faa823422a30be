from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.testclient import TestClient

from marketplace.audit import Actor
from marketplace.delivery.feed_policy import AdSlot
from marketplace.delivery.models import AdClick, AdImpression, AdOffer
from marketplace.delivery.service import DeliveryService, ServedAd, ServedFeed
from marketplace.delivery.tracking import OfferToken, TokenSigner
from marketplace.lifecycle import ActorKind
from marketplace.switches import set_disaster_mode
from portal_plugin.app import create_app
from portal_plugin.delivery_runtime import delivery_service
from portal_plugin.routes import delivery as delivery_routes
from portal_plugin.routes.delivery import DEFAULT_LIMIT, LimitError, feed_body, feed_limit
from tests.conftest import TEST_SECRET_KEY, make_settings
from tests.marketplace.delivery import factories
from tests.portal_plugin.delivery_world import World, build_world, world_engine  # noqa: F401

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"}


@pytest.fixture
def world(world_engine: Engine) -> World:  # noqa: F811
    return build_world(world_engine)


@pytest.fixture
def client(world: World, tmp_path: Path) -> Iterator[TestClient]:
    url = world.engine.url.render_as_string(hide_password=False)
    settings = make_settings(
        url, delivery_spool_dir=tmp_path / "spool", delivery_refresh_seconds=0.2
    )
    app = create_app(settings, engine=world.engine)
    with TestClient(app, base_url="https://testserver", headers=BROWSER) as client:
        yield client


def service(client: TestClient) -> DeliveryService:
    found = delivery_service(client.app.state.ctx)  # type: ignore[attr-defined]
    assert found is not None
    return found


def feed(client: TestClient, token: str | None = None, **params: Any) -> dict[str, Any]:
    headers = {"X-Portal-Resident": token} if token else {}
    response = client.get("/api/feed", params=params or {"limit": 10}, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def ads(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in body["items"] if item["type"] == "ad"]


def count(engine: Engine, model: Any, **where: Any) -> int:
    with Session(engine) as session:
        statement = select(func.count()).select_from(model).filter_by(**where)
        return int(session.scalar(statement) or 0)


def test_feed_blends_labelled_ads_below_notices(
    client: TestClient, world: World, resident_token: Callable[..., str]
) -> None:
    body = feed(client, resident_token("r-blend", personalization_consent=True))
    items = body["items"]
    assert len(items) == 10
    assert items[0]["type"] == "article" and items[0]["priority"] == "urgent"
    placed = ads(body)
    assert [a["position"] for a in placed] == [3, 8]
    assert [items[2]["type"], items[7]["type"]] == ["ad", "ad"]
    assert all(a["label"] == "広告" and a["shop_name"] for a in placed)
    assert len({a["shop_name"] for a in placed}) == 2  # never one shop twice
    assert {a["shop_name"] for a in placed} <= set(world.shop_names.values())


def test_bad_limits_are_422_and_unknown_residents_get_the_anonymous_feed(
    client: TestClient,
) -> None:
    for bad in ("0", "51", "abc", "-1", "3.5"):
        response = client.get("/api/feed", params={"limit": bad})
        assert response.status_code == 422, bad
        assert response.json()["error"]["fields"][0]["field"] == "limit"
    body = feed(client, "forged.token")
    assert body["personalized"] is False and len(body["items"]) == 10
    assert feed(client, limit=4)["items"] and not ads(feed(client, limit=4))


def test_disaster_mode_removes_ads_within_seconds(client: TestClient, world: World) -> None:
    assert ads(feed(client))
    with Session(world.engine) as session, session.begin():
        set_disaster_mode(session, Actor(ActorKind.STAFF, 1, "staff"), True, "地震")
    deadline = time.monotonic() + 5
    while ads(feed(client)) and time.monotonic() < deadline:
        time.sleep(0.1)
    body = feed(client)
    assert not ads(body) and body["ads_suppressed"] is True
    with Session(world.engine) as session, session.begin():
        set_disaster_mode(session, Actor(ActorKind.STAFF, 1, "staff"), False)


def test_impressions_and_clicks_count_once_and_redirect_to_the_landing_url(
    client: TestClient, world: World, resident_token: Callable[..., str]
) -> None:
    ad = ads(feed(client, resident_token("r-track")))[0]
    assert client.get(ad["impression_url"]).status_code == 204
    replay = client.get(ad["impression_url"])
    assert replay.status_code == 400
    click = client.get(ad["click_url"], follow_redirects=False)
    assert click.status_code == 302
    assert click.headers["location"] in world.landing_urls.values()
    assert client.get(ad["click_url"], follow_redirects=False).status_code == 400
    assert client.get(ad["click_url"][:-3] + "xyz", follow_redirects=False).status_code == 400
    assert service(client).writer.flush()
    token_offer = service(client).read_click(ad["click_url"].rsplit("/", 1)[1]).offer_id
    assert count(world.engine, AdOffer, id=token_offer) == 1
    assert count(world.engine, AdImpression, offer_id=token_offer, valid=True) == 1
    assert count(world.engine, AdClick, offer_id=token_offer, valid=True) == 1


def test_invalid_traffic_is_recorded_with_a_reason(client: TestClient, world: World) -> None:
    first, second = ads(feed(client))
    bot = client.get(first["impression_url"], headers={"User-Agent": "Googlebot/2.1"})
    assert bot.status_code == 204
    # A click without an impression still redirects, but is never billable.
    assert client.get(second["click_url"], follow_redirects=False).status_code == 302
    assert service(client).writer.flush()
    signer = service(client)
    first_id = signer.read_impression(first["impression_url"].rsplit("/", 1)[1]).offer_id
    second_id = signer.read_click(second["click_url"].rsplit("/", 1)[1]).offer_id
    assert count(world.engine, AdImpression, offer_id=first_id, invalid_reason="bot") == 1
    assert count(world.engine, AdClick, offer_id=second_id, invalid_reason="no_impression") == 1
    with Session(world.engine) as session:
        prefix = session.scalar(select(AdImpression.ip_prefix).filter_by(offer_id=first_id))
    assert prefix is None or prefix.endswith(".0/24") or "/" in prefix


def test_expired_and_foreign_tokens_are_refused(client: TestClient) -> None:
    offer = OfferToken("0" * 32, 1, 1, "")
    signer = TokenSigner(TEST_SECRET_KEY)
    expired = signer.click_token(offer, issued_at=time.time() - 3 * 3600)
    response = client.get(f"/c/{expired}", follow_redirects=False)
    assert response.status_code == 400 and "expired" in response.json()["error"]["message"]
    foreign = TokenSigner("another-secret").click_token(offer)
    assert client.get(f"/c/{foreign}", follow_redirects=False).status_code == 400
    # An impression token is not a click token, and a forged field breaks the signature.
    impression = signer.impression_token(offer)
    assert client.get(f"/c/{impression}", follow_redirects=False).status_code == 400
    assert client.get(f"/i/{impression.replace('.1.1.', '.2.1.')}").status_code == 400
    assert client.get("/i/not-a-token").status_code == 400


def test_fragment_shows_labelled_ads(client: TestClient, world: World) -> None:
    response = client.get("/fragment/feed")
    assert response.status_code == 200
    html = response.text
    assert html.count('data-kind="ad"') == 2
    assert "広告" in html
    assert any(name in html for name in world.shop_names.values())
    assert "/c/" in html and "/i/" in html


def test_the_feed_limit_is_read_from_the_raw_query_string() -> None:
    assert feed_limit(b"") == DEFAULT_LIMIT
    assert feed_limit(b"limit=7") == 7
    assert feed_limit(b"limit=3&limit=12") == 12  # the last one, as Starlette's query_params
    assert feed_limit(b"other=1&limit=%32") == 2
    for bad in (b"limit=0", b"limit=51", b"limit=abc", b"limit=-1", b"limit=1.5"):
        for _ in range(2):  # the second time from the parsed-once cache, refused all the same
            with pytest.raises(LimitError, match="limit は 1 から 50"):
                feed_limit(bad)
    long_query = b"limit=9&pad=" + b"x" * 500
    assert feed_limit(long_query) == 9
    assert long_query not in delivery_routes._limits  # only short query strings are kept


@pytest.mark.parametrize("prefix", ["", "/marketplace", '/広告"\\\\x'])
def test_the_feed_body_is_valid_json_whatever_the_mount_prefix(prefix: str) -> None:
    signer = TokenSigner("k" * 40)
    ad = factories.ad(7, headline='「秋」の"限定"メニュー\\n')
    impression, click = signer.tokens(OfferToken("ab" * 16, 7, 7, "cd" * 16))
    served = ServedFeed(
        items=(factories.article(1), ServedAd(AdSlot(ad, 2, "ab" * 16), impression, click)),
        personalized=True,
        ads_suppressed=False,
    )
    request = Request({"type": "http", "root_path": prefix, "headers": []})
    body = json.loads(feed_body(request, served, 'model "x"'))
    assert body["relevance_model"] == 'model "x"' and body["personalized"] is True
    assert [item["type"] for item in body["items"]] == ["article", "ad"]
    assert body["items"][1]["headline"] == ad.headline
    assert body["items"][1]["click_url"] == f"{prefix}/c/{click}"
    assert body["items"][1]["impression_url"] == f"{prefix}/i/{impression}"


def test_the_feed_says_delivery_is_not_ready_before_the_service_starts(app: Starlette) -> None:
    """Without the startup hook (no lifespan) there is no delivery service yet."""
    waiting = TestClient(app, base_url="https://testserver")  # not entered: no lifespan
    answer = waiting.get("/api/feed")
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "delivery_unavailable"
    assert "準備中" in answer.json()["error"]["message"]
