from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.testclient import TestClient

from marketplace.audit import Actor
from marketplace.delivery.feed_policy import AdSlot
from marketplace.delivery.models import AdClick, AdImpression, AdOffer
from marketplace.delivery.service import ServedAd, ServedFeed
from marketplace.delivery.tracking import AddressBudget, OfferToken, TokenSigner
from marketplace.lifecycle import ActorKind
from marketplace.models import Booking, CreativeVersion
from marketplace.switches import set_disaster_mode
from portal_plugin.routes.delivery import DEFAULT_LIMIT, LimitError, feed_body, feed_limit
from tests.support import delivery_factories
from tests.support.delivery_world import (
    World,
    build_world,
    running_delivery_service,
    world_client,
)
from tests.support.settings import TEST_SECRET_KEY


@pytest.fixture
def world(world_engine: Engine) -> World:
    return build_world(world_engine)


@pytest.fixture
def client(world: World, tmp_path: Path) -> Iterator[TestClient]:
    with world_client(world, tmp_path / "spool", delivery_refresh_seconds=0.2) as client:
        yield client


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
    assert running_delivery_service(client).writer.flush()
    token_offer = (
        running_delivery_service(client).read_click(ad["click_url"].rsplit("/", 1)[1]).offer_id
    )
    assert count(world.engine, AdOffer, id=token_offer) == 1
    assert count(world.engine, AdImpression, offer_id=token_offer, valid=True) == 1
    assert count(world.engine, AdClick, offer_id=token_offer, valid=True) == 1


def test_invalid_traffic_is_recorded_with_a_reason(client: TestClient, world: World) -> None:
    first, second = ads(feed(client))
    bot = client.get(first["impression_url"], headers={"User-Agent": "Googlebot/2.1"})
    assert bot.status_code == 204
    # A click without an impression still redirects, but is never billable.
    assert client.get(second["click_url"], follow_redirects=False).status_code == 302
    assert running_delivery_service(client).writer.flush()
    signer = running_delivery_service(client)
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
        with pytest.raises(LimitError, match="limit は 1 から 50"):
            feed_limit(bad)
    assert feed_limit(b"limit=9&pad=" + b"x" * 500) == 9


