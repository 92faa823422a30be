"""Feed JSON API and ad tracking: `/api/feed`, `/i/{token}` (impression), `/c/{token}` (click)."""

from __future__ import annotations

from collections.abc import Sequence
from time import perf_counter
from urllib.parse import parse_qsl

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from marketplace.delivery.feed_policy import AD_LABEL
from marketplace.delivery.house import HOUSE_LABEL
from marketplace.delivery.service import (
    DEFAULT_FEED_LIMIT,
    MAX_FEED_LIMIT,
    DeliveryService,
    ServedAd,
    ServedFeed,
    ServedHouse,
    TrackingContext,
    TrackingRefused,
)
from marketplace.delivery.tracking import (
    CLICK_RATE_RULES,
    OfferToken,
    address_prefix,
    anonymise_ip,
    is_bot,
)
from marketplace.delivery.types import ANONYMOUS, AdCandidate, Audience, FeedArticle
from marketplace.flyers.links import is_internal
from portal_plugin.auth import current_staff
from portal_plugin.client_address import client_host
from portal_plugin.context import context
from portal_plugin.delivery_runtime import delivery_service
from portal_plugin.errors import error_json
from portal_plugin.fast_path import AsgiEndpoint
from portal_plugin.resident_links import resident_links
from portal_plugin.routes.residents import ResidentRefused, resolve_resident
from portal_plugin.security.headers import security_header_pairs
from portal_plugin.web import json_error

MAX_LIMIT = MAX_FEED_LIMIT
DEFAULT_LIMIT = DEFAULT_FEED_LIMIT


class LimitError(ValueError):
    pass


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise LimitError(f"limit は 1 から {MAX_LIMIT} までの整数で指定してください")
    return int(raw)


def audience_of(request: Request) -> Audience:
    """The viewer; an untrusted or missing token gives the anonymous feed, never an error."""
    try:
        identity = resolve_resident(request)
    except ResidentRefused:
        return ANONYMOUS
    if identity is None:
        return ANONYMOUS
    return Audience(
        key=identity.external_id,
        age_band=identity.age_band.value if identity.age_band else None,
        household=identity.household.value if identity.household else None,
        district=identity.district,
        interests=identity.interests,
        consent=identity.personalization_consent,
    )


def delivery_unavailable() -> Response:
    return json_error(503, "delivery_unavailable", "配信サービスを準備中です")


def service_or_error(request: Request) -> DeliveryService | Response:
    service = delivery_service(context(request))
    return delivery_unavailable() if service is None else service


def article_fields(article: FeedArticle) -> dict[str, object]:
    return {
        "type": "article",
        "id": article.article_id,
        "title": article.title,
        "summary": article.summary,
        "url": article.url,
        "category": article.category,
        "priority": article.priority.value,
    }


def flyer_dates(ad: AdCandidate) -> dict[str, str]:
    """A flyer's 特売期間 as ISO dates, for hosts that draw their own card."""
    if ad.sale_from is None or ad.sale_until is None:
        return {}
    return {"sale_from": ad.sale_from.isoformat(), "sale_until": ad.sale_until.isoformat()}


def ad_fields(prefix: str, item: ServedAd) -> dict[str, object]:
    """An ad as its offer shows it: the creative, its position, image and tracking links."""
    ad = item.slot.ad
    return {
        "type": "ad",
        "label": AD_LABEL,
        "kind": ad.kind,
        "shop_name": ad.shop_name,
        "headline": ad.headline,
        "body": ad.body,
        **flyer_dates(ad),
        "position": item.slot.position,
        "image": image_fields(prefix, ad),
        "click_url": f"{prefix}/c/{item.click_token}",
        "impression_url": f"{prefix}/i/{item.impression_token}",
    }


def image_fields(prefix: str, ad: AdCandidate) -> dict[str, object] | None:
    """The approved image as the card shows it (see portal_plugin/ad_cards.py), or None."""
    if ad.image_width <= 0 or ad.image_height <= 0:
        return None
    return {
        "url": f"{prefix}/creative-images/{ad.creative_version_id}",
        "width": ad.image_width,
        "height": ad.image_height,
        "alt": ad.headline,
    }


def house_fields(prefix: str, item: ServedHouse) -> dict[str, object]:
    """A city house ad: labelled as the city's, linking straight to its page (no click count)."""
    house = item.slot.house
    return {
        "type": "house",
        "position": item.slot.position,
        "label": HOUSE_LABEL,
        "headline": house.headline,
        "body": house.body,
        "url": house.link_url,
        "impression_url": f"{prefix}/h/{item.view_token}",
    }


