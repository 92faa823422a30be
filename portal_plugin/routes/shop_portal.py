"""The shop's pages: dashboard, availability, the booking wizard and booking details."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from marketplace.audit import Actor
from marketplace.booking_controls import ASSIGNABLE, assign_creative
from marketplace.booking_requests import parse_booking_request, parse_idempotency_key
from marketplace.bookings import (
    cancel_booking,
    confirm_booking,
    place_hold,
    quote_booking,
    shop_booking,
)
from marketplace.calendar import TOKYO, tokyo_date
from marketplace.cancellation import NOTICE_DAYS
from marketplace.db import utcnow
from marketplace.errors import InvalidInput, MarketplaceError
from marketplace.models import Placement
from marketplace.placements import list_placements
from marketplace.queries import (
    calendars,
    cancellation_preview,
    creative_summaries,
    dashboard,
    effective_status,
    upcoming_mondays,
)
from marketplace.targeting import ALLOWED_VALUES, DIMENSION_LABELS
from marketplace.vocab import DISTRICTS
from portal_plugin.auth import require_shop
from portal_plugin.marketplace_web import (
    BOOKING_STATUS_LABELS,
    CREATIVE_STATUS_LABELS,
    form_data,
    localize,
    path_id,
    run,
    shop_actor,
    shop_of,
    status_code,
    targeting_from_form,
)
from portal_plugin.web import plugin_path, render

TARGETING_CHOICES = {
    name: sorted(values) if name != "districts" else list(DISTRICTS)
    for name, values in ALLOWED_VALUES.items()
}


def _page(request: Request, template: str, values: dict[str, Any], status: int = 200) -> Response:
    values.setdefault("booking_labels", BOOKING_STATUS_LABELS)
    values.setdefault("creative_labels", CREATIVE_STATUS_LABELS)
    values.setdefault("districts", DISTRICTS)
    return render(request, template, values, status_code=status)


def _error_page(request: Request, exc: MarketplaceError) -> Response:
    return _page(request, "shop/message.html", {"error": localize(exc)}, status_code(exc))


@require_shop
async def dashboard_page(request: Request) -> Response:
    data = await run(request, dashboard, shop_of(request).shop_id)
    now = utcnow()
    return _page(
        request,
        "shop/dashboard.html",
        {
            "data": data,
            "now": now,
            "status_of": lambda booking: effective_status(booking, now),
            "welcome": request.query_params.get("welcome") == "1",
        },
    )


@require_shop
async def availability_page(request: Request) -> Response:
    grid = await run(request, calendars, utcnow(), 12)
    return _page(request, "shop/availability.html", {"grid": grid})


def _wizard_values(session: Any, shop_id: int) -> dict[str, Any]:
    return {
        "placements": list_placements(session, active_only=True),
        "creatives": creative_summaries(session, shop_id),
    }


@require_shop
async def book_page(request: Request) -> Response:
    values = await run(request, _wizard_values, shop_of(request).shop_id)
    values.update(
        mondays=upcoming_mondays(tokyo_date(utcnow())),
        choices=TARGETING_CHOICES,
        dimension_labels=DIMENSION_LABELS,
        chosen=dict(request.query_params),
    )
    return _page(request, "shop/book.html", values)


def _request_from_query(request: Request) -> tuple[dict[str, Any], dict[str, list[str]]]:
    data: dict[str, Any] = {}
    targeting: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        if key.startswith("targeting."):
            targeting.setdefault(key.removeprefix("targeting."), []).append(value)
        else:
            data[key] = value
    return data, targeting


@require_shop
async def quote_page(request: Request) -> Response:
    shop = shop_of(request)
    data, targeting = _request_from_query(request)
    now = utcnow()
    try:
        booking_request = parse_booking_request(data, tokyo_date(now), targeting)
        priced = await run(request, quote_booking, shop.shop_id, booking_request, now)
    except MarketplaceError as exc:
        values = await run(request, _wizard_values, shop.shop_id)
        values.update(
            mondays=upcoming_mondays(tokyo_date(now)),
            choices=TARGETING_CHOICES,
            dimension_labels=DIMENSION_LABELS,
            chosen=data,
            chosen_targeting=targeting,
            error=localize(exc),
            error_field=exc.field,
        )
        return _page(request, "shop/book.html", values, status_code(exc))
    return _page(
        request,
        "shop/quote.html",
        {
            "req": booking_request,
            "priced": priced,
            "targeting": booking_request.targeting.to_json(),
            "dimension_labels": DIMENSION_LABELS,
            # A fresh key per quote page: submitting this page twice books once.
            "idempotency_key": uuid.uuid4().hex,
        },
    )


@require_shop
async def hold(request: Request) -> Response:
    shop = shop_of(request)
    data = await form_data(request)
    now = utcnow()
    try:
        booking_request = parse_booking_request(data, tokyo_date(now), targeting_from_form(data))
        key = parse_idempotency_key(data.get("idempotency_key"))
        booking = await run(
            request, place_hold, shop.shop_id, booking_request, key, user_id=shop.user_id, now=now
        )
    except MarketplaceError as exc:
        return _error_page(request, exc)
    return RedirectResponse(plugin_path(request, "shop_booking", id=booking.id), status_code=303)


def _booking_view(session: Any, shop_id: int, booking_id: int) -> dict[str, Any]:
    booking = shop_booking(session, shop_id, booking_id)
    return {
        "booking": booking,
        "placement": session.get(Placement, booking.placement_id),
        "creatives": creative_summaries(session, shop_id),
        "assignable": booking.status in ASSIGNABLE,
    }


@require_shop
async def booking_page(request: Request) -> Response:
    try:
        values = await run(request, _booking_view, shop_of(request).shop_id, path_id(request))
    except MarketplaceError as exc:
        return _error_page(request, exc)
    now = utcnow()
    expires = values["booking"].hold_expires_at
    values.update(
        hold_expires_local=expires.astimezone(TOKYO) if expires else None,
        status=effective_status(values["booking"], now),
        terms=cancellation_preview(values["booking"], now),
        notice_days=NOTICE_DAYS,
        dimension_labels=DIMENSION_LABELS,
    )
    return _page(request, "shop/booking.html", values)


@require_shop
async def confirm(request: Request) -> Response:
    shop = shop_of(request)
    try:
        await run(
            request,
            confirm_booking,
            path_id(request),
            shop_id=shop.shop_id,
            actor=shop_actor(request),
        )
    except MarketplaceError as exc:
        return _error_page(request, exc)
    return RedirectResponse(
        plugin_path(request, "shop_booking", id=path_id(request)), status_code=303
    )


@require_shop
async def choose_creative(request: Request) -> Response:
    shop = shop_of(request)
    data = await form_data(request)
    raw = str(data.get("creative_id", ""))
    try:
        if not raw.isdigit():
            raise InvalidInput("広告素材を選んでください", field="creative_id")
        await run(
            request,
            assign_creative,
            shop.shop_id,
            path_id(request),
            int(raw),
            shop_actor(request),
        )
    except MarketplaceError as exc:
        return _error_page(request, exc)
    return RedirectResponse(
        plugin_path(request, "shop_booking", id=path_id(request)), status_code=303
    )


def _cancel(session: Any, booking_id: int, actor: Actor, shop_id: int, reason: str) -> None:
    cancel_booking(session, booking_id, actor, shop_id=shop_id, reason=reason)


@require_shop
async def cancel(request: Request) -> Response:
    shop = shop_of(request)
    data = await form_data(request)
    try:
        await run(
            request,
            _cancel,
            path_id(request),
            shop_actor(request),
            shop.shop_id,
            str(data.get("reason", ""))[:1000],
        )
    except MarketplaceError as exc:
        return _error_page(request, exc)
    return RedirectResponse(
        plugin_path(request, "shop_booking", id=path_id(request)), status_code=303
    )


routes = [
    Route("/shop/", dashboard_page, methods=["GET"], name="shop_dashboard"),
    Route("/shop/availability", availability_page, methods=["GET"], name="shop_availability"),
    Route("/shop/book", book_page, methods=["GET"], name="shop_book"),
    Route("/shop/book/quote", quote_page, methods=["GET"], name="shop_quote"),
    Route("/shop/bookings", hold, methods=["POST"], name="shop_hold"),
    Route("/shop/bookings/{id:int}", booking_page, methods=["GET"], name="shop_booking"),
    Route("/shop/bookings/{id:int}/confirm", confirm, methods=["POST"], name="shop_confirm"),
    Route("/shop/bookings/{id:int}/cancel", cancel, methods=["POST"], name="shop_cancel"),
    Route(
        "/shop/bookings/{id:int}/creative",
        choose_creative,
        methods=["POST"],
        name="shop_booking_creative",
    ),
]
