"""The shops' JSON API: the same operations as the pages, authenticated with a shop API token
(`Authorization: Bearer pmk_…`) or a logged-in session (then with the X-CSRF-Token header).

Each endpoint's OpenAPI description is the YAML in its docstring; see routes/openapi.py.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from billing.bookings import accept_invoice
from billing.config import BillingConfig
from billing.models import Invoice, PaymentMethod
from marketplace.audit import Actor
from marketplace.bookings.controls import assign_creative
from marketplace.bookings.requests import (
    first_bookable_week,
    parse_booking_request,
    parse_first_week,
    parse_idempotency_key,
)
from marketplace.bookings.services import (
    active_placement,
    cancel_booking,
    quote_booking,
    shop_booking,
)
from marketplace.calendar import tokyo_date
from marketplace.creatives.services import create_creative
from marketplace.db import utcnow
from marketplace.errors import InvalidInput
from marketplace.inventory import stock
from marketplace.inventory.placements import sellable_placements
from marketplace.models import Booking
from marketplace.queries import creative_summaries, shop_bookings
from portal_plugin.auth import require_shop
from portal_plugin.billing_setup import billing_config
from portal_plugin.context import context
from portal_plugin.marketplace_json import (
    booking_json,
    creative_json,
    invoice_json,
    placement_json,
    quote_json,
    week_json,
)
from portal_plugin.marketplace_web import (
    current_policy,
    hold_for_shop,
    host_layout,
    path_id,
    run,
    shop_actor,
    shop_of,
)
from portal_plugin.routes.shop_creatives import parse_creative_form

MAX_CALENDAR_WEEKS = 26


async def json_object(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # not JSON, not UTF-8, nested or numbers too deep
        raise InvalidInput("JSONとして読み取れません", field="body") from None
    if not isinstance(body, dict):
        raise InvalidInput("JSONオブジェクトを送ってください", field="body")
    return body


@require_shop
async def placements(request: Request) -> Response:
    """
    summary: Placements on sale, with their creative rules and rate card
    security: [{shopToken: []}]
    responses:
      200:
        description: Active placements that the host's pages show (the ones that may be booked)
        content:
          application/json:
            schema: {type: object, required: [placements], properties: {placements: {type: array, items: {$ref: "#/components/schemas/Placement"}}}}
      401: {description: Not authenticated, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
    """
    found = await run(request, sellable_placements, host_layout(request))
    return JSONResponse({"placements": [placement_json(p) for p in found]})


def _calendar(session: Any, placement_id: int, first: Any, weeks: int) -> list[Any]:
    placement = active_placement(session, placement_id)
    return stock.availability(session, placement, stock.week_range(first, weeks), utcnow())


@require_shop
async def availability(request: Request) -> Response:
    """
    summary: Sold, held and free shares of one placement, week by week
    security: [{shopToken: []}]
    parameters:
      - {name: placement_id, in: query, required: true, schema: {type: integer, minimum: 1}}
      - {name: first_week, in: query, required: false, description: "A Monday (Asia/Tokyo); defaults to the first bookable week", schema: {type: string, format: date}}
      - {name: weeks, in: query, required: false, schema: {type: integer, minimum: 1, maximum: 26, default: 8}}
    responses:
      200:
        description: Availability
        content:
          application/json:
            schema: {type: object, required: [weeks], properties: {weeks: {type: array, items: {$ref: "#/components/schemas/Week"}}}}
      404: {description: No such placement, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
      422: {description: Invalid parameter, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
    """
    params = request.query_params
    today = tokyo_date(utcnow())
    raw_id, raw_weeks = params.get("placement_id", ""), params.get("weeks", "8")
    if not raw_id.isdigit() or not 1 <= int(raw_id) < 2**62:
        raise InvalidInput("広告枠を指定してください", field="placement_id")
    if not raw_weeks.isdigit() or not 1 <= int(raw_weeks) <= MAX_CALENDAR_WEEKS:
        raise InvalidInput("週数は1〜26で指定してください", field="weeks")
    first = (
        parse_first_week(params["first_week"], today)
        if params.get("first_week")
        else first_bookable_week(today)
    )
    weeks = await run(request, _calendar, int(raw_id), first, int(raw_weeks))
    return JSONResponse({"weeks": [week_json(week) for week in weeks]})


@require_shop
async def quote(request: Request) -> Response:
    """
    summary: Price a booking and check its weeks; writes nothing
    security: [{shopToken: []}]
    requestBody:
      required: true
      content: {application/json: {schema: {$ref: "#/components/schemas/BookingRequest"}}}
    responses:
      200: {description: The quote, content: {application/json: {schema: {$ref: "#/components/schemas/Quote"}}}}
      404: {description: No such placement or creative, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
      422: {description: "Invalid request, or no creative submitted for review or approved yet", content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
      429: {description: Too many holds by this shop in the last hour or day (Retry-After tells when to try again), content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
    """
    now = utcnow()
    body = await json_object(request)
    booking_request = parse_booking_request(body, tokyo_date(now))
    priced = await run(
        request,
        quote_booking,
        shop_of(request).shop_id,
        booking_request,
        now,
        host_layout(request),
        traffic=context(request).recent_traffic,
    )
    return JSONResponse(quote_json(priced))


@require_shop
async def list_bookings(request: Request) -> Response:
    """
    summary: This shop's bookings, newest first
    security: [{shopToken: []}]
    responses:
      200:
        description: Bookings
        content:
          application/json:
            schema: {type: object, required: [bookings], properties: {bookings: {type: array, items: {$ref: "#/components/schemas/Booking"}}}}
    """
    found = await run(request, shop_bookings, shop_of(request).shop_id)
    now = utcnow()
    return JSONResponse({"bookings": [booking_json(b, now) for b in found]})


@require_shop
async def hold(request: Request) -> Response:
    """
    summary: Hold shares for 15 minutes; the same Idempotency-Key returns the same booking
    security: [{shopToken: []}]
    parameters:
      - {name: Idempotency-Key, in: header, required: false, description: "8–64 ASCII characters; or send idempotency_key in the body", schema: {type: string, minLength: 8, maxLength: 64}}
    requestBody:
      required: true
      content: {application/json: {schema: {$ref: "#/components/schemas/BookingRequest"}}}
    responses:
      201: {description: The held booking, content: {application/json: {schema: {$ref: "#/components/schemas/Booking"}}}}
      403: {description: Shop not approved yet, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
      404: {description: No such placement or creative, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
      409: {description: "Sold out, the key was used for a different booking, or over the shop's hold limits (per placement-week, in all, renewals of the same weeks)", content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
      422: {description: "Invalid request, or no creative submitted for review or approved yet", content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
      429: {description: Too many holds by this shop in the last hour or day (Retry-After tells when to try again), content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
    """
    now = utcnow()
    body = await json_object(request)
    booking_request = parse_booking_request(body, tokyo_date(now))
    key = parse_idempotency_key(
        request.headers.get("idempotency-key") or body.get("idempotency_key")
    )
    booking = await hold_for_shop(request, booking_request, key, now)
    return JSONResponse(booking_json(booking, now), status_code=201)


@require_shop
async def get_booking(request: Request) -> Response:
    """
    summary: One of this shop's bookings (another shop's booking is 404)
    security: [{shopToken: []}]
    parameters: [{name: id, in: path, required: true, schema: {type: integer, minimum: 1}}]
    responses:
      200: {description: The booking, content: {application/json: {schema: {$ref: "#/components/schemas/Booking"}}}}
      404: {description: Not found, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
    """
    booking = await run(request, shop_booking, shop_of(request).shop_id, path_id(request))
    return JSONResponse(booking_json(booking, utcnow()))


def _accept_invoice(
    session: Session, config: BillingConfig, booking_id: int, shop_id: int, actor: Actor
) -> tuple[Booking, Invoice]:
    invoice = accept_invoice(
        session,
        config,
        booking_id,
        shop_id=shop_id,
        method=PaymentMethod.BANK_TRANSFER,
        actor=actor,
    )
    return shop_booking(session, shop_id, booking_id), invoice


@require_shop
async def confirm(request: Request) -> Response:
    """
    summary: Confirm a hold by accepting to pay by bank transfer; the invoice is issued at once. Repeat calls change nothing and return the same invoice
    security: [{shopToken: []}]
    parameters: [{name: id, in: path, required: true, schema: {type: integer, minimum: 1}}]
    responses:
      200: {description: The confirmed booking with its invoice, content: {application/json: {schema: {$ref: "#/components/schemas/Booking"}}}}
      404: {description: Not found, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
      409: {description: The hold expired and its shares were sold, or the booking cannot be confirmed, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
    """
    shop = shop_of(request)
    booking, invoice = await run(
        request,
        _accept_invoice,
        billing_config(context(request).settings),
        path_id(request),
        shop.shop_id,
        shop_actor(request),
    )
    return JSONResponse({**booking_json(booking, utcnow()), "invoice": invoice_json(invoice)})


@require_shop
async def cancel(request: Request) -> Response:
    """
    summary: Cancel under the cancellation policy; returns the refund the policy grants
    security: [{shopToken: []}]
    parameters: [{name: id, in: path, required: true, schema: {type: integer, minimum: 1}}]
    requestBody:
      required: false
      content: {application/json: {schema: {type: object, properties: {reason: {type: string, maxLength: 1000}}}}}
    responses:
      200:
        description: Cancelled
        content:
          application/json:
            schema: {type: object, required: [booking, refund_yen], properties: {booking: {$ref: "#/components/schemas/Booking"}, refund_yen: {type: integer}}}
      404: {description: Not found, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
      409: {description: Cannot be cancelled in its state, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
    """
    shop = shop_of(request)
    body = await json_object(request) if await request.body() else {}
    reason = str(body.get("reason") or "")[:1000]
    booking, terms = await run(
        request,
        cancel_booking,
        path_id(request),
        shop_actor(request),
        shop_id=shop.shop_id,
        reason=reason,
    )
    return JSONResponse(
        {"booking": booking_json(booking, utcnow()), "refund_yen": terms.refund_yen}
    )


@require_shop
async def choose_creative(request: Request) -> Response:
    """
    summary: Choose the creative a booking shows (a scheduled or live booking takes only an approved one)
    security: [{shopToken: []}]
    parameters: [{name: id, in: path, required: true, schema: {type: integer, minimum: 1}}]
    requestBody:
      required: true
      content: {application/json: {schema: {type: object, required: [creative_id], properties: {creative_id: {type: integer, minimum: 1}}}}}
    responses:
      200: {description: The booking, content: {application/json: {schema: {$ref: "#/components/schemas/Booking"}}}}
      404: {description: No such booking or creative, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
      409: {description: Illegal status change, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
      422: {description: Invalid request, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
    """
    shop = shop_of(request)
    body = await json_object(request)
    creative_id = body.get("creative_id")
    if (
        not isinstance(creative_id, int)
        or isinstance(creative_id, bool)
        or not 0 < creative_id < 2**62
    ):
        raise InvalidInput("広告素材を選んでください", field="creative_id")
    booking = await run(
        request,
        assign_creative,
        shop.shop_id,
        path_id(request),
        creative_id,
        shop_actor(request),
    )
    return JSONResponse(booking_json(booking, utcnow()))


@require_shop
async def list_creatives(request: Request) -> Response:
    """
    summary: This shop's creatives with their latest version and review status
    security: [{shopToken: []}]
    responses:
      200:
        description: Creatives
        content:
          application/json:
            schema: {type: object, required: [creatives], properties: {creatives: {type: array, items: {$ref: "#/components/schemas/Creative"}}}}
    """
    found = await run(request, creative_summaries, shop_of(request).shop_id)
    return JSONResponse({"creatives": [creative_json(item) for item in found]})


@require_shop
async def create(request: Request) -> Response:
    """
    summary: Create a creative and send its first version to review
    security: [{shopToken: []}]
    requestBody:
      required: true
      content:
        multipart/form-data:
          schema:
            type: object
            required: [name, headline, image]
            properties:
              name: {type: string, maxLength: 80}
              headline: {type: string, maxLength: 40}
              body: {type: string, maxLength: 120}
              landing_url: {type: string, format: uri, description: "https only; without it the ad links to the shop's page"}
              image: {type: string, format: binary}
    responses:
      201:
        description: The new version
        content:
          application/json:
            schema: {type: object, required: [creative_id, version_id, status], properties: {creative_id: {type: integer}, version_id: {type: integer}, status: {type: string}, precheck_flags: {type: array, items: {type: object}}}}
      413: {description: Image too large, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
      422: {description: Invalid content, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
    """
    shop = shop_of(request)
    text, image, _values = await parse_creative_form(request, image_required=True)
    version = await run(
        request,
        create_creative,
        shop.shop_id,
        text,
        image,
        current_policy(request),
        shop.user_id,
    )
    return JSONResponse(
        {
            "creative_id": version.creative_id,
            "version_id": version.id,
            "status": version.status.value,
            "precheck_flags": version.precheck_flags,
        },
        status_code=201,
    )


API = "/api/marketplace"
routes = [
    Route(f"{API}/placements", placements, methods=["GET"]),
    Route(f"{API}/availability", availability, methods=["GET"]),
    Route(f"{API}/quotes", quote, methods=["POST"]),
    Route(f"{API}/bookings", list_bookings, methods=["GET"]),
    Route(f"{API}/bookings", hold, methods=["POST"]),
    Route(f"{API}/bookings/{{id:int}}", get_booking, methods=["GET"]),
    Route(f"{API}/bookings/{{id:int}}/confirm", confirm, methods=["POST"]),
    Route(f"{API}/bookings/{{id:int}}/cancel", cancel, methods=["POST"]),
    Route(f"{API}/bookings/{{id:int}}/creative", choose_creative, methods=["POST"]),
    Route(f"{API}/creatives", list_creatives, methods=["GET"]),
    Route(f"{API}/creatives", create, methods=["POST"]),
]