def item_fields(prefix: str, item: FeedArticle | ServedAd | ServedHouse) -> dict[str, object]:
    if isinstance(item, ServedAd):
        return ad_fields(prefix, item)
    if isinstance(item, ServedHouse):
        return house_fields(prefix, item)
    return article_fields(item)


def feed_body(
    request: Request,
    feed: ServedFeed,
    model: str,
    side: Sequence[ServedAd | ServedHouse] | None = None,
) -> bytes:
    """The feed as JSON: {"personalized", "ads_suppressed", "relevance_model", "items": [...],
    "links": {...}}, plus {"slots": {"side": [...]}} when the gadget column's cards were asked
    for. `links` are the pages the host shows residents (resident_links.py)."""
    prefix = request.scope.get("root_path", "")
    body: dict[str, object] = {
        "personalized": feed.personalized,
        "ads_suppressed": feed.ads_suppressed,
        "relevance_model": model,
        "items": [item_fields(prefix, item) for item in feed.items],
        "links": resident_links(prefix),
    }
    if side is not None:
        body["slots"] = {"side": [item_fields(prefix, item) for item in side]}
    return orjson.dumps(body)


_FEED_ITEMS = {"type": "array", "items": {"$ref": "#/components/schemas/FeedItem"}}
# The feed's part of the OpenAPI document (routes/openapi.py); items are described in
# docs/delivery.md, field by field.
FEED_SCHEMAS: dict[str, object] = {
    "FeedItem": {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"type": "string", "enum": ["article", "ad", "house"]}},
    },
    "FeedLink": {
        "type": "object",
        "required": ["url", "label"],
        "properties": {"url": {"type": "string"}, "label": {"type": "string"}},
    },
    "Feed": {
        "type": "object",
        "required": ["personalized", "ads_suppressed", "relevance_model", "items", "links"],
        "properties": {
            "personalized": {"type": "boolean"},
            "ads_suppressed": {"type": "boolean"},
            "relevance_model": {"type": "string"},
            "items": _FEED_ITEMS,
            "slots": {"type": "object", "properties": {"side": _FEED_ITEMS}},
            "links": {
                "type": "object",
                "required": ["about_ads", "transparency", "my_data"],
                "properties": {
                    key: {"$ref": "#/components/schemas/FeedLink"}
                    for key in ("about_ads", "transparency", "my_data")
                },
            },
        },
    },
}


class SlotsError(ValueError):
    pass


SURFACES = ("side",)


def wants_side(query_string: bytes) -> bool:
    """Whether `slots=side` asks for the gadget column's cards too; SlotsError otherwise."""
    if b"slots" not in query_string:  # most feeds: no parsing at all
        return False
    values = [v for k, v in parse_qsl(query_string.decode("latin-1"), True) if k == "slots"]
    asked = {part.strip() for value in values for part in value.split(",") if part.strip()}
    if asked - set(SURFACES):
        raise SlotsError("slots には side(ガジェット欄)を指定できます")
    return "side" in asked


def feed_limit(query_string: bytes) -> int:
    """The `limit` in a raw query string (the last one wins, as in Starlette); LimitError."""
    values = [v for k, v in parse_qsl(query_string.decode("latin-1"), True) if k == "limit"]
    return parse_limit(values[-1] if values else None)


FEED_HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]


