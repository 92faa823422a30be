"""The shop's pages: dashboard, availability, the booking wizard and booking details."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from billing.bookings import accept_invoice
from billing.errors import IssuerNotConfigured
from billing.models import PaymentMethod
from marketplace.audit import Actor
from marketplace.bookings.cancellation import NOTICE_DAYS
from marketplace.bookings.controls import ASSIGNABLE, assign_creative
from marketplace.bookings.requests import parse_booking_request, parse_idempotency_key
from marketplace.bookings.services import (
    cancel_booking,
    quote_booking,
    shop_booking,
)
from marketplace.calendar import TOKYO, tokyo_date
from marketplace.db import utcnow
from marketplace.delivery.layout import HostLayout
from marketplace.errors import InvalidInput, MarketplaceError
from marketplace.inventory.placements import get_placement, sellable_placements
from marketplace.inventory.targeting import ALLOWED_VALUES, DIMENSION_LABELS
from marketplace.queries import (
    booking_opening_for,
    calendars,
    cancellation_preview,
    creative_summaries,
    dashboard,
    effective_status,
)
from marketplace.vocab import DISTRICTS
from portal_plugin.auth import require_shop
from portal_plugin.billing_setup import billing_config, invoicing_unavailable, provider_for
from portal_plugin.context import context
from portal_plugin.delivery_view import delivery_view
from portal_plugin.errors import localize
from portal_plugin.labels import BOOKING_STATUS_LABELS, CREATIVE_STATUS_LABELS
from portal_plugin.marketplace_web import (
    form_data,
    hold_for_shop,
    host_layout,
    path_id,
    run,
    shop_actor,
    shop_of,
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
    grid = await run(request, calendars, utcnow(), 12, host=host_layout(request))
    return _page(request, "shop/availability.html", {"grid": grid})


def _wizard_values(
    session: Any, shop_id: int, host: HostLayout, chosen: dict[str, Any]
) -> dict[str, Any]:
    asked = str(chosen.get("placement_id", ""))
    opening = booking_opening_for(session, utcnow(), host, int(asked) if asked.isdigit() else None)
    return {
        "placements": sellable_placements(session, host),
        "opening": opening,
        "chosen": {
            **chosen,
            "placement_id": str(opening.placement_id or ""),
            "first_week": chosen.get("first_week") or str(opening.first_week or ""),
        },
        "creatives": creative_summaries(session, shop_id),
    }


@require_shop
async def book_page(request: Request) -> Response:
    values = await run(
        request,
        _wizard_values,
        shop_of(request).shop_id,
        host_layout(request),
        dict(request.query_params),
    )
    values.update(choices=TARGETING_CHOICES, dimension_labels=DIMENSION_LABELS)
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
        priced = await run(
            request,
            quote_booking,
            shop.shop_id,
            booking_request,
            now,
            host_layout(request),
            traffic=context(request).recent_traffic,
        )
    except MarketplaceError as exc:
        values = await run(request, _wizard_values, shop.shop_id, host_layout(request), data)
        values.update(
            choices=TARGETING_CHOICES,
            dimension_labels=DIMENSION_LABELS,
            chosen_targeting=targeting,
            error=localize(exc),
            error_field=exc.field,
        )
        return _page(request, "shop/book.html", values, exc.status)
    return _page(
        request,
        "shop/quote.html",
        {
            "req": booking_request,
            "priced": priced,
            "targeting": booking_request.targeting.to_json(),
            "dimension_labels": DIMENSION_LABELS,
            "host_cap": host_layout(request).frequency_cap,
            # A fresh key per quote page: submitting this page twice books once.
            "idempotency_key": uuid.uuid4().hex,
        },
    )


@require_shop
async def hold(request: Request) -> Response:
    data = await form_data(request)
    now = utcnow()
    booking_request = parse_booking_request(data, tokyo_date(now), targeting_from_form(data))
    key = parse_idempotency_key(data.get("idempotency_key"))
    booking = await hold_for_shop(request, booking_request, key, now)
    return RedirectResponse(plugin_path(request, "shop_booking", id=booking.id), status_code=303)


def _booking_view(
    session: Any, shop_id: int, booking_id: int, now: datetime, cap: int
) -> dict[str, Any]:
    booking = shop_booking(session, shop_id, booking_id)
    return {
        "booking": booking,
        "delivery": delivery_view(session, booking, now, cap),
        "placement": get_placement(session, booking.placement_id),
        "creatives": creative_summaries(session, shop_id),
        "assignable": booking.status in ASSIGNABLE,
    }


@require_shop
async def booking_page(request: Request) -> Response:
    now = utcnow()
    values = await run(
        request,
        _booking_view,
        shop_of(request).shop_id,
        path_id(request),
        now,
        host_layout(request).frequency_cap,
    )
    expires = values["booking"].hold_expires_at
    values.update(
        hold_expires_local=expires.astimezone(TOKYO) if expires else None,
        status=effective_status(values["booking"], now),
        terms=cancellation_preview(values["booking"], now),
        notice_days=NOTICE_DAYS,
        dimension_labels=DIMENSION_LABELS,
        # Card and konbini need Stripe; without it the only way to pay is the invoice above.
        stripe_online=provider_for(context(request)) is not None,
    )
    return _page(request, "shop/booking.html", values)


@require_shop
async def confirm(request: Request) -> Response:
    """Accept to pay by bank transfer: the hold is confirmed and the invoice issued at once."""
    shop = shop_of(request)
    try:
        invoice = await run(
            request,
            accept_invoice,
            billing_config(context(request).settings),
            path_id(request),
            shop_id=shop.shop_id,
            method=PaymentMethod.BANK_TRANSFER,
            actor=shop_actor(request),
        )
    except IssuerNotConfigured as exc:
        return _page(request, "shop/message.html", {"error": invoicing_unavailable(exc)}, 503)
    prefix = request.scope.get("root_path", "")
    return RedirectResponse(f"{prefix}/shop/billing/invoices/{invoice.number}", status_code=303)


@require_shop
async def choose_creative(request: Request) -> Response:
    shop = shop_of(request)
    data = await form_data(request)
    raw = str(data.get("creative_id", ""))
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
    return RedirectResponse(
        plugin_path(request, "shop_booking", id=path_id(request)), status_code=303
    )


def _cancel(session: Any, booking_id: int, actor: Actor, shop_id: int, reason: str) -> None:
    cancel_booking(session, booking_id, actor, shop_id=shop_id, reason=reason)


@require_shop
async def cancel(request: Request) -> Response:
    shop = shop_of(request)
    data = await form_data(request)
    await run(
        request,
        _cancel,
        path_id(request),
        shop_actor(request),
        shop.shop_id,
        str(data.get("reason", ""))[:1000],
    )
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