@pytest.mark.parametrize("prefix", ["", "/marketplace", '/広告"\\\\x'])
def test_the_feed_body_is_valid_json_whatever_the_mount_prefix(prefix: str) -> None:
    signer = TokenSigner("k" * 40)
    ad = delivery_factories.ad(7, headline='「秋」の"限定"メニュー\\n')
    impression, click = signer.tokens(OfferToken("ab" * 16, 7, 7, "cd" * 16))
    served = ServedFeed(
        items=(
            delivery_factories.article(1),
            ServedAd(AdSlot(ad, 2, "ab" * 16), impression, click),
        ),
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
    # The pages the host shows residents near the feed, under the same prefix (issue 17).
    assert body["links"] == {
        "about_ads": {"url": f"{prefix}/about-ads", "label": "広告について"},
        "transparency": {"url": f"{prefix}/transparency", "label": "広告の収入と使いみち"},
        "my_data": {"url": f"{prefix}/me", "label": "あなたのデータ"},
    }


def test_the_feed_says_delivery_is_not_ready_before_the_service_starts(app: Starlette) -> None:
    """Without the startup hook (no lifespan) there is no delivery service yet."""
    waiting = TestClient(app, base_url="https://testserver")  # not entered: no lifespan
    answer = waiting.get("/api/feed")
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "delivery_unavailable"
    assert "準備中" in answer.json()["error"]["message"]


def test_an_ad_without_a_website_leads_to_its_shop_page_after_a_counted_click(
    client: TestClient, world: World, resident_token: Callable[..., str]
) -> None:
    with Session(world.engine) as session, session.begin():
        session.execute(update(CreativeVersion).values(landing_url=""))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        snapshot = running_delivery_service(client).snapshot
        if all(not url.startswith("https") for url in snapshot.landing_urls.values()):
            break
        time.sleep(0.1)
    ad = ads(feed(client, resident_token("r-no-site")))[0]
    assert ad["kind"] == "ad"
    assert client.get(ad["impression_url"]).status_code == 204
    click = client.get(ad["click_url"], follow_redirects=False)
    assert click.status_code == 302
    offer = running_delivery_service(client).read_click(ad["click_url"].rsplit("/", 1)[1])
    with Session(world.engine) as session:
        shop_id = session.get_one(Booking, offer.booking_id).shop_id
    assert click.headers["location"] == f"/shops/{shop_id}"
    assert running_delivery_service(client).writer.flush()
    assert count(world.engine, AdClick, offer_id=offer.offer_id, valid=True) == 1


# Issue 16 item 4: one address cannot inflate a chosen shop's valid impressions. The review's
# script: anonymous feeds as fast as possible with a browser User-Agent, every impression pixel
# loaded from the same address; on main it made 110 valid impressions in under a second.
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
# The default limits (tracking.TrafficLimits: 10 valid anonymous impressions a minute per
# address and booking; 60 anonymous feeds with ads a minute per address and worker; 30 min).
PER_BOOKING_PER_MINUTE = 10
FEEDS_WITH_ADS_PER_MINUTE = 60
IMPRESSION_MAX_AGE_SECONDS = 30 * 60


def impressions_by_booking(engine: Engine, valid: bool) -> Counter[int]:
    with Session(engine) as session:
        rows = session.execute(
            select(AdImpression.booking_id, func.count())
            .where(AdImpression.valid.is_(valid))
            .group_by(AdImpression.booking_id)
        ).all()
    return Counter({booking: count for booking, count in rows})


def offer_id(client: TestClient, pixel_url: str) -> str:
    return running_delivery_service(client).read_impression(pixel_url.rsplit("/", 1)[1]).offer_id


def test_the_review_script_cannot_inflate_a_rivals_valid_impressions(
    client: TestClient, world: World
) -> None:
    headers = {"User-Agent": BROWSER}
    valid_before = impressions_by_booking(world.engine, valid=True)
    invalid_before = impressions_by_booking(world.engine, valid=False)
    pixels: list[str] = []
    feeds_with_ads = 0
    for _ in range(200):
        response = client.get("/api/feed", params={"limit": 10}, headers=headers)
        assert response.status_code == 200  # a host's page never breaks on the limit
        placed = ads(response.json())
        feeds_with_ads += bool(placed)
        pixels += [ad["impression_url"] for ad in placed]
    # Anonymous feeds carry ads only within the address's budget (one worker here).
    assert 0 < feeds_with_ads <= FEEDS_WITH_ADS_PER_MINUTE
    for url in pixels:
        assert client.get(url, headers=headers).status_code == 204
    assert running_delivery_service(client).writer.flush()

    valid = impressions_by_booking(world.engine, valid=True) - valid_before
    invalid = impressions_by_booking(world.engine, valid=False) - invalid_before
    assert valid, "the first of them are real impressions and count"
    assert max(valid.values()) <= PER_BOOKING_PER_MINUTE
    # Everything over the limit is recorded, as invalid (rate_limited), never as valid (a batch
    # the database refused under load waits in the spool: at most all of them are stored).
    assert sum(valid.values()) + sum(invalid.values()) <= len(pixels)
    assert sum(invalid.values()) > 0
    with Session(world.engine) as session:
        reasons = set(
            session.scalars(
                select(AdImpression.invalid_reason).where(
                    AdImpression.offer_id.in_([offer_id(client, url) for url in pixels])
                )
            )
        )
    assert reasons == {None, "rate_limited"}


def test_an_impression_from_another_client_is_not_valid(client: TestClient, world: World) -> None:
    served = client.get("/api/feed", headers={"User-Agent": BROWSER})
    first, second = ads(served.json())[:2]
    other = BROWSER.replace("Chrome/131", "Chrome/130")
    assert client.get(first["impression_url"], headers={"User-Agent": other}).status_code == 204
    assert client.get(second["impression_url"], headers={"User-Agent": BROWSER}).status_code == 204
    assert running_delivery_service(client).writer.flush()
    first_id = offer_id(client, first["impression_url"])
    second_id = offer_id(client, second["impression_url"])
    with Session(world.engine) as session:
        rows = {
            offer: reason
            for offer, reason in session.execute(
                select(AdImpression.offer_id, AdImpression.invalid_reason).where(
                    AdImpression.offer_id.in_([first_id, second_id])
                )
            )
        }
    assert rows == {first_id: "other_client", second_id: None}


def test_a_host_fetching_the_feed_names_the_browser_it_serves(
    client: TestClient, world: World
) -> None:
    """A host that fetches the feed server-side (from a FORWARDED_ALLOW_IPS address) forwards
    the browser's address and User-Agent; the browser's own pixel then matches the client
    served. The same forwarding from an untrusted peer names no one."""
    host = TestClient(client.app, client=("127.0.0.1", 40000))
    browser = TestClient(client.app, client=("203.0.113.7", 50000))
    stranger = TestClient(client.app, client=("198.51.100.9", 50000))
    forwarded = {"User-Agent": BROWSER, "X-Forwarded-For": "203.0.113.7"}
    trusted = ads(host.get("/api/feed", headers=forwarded).json())[0]
    spoofed = ads(stranger.get("/api/feed", headers=forwarded).json())[0]
    for item in (trusted, spoofed):
        pixel = browser.get(item["impression_url"], headers={"User-Agent": BROWSER})
        assert pixel.status_code == 204
    assert running_delivery_service(client).writer.flush()
    ids = {offer_id(client, item["impression_url"]): item for item in (trusted, spoofed)}
    with Session(world.engine) as session:
        rows = session.execute(
            select(AdImpression.offer_id, AdImpression.invalid_reason).where(
                AdImpression.offer_id.in_(list(ids))
            )
        ).tuples()
        reasons = {offer: reason for offer, reason in rows}
    assert reasons == {
        offer_id(client, trusted["impression_url"]): None,
        offer_id(client, spoofed["impression_url"]): "other_client",
    }


def test_an_impression_token_expires_after_half_an_hour(client: TestClient) -> None:
    signer = TokenSigner(TEST_SECRET_KEY, IMPRESSION_MAX_AGE_SECONDS)
    stale = signer.impression_token(
        OfferToken("0" * 32, 1, 1, ""), issued_at=time.time() - IMPRESSION_MAX_AGE_SECONDS - 5
    )
    response = client.get(f"/i/{stale}")
    assert response.status_code == 400 and "expired" in response.json()["error"]["message"]


def test_the_address_budget_is_a_fixed_window_that_forgets_old_windows() -> None:
    budget = AddressBudget(2, window_seconds=60, max_keys=1)
    assert [budget.take("a", now=0) for _ in range(3)] == [True, True, False]
    assert budget.take("b", now=1)  # over max_keys: allowed, not remembered
    assert budget.take("b", now=1) and budget.take("b", now=1)
    assert budget.take("a", now=61)  # a new window