async def api_feed(scope: Scope, receive: Receive, send: Send) -> None:
    """`GET /api/feed` as a plain ASGI app (see fast_path.py): no Request body, no Response
    object, the headers prepared once.
    ---
    summary: The resident's blended feed (articles, ads, the city's notices) and the links to show
    description: >-
      The resident comes from X-Portal-Resident; without a valid token, the anonymous feed.
      `links` are the plugin's pages the host shows residents near the feed: how ads work
      (about_ads), where the ad money goes (transparency) and the resident's own data (my_data),
      each with its URL under the plugin's prefix and its Japanese link text.
    parameters:
      - {name: limit, in: query, required: false, schema: {type: integer, minimum: 1, maximum: 50}}
      - {name: slots, in: query, required: false, schema: {type: string, enum: [side]}}
    responses:
      200:
        description: The feed
        content: {application/json: {schema: {$ref: "#/components/schemas/Feed"}}}
      422: {description: Invalid limit or slots, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
      503: {description: Delivery is starting, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
    """
    started = perf_counter()
    query_string = scope.get("query_string", b"")
    try:
        limit = feed_limit(query_string)
        side = wants_side(query_string)
    except (LimitError, SlotsError) as exc:
        field = "limit" if isinstance(exc, LimitError) else "slots"
        invalid = json_error(
            422, "validation_error", str(exc), fields=[{"field": field, "message": str(exc)}]
        )
        await invalid(scope, receive, send)
        return
    request = Request(scope, receive)
    ctx = context(request)
    service = delivery_service(ctx)
    if service is None:
        await delivery_unavailable()(scope, receive, send)
        return
    audience = audience_of(request)
    client, ads = served_client(request, service, audience)
    feed = service.feed(audience, limit, client=client, ads=ads)
    body = feed_body(
        request,
        feed,
        service.relevance_model,
        service.side(audience, client=client, ads=ads) if side else None,
    )
    headers = [
        *FEED_HEADERS,
        (b"content-length", str(len(body)).encode()),
        *security_header_pairs(ctx.settings.session_cookie_secure),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    ctx.metrics.feed_seconds.observe(perf_counter() - started)


def served_client(
    request: Request, service: DeliveryService, audience: Audience
) -> tuple[str, bool]:
    """The client's key for the offers' tokens, and whether its feed may carry ads: an
    anonymous feed does only within its address's budget (`AddressBudget`, per worker); over
    it the feed is articles only (200, no offer, no slot counted)."""
    prefix = address_prefix(client_host(request, context(request).settings.forwarded_allow_ips))
    client = service.client_key(prefix, request.headers.get("user-agent", ""))
    if audience.key is not None:
        return client, True
    return client, service.anonymous_feeds.take(prefix)


def tracking_context(
    request: Request, service: DeliveryService, offer: OfferToken, *, click: bool
) -> TrackingContext:
    ctx = context(request)
    host = client_host(request, ctx.settings.forwarded_allow_ips)
    ip_prefix = anonymise_ip(host)
    limiter = ctx.rate_limiter
    rules = CLICK_RATE_RULES if click else service.limits.impression_rules
    limited = not limiter.hit(rules, "ad-ip", ip_prefix or "unknown")
    if offer.resident_key:
        limited = not limiter.hit(rules, "ad-resident", offer.resident_key) or limited
    elif not click:  # anonymous: what one address adds to one booking
        per_booking = limiter.hit(
            service.limits.booking_rules,
            "ad-ip-booking",
            ip_prefix or "unknown",
            str(offer.booking_id),
        )
        limited = not per_booking or limited
    staff = "session" in request.scope and current_staff(request) is not None
    user_agent = request.headers.get("user-agent")
    return TrackingContext(
        bot=is_bot(user_agent),
        staff=staff,
        rate_limited=limited,
        ip_prefix=ip_prefix,
        client_key=service.client_key(address_prefix(host), user_agent or ""),
    )


def refused(exc: TrackingRefused) -> Response:
    """JSON for every caller: pixels and redirects, not pages."""
    return error_json(exc)


async def impression(request: Request) -> Response:
    service = service_or_error(request)
    if isinstance(service, Response):
        return service
    try:
        offer = service.read_impression(request.path_params["token"])
        tracking = tracking_context(request, service, offer, click=False)
        service.impression(offer, tracking)
    except TrackingRefused as exc:
        return refused(exc)
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


async def house_view(request: Request) -> Response:
    """A city house ad's view pixel: counted once, for the city's own figures only."""
    service = service_or_error(request)
    if isinstance(service, Response):
        return service
    try:
        service.house_view(request.path_params["token"], is_bot(request.headers.get("user-agent")))
    except TrackingRefused as exc:
        return refused(exc)
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


async def click(request: Request) -> Response:
    service = service_or_error(request)
    if isinstance(service, Response):
        return service
    try:
        offer = service.read_click(request.path_params["token"])
        tracking = tracking_context(request, service, offer, click=True)
        # May look up the impression in the database (a read), so off the event loop.
        landing = await run_in_threadpool(service.click, offer, tracking)
    except TrackingRefused as exc:
        return refused(exc)
    if is_internal(landing):  # the shop's page or a flyer's viewer, under the host's prefix
        landing = request.scope.get("root_path", "") + landing
    return RedirectResponse(landing, status_code=302, headers={"Cache-Control": "no-store"})


# Served by portal_plugin.fast_path (no session, language or CSRF layers); the route stays for
# url_for, for other methods (405) and in case the middleware is not installed.
FAST_ENDPOINTS: dict[str, ASGIApp] = {"/api/feed": api_feed}

routes = [
    Route("/api/feed", AsgiEndpoint(api_feed), methods=["GET"], name="api_feed"),
    Route("/i/{token}", impression, methods=["GET"], name="ad_impression"),
    Route("/c/{token}", click, methods=["GET"], name="ad_click"),
    Route("/h/{token}", house_view, methods=["GET"], name="house_ad_view"),
]
