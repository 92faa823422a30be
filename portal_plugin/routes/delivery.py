"""Feed JSON API and ad tracking: `/api/feed`, `/i/{token}` (impression), `/c/{token}` (click)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Generic, TypeVar
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from marketplace.delivery.feed_policy import AD_LABEL
from marketplace.delivery.service import (
    DEFAULT_FEED_LIMIT,
    MAX_FEED_LIMIT,
    DeliveryService,
    ServedAd,
    ServedFeed,
    TrackingContext,
    TrackingRefused,
)
from marketplace.delivery.tracking import (
    CLICK_RATE_RULES,
    IMPRESSION_RATE_RULES,
    OfferToken,
    anonymise_ip,
    is_bot,
)
from marketplace.delivery.types import ANONYMOUS, AdCandidate, Audience, FeedArticle
from portal_plugin.auth import current_staff
from portal_plugin.context import context
from portal_plugin.delivery_runtime import delivery_service
from portal_plugin.fast_path import AsgiEndpoint
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


T = TypeVar("T")


class EncodedOnce(Generic[T]):
    """JSON of immutable values (live articles, live ads), encoded (to UTF-8) once per value.

    Found by identity, without hashing the dataclass: the same snapshot objects appear in
    every feed. The value is kept in its entry, so its id cannot be reused meanwhile.
    """

    def __init__(self, fields: Callable[[T], dict[str, object]], size: int = 4096) -> None:
        self._fields = fields
        self._size = size
        self._encoded: dict[int, tuple[T, bytes]] = {}

    def __call__(self, value: T) -> bytes:
        cached = self._encoded.get(id(value))
        if cached is not None and cached[0] is value:
            return cached[1]
        encoded = json.dumps(
            self._fields(value), ensure_ascii=False, separators=(",", ":")
        ).encode()
        if len(self._encoded) >= self._size:
            self._encoded.clear()  # a new snapshot's objects replace the old ones
        self._encoded[id(value)] = (value, encoded)
        return encoded


article_json = EncodedOnce[FeedArticle](
    lambda article: {
        "type": "article",
        "id": article.article_id,
        "title": article.title,
        "summary": article.summary,
        "url": article.url,
        "category": article.category,
        "priority": article.priority.value,
    }
)
# An ad's fields that are the same in every offer; `ad_json` adds the offer's own.
_ad_fixed_json = EncodedOnce[AdCandidate](
    lambda ad: {
        "type": "ad",
        "label": AD_LABEL,
        "shop_name": ad.shop_name,
        "headline": ad.headline,
        "body": ad.body,
    }
)


@lru_cache(maxsize=64)
def _json_text(text: str) -> str:
    """A string's JSON encoding without its quotes (for the mount prefix, a handful of them)."""
    return json.dumps(text)[1:-1]


@lru_cache(maxsize=64)
def _feed_head(personalized: bool, ads_suppressed: bool, model: str) -> bytes:
    head = {
        "personalized": personalized,
        "ads_suppressed": ads_suppressed,
        "relevance_model": model,
    }
    return (json.dumps(head, separators=(",", ":"))[:-1] + ',"items":[').encode()


def ad_json(prefix: str, item: ServedAd) -> bytes:
    """An ad's JSON: its fixed fields encoded once, then this offer's position and tokens.

    Tracking tokens are hex, digits, dots and URL-safe base64: nothing JSON would escape.
    """
    urls = _json_text(prefix)
    offer = (
        f',"position":{item.slot.position:d},'
        f'"click_url":"{urls}/c/{item.click_token}",'
        f'"impression_url":"{urls}/i/{item.impression_token}"}}'
    )
    return _ad_fixed_json(item.slot.ad)[:-1] + offer.encode()


def feed_body(request: Request, feed: ServedFeed, model: str) -> bytes:
    """The feed as JSON: {"personalized", "ads_suppressed", "relevance_model", "items": [...]}.

    Built from UTF-8 pieces: the articles' are encoded once, so a feed is never encoded whole.
    """
    prefix = request.scope.get("root_path", "")
    items = b",".join(
        [
            ad_json(prefix, item) if isinstance(item, ServedAd) else article_json(item)
            for item in feed.items
        ]
    )
    return b"".join((_feed_head(feed.personalized, feed.ads_suppressed, model), items, b"]}"))


def feed_limit(query_string: bytes) -> int:
    """The `limit` in a raw query string (the last one wins, as in Starlette); LimitError."""
    found = _limits.get(query_string)
    if found is None:
        values = [v for k, v in parse_qsl(query_string.decode("latin-1"), True) if k == "limit"]
        found = _parsed_limit(values[-1] if values else None)
        if len(query_string) <= CACHED_QUERY_BYTES:
            if len(_limits) >= CACHED_QUERIES:
                _limits.clear()
            _limits[query_string] = found
    if isinstance(found, str):
        raise LimitError(found)  # a new one each time: a raised one keeps its traceback
    return found


def _parsed_limit(raw: str | None) -> int | str:
    """The limit, or why it is refused."""
    try:
        return parse_limit(raw)
    except LimitError as exc:
        return str(exc)


# Feeds repeat the same few query strings ("limit=10"): parsed once each.
CACHED_QUERIES = 256
CACHED_QUERY_BYTES = 64
_limits: dict[bytes, int | str] = {}
FEED_HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]


async def api_feed(scope: Scope, receive: Receive, send: Send) -> None:
    """`GET /api/feed` as a plain ASGI app (see fast_path.py): no Request body, no Response
    object, the headers prepared once."""
    try:
        limit = feed_limit(scope.get("query_string", b""))
    except LimitError as exc:
        invalid = json_error(
            422, "validation_error", str(exc), fields=[{"field": "limit", "message": str(exc)}]
        )
        await invalid(scope, receive, send)
        return
    request = Request(scope, receive)
    ctx = context(request)
    service = delivery_service(ctx)
    if service is None:
        await delivery_unavailable()(scope, receive, send)
        return
    feed = service.feed(audience_of(request), limit)
    body = feed_body(request, feed, service.relevance_model)
    headers = [
        *FEED_HEADERS,
        (b"content-length", str(len(body)).encode()),
        *security_header_pairs(ctx.settings.session_cookie_secure),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def tracking_context(request: Request, offer: OfferToken, rules: str) -> TrackingContext:
    ip_prefix = anonymise_ip(request.client.host if request.client else None)
    limiter = context(request).rate_limiter
    limited = not limiter.hit(rules, "ad-ip", ip_prefix or "unknown")
    if offer.resident_key:
        limited = not limiter.hit(rules, "ad-resident", offer.resident_key) or limited
    staff = "session" in request.scope and current_staff(request) is not None
    return TrackingContext(
        bot=is_bot(request.headers.get("user-agent")),
        staff=staff,
        rate_limited=limited,
        ip_prefix=ip_prefix,
    )


def refused(reason: str) -> Response:
    return json_error(400, "invalid_tracking_token", f"無効な計測トークンです: {reason}")


async def impression(request: Request) -> Response:
    service = service_or_error(request)
    if isinstance(service, Response):
        return service
    try:
        offer = service.read_impression(request.path_params["token"])
        service.impression(offer, tracking_context(request, offer, IMPRESSION_RATE_RULES))
    except TrackingRefused as exc:
        return refused(exc.reason)
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


async def click(request: Request) -> Response:
    service = service_or_error(request)
    if isinstance(service, Response):
        return service
    try:
        offer = service.read_click(request.path_params["token"])
        tracking = tracking_context(request, offer, CLICK_RATE_RULES)
        # May look up the impression in the database (a read), so off the event loop.
        landing = await run_in_threadpool(service.click, offer, tracking)
    except TrackingRefused as exc:
        return refused(exc.reason)
    return RedirectResponse(landing, status_code=302, headers={"Cache-Control": "no-store"})


# Served by portal_plugin.fast_path (no session, language or CSRF layers); the route stays for
# url_for, for other methods (405) and in case the middleware is not installed.
FAST_ENDPOINTS: dict[str, ASGIApp] = {"/api/feed": api_feed}

routes = [
    Route("/api/feed", AsgiEndpoint(api_feed), methods=["GET"], name="api_feed"),
    Route("/i/{token}", impression, methods=["GET"], name="ad_impression"),
    Route("/c/{token}", click, methods=["GET"], name="ad_click"),
]
