"""The staff side of the JSON API (session cookie + X-CSRF-Token): shop approval, review,
booking pause/resume and disaster mode. Same services and audit trail as the staff pages."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from marketplace.accounts.shops import decide_shop
from marketplace.bookings.controls import pause_booking, resume_booking
from marketplace.errors import InvalidInput
from marketplace.review.services import approve_version, reject_version, review_queue
from marketplace.switches import portal_settings, set_disaster_mode
from marketplace.vocab import StaffRole
from portal_plugin.auth import require_staff
from portal_plugin.marketplace_web import current_policy, path_id, run, staff_actor
from portal_plugin.routes.marketplace_api import json_object

R, F = StaffRole.REVIEWER, StaffRole.FINANCE
STAFF = "/api/marketplace/staff"
ERRORS = """
      401: {description: Not logged in as staff, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
      403: {description: Role not allowed or CSRF token missing, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}"""


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise InvalidInput("{name} は文字列で指定してください", field=name, name=name)
    return value[:1000]


def _queue(session: Any) -> list[dict[str, Any]]:
    return [
        {
            "version_id": item.version.id,
            "creative_id": item.creative.id,
            "version": item.version.version,
            "shop_id": item.shop.id,
            "shop_name": item.shop.business_name,
            "headline": item.version.headline,
            "body": item.version.body,
            "landing_url": item.version.landing_url,
            "precheck_flags": item.version.precheck_flags,
            "submitted_at": item.version.submitted_at.isoformat()
            if item.version.submitted_at
            else None,
        }
        for item in review_queue(session)
    ]


@require_staff(R)
async def queue(request: Request) -> Response:
    """
    summary: Creative versions waiting for review, oldest first, with their pre-check flags
    security: [{staffSession: []}]
    responses:
      200: {description: The queue, content: {application/json: {schema: {type: object, required: [items], properties: {items: {type: array, items: {type: object}}}}}}}
      401: {description: Not logged in as staff, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
      403: {description: Role not allowed, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
    """
    return JSONResponse({"items": await run(request, _queue)})


def _decide(action: str) -> Any:
    @require_staff(R)
    async def endpoint(request: Request) -> Response:
        body = await json_object(request)
        actor = staff_actor(request)
        if action == "approve":
            version = await run(
                request, approve_version, path_id(request), actor, _text(body, "note")
            )
        else:
            version = await run(
                request,
                reject_version,
                path_id(request),
                actor,
                _text(body, "rule"),
                _text(body, "reason"),
                current_policy(request),
            )
        return JSONResponse(
            {
                "version_id": version.id,
                "status": version.status.value,
                "reason": version.decision_reason,
            }
        )

    endpoint.__doc__ = f"""
    summary: {"Approve" if action == "approve" else "Reject (with an ad-standards rule id and a reason shown to the shop)"} a creative version
    security: [{{staffSession: []}}]
    parameters: [{{name: id, in: path, required: true, schema: {{type: integer, minimum: 1}}}}]
    requestBody:
      required: true
      content: {{application/json: {{schema: {{type: object, properties: {{note: {{type: string}}, rule: {{type: string}}, reason: {{type: string}}}}}}}}}}
    responses:
      200: {{description: Decided, content: {{application/json: {{schema: {{type: object, required: [version_id, status], properties: {{version_id: {{type: integer}}, status: {{type: string}}, reason: {{type: string}}}}}}}}}}}}
      404: {{description: No such version, content: {{application/json: {{schema: {{$ref: "#/components/schemas/Error"}}}}}}}}
      409: {{description: Already decided, content: {{application/json: {{schema: {{$ref: "#/components/schemas/Error"}}}}}}}}
      422: {{description: Missing reason or unknown rule, content: {{application/json: {{schema: {{$ref: "#/components/schemas/Error"}}}}}}}}{ERRORS}
    """
    return endpoint


@require_staff(R)
async def shop_decision(request: Request) -> Response:
    body = await json_object(request)
    shop = await run(
        request,
        decide_shop,
        path_id(request),
        _text(body, "decision"),
        staff_actor(request),
        _text(body, "reason"),
    )
    return JSONResponse({"shop_id": shop.id, "status": shop.status.value})


shop_decision.__doc__ = f"""
    summary: Approve, suspend or close a shop (suspend and close need a reason)
    security: [{{staffSession: []}}]
    parameters: [{{name: id, in: path, required: true, schema: {{type: integer, minimum: 1}}}}]
    requestBody:
      required: true
      content: {{application/json: {{schema: {{type: object, required: [decision], properties: {{decision: {{type: string, enum: [approve, suspend, close]}}, reason: {{type: string}}}}}}}}}}
    responses:
      200: {{description: Decided, content: {{application/json: {{schema: {{type: object, required: [shop_id, status], properties: {{shop_id: {{type: integer}}, status: {{type: string}}}}}}}}}}}}
      404: {{description: No such shop, content: {{application/json: {{schema: {{$ref: "#/components/schemas/Error"}}}}}}}}
      422: {{description: Not possible in the shop's status, or reason missing, content: {{application/json: {{schema: {{$ref: "#/components/schemas/Error"}}}}}}}}{ERRORS}
    """


def _booking_control(action: str) -> Any:
    @require_staff(R)
    async def endpoint(request: Request) -> Response:
        body = await json_object(request)
        if action == "pause":
            booking = await run(
                request,
                pause_booking,
                path_id(request),
                staff_actor(request),
                _text(body, "reason"),
            )
        else:
            booking = await run(request, resume_booking, path_id(request), staff_actor(request))
        return JSONResponse({"booking_id": booking.id, "status": booking.status.value})

    endpoint.__doc__ = f"""
    summary: {"Pause a booking (reason required, shown to the shop)" if action == "pause" else "Resume a paused booking"}
    security: [{{staffSession: []}}]
    parameters: [{{name: id, in: path, required: true, schema: {{type: integer, minimum: 1}}}}]
    requestBody:
      required: true
      content: {{application/json: {{schema: {{type: object, properties: {{reason: {{type: string}}}}}}}}}}
    responses:
      200: {{description: Done, content: {{application/json: {{schema: {{type: object, required: [booking_id, status], properties: {{booking_id: {{type: integer}}, status: {{type: string}}}}}}}}}}}}
      404: {{description: No such booking, content: {{application/json: {{schema: {{$ref: "#/components/schemas/Error"}}}}}}}}
      409: {{description: Not possible in the booking's status, content: {{application/json: {{schema: {{$ref: "#/components/schemas/Error"}}}}}}}}
      422: {{description: Reason missing, content: {{application/json: {{schema: {{$ref: "#/components/schemas/Error"}}}}}}}}{ERRORS}
    """
    return endpoint


def _settings_json(session: Any) -> dict[str, Any]:
    row = portal_settings(session)
    return {
        "disaster_mode": row.disaster_mode,
        "message": row.disaster_message,
        "changed_at": row.disaster_mode_changed_at.isoformat()
        if row.disaster_mode_changed_at
        else None,
        "changed_by_staff_id": row.disaster_mode_changed_by_staff_id,
    }


@require_staff(R, F)
async def disaster_mode_read(request: Request) -> Response:
    """
    summary: Whether disaster mode (every ad suppressed) is on, and who switched it when
    security: [{staffSession: []}]
    responses:
      200: {description: Current state, content: {application/json: {schema: {$ref: "#/components/schemas/DisasterMode"}}}}
      401: {description: Not logged in as staff, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
      403: {description: Role not allowed, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
    """
    return JSONResponse(await run(request, _settings_json))


@require_staff(R, F)
async def disaster_mode_switch(request: Request) -> Response:
    body = await json_object(request)
    enabled = body.get("enabled")
    if not isinstance(enabled, bool):
        raise InvalidInput("enabled は true か false で指定してください", field="enabled")
    await run(request, set_disaster_mode, staff_actor(request), enabled, _text(body, "message"))
    return JSONResponse(await run(request, _settings_json))


disaster_mode_switch.__doc__ = f"""
    summary: Switch disaster mode on or off (recorded in the audit log)
    security: [{{staffSession: []}}]
    requestBody:
      required: true
      content: {{application/json: {{schema: {{type: object, required: [enabled], properties: {{enabled: {{type: boolean}}, message: {{type: string}}}}}}}}}}
    responses:
      200: {{description: New state, content: {{application/json: {{schema: {{$ref: "#/components/schemas/DisasterMode"}}}}}}}}
      422: {{description: Invalid body, content: {{application/json: {{schema: {{$ref: "#/components/schemas/Error"}}}}}}}}{ERRORS}
    """

routes = [
    Route(f"{STAFF}/review-queue", queue, methods=["GET"], name="api_staff_review_queue"),
    Route(
        f"{STAFF}/creative-versions/{{id:int}}/approve",
        _decide("approve"),
        methods=["POST"],
        name="api_staff_approve",
    ),
    Route(
        f"{STAFF}/creative-versions/{{id:int}}/reject",
        _decide("reject"),
        methods=["POST"],
        name="api_staff_reject",
    ),
    Route(
        f"{STAFF}/shops/{{id:int}}/decision",
        shop_decision,
        methods=["POST"],
        name="api_staff_shop_decision",
    ),
    Route(
        f"{STAFF}/bookings/{{id:int}}/pause",
        _booking_control("pause"),
        methods=["POST"],
        name="api_staff_booking_pause",
    ),
    Route(
        f"{STAFF}/bookings/{{id:int}}/resume",
        _booking_control("resume"),
        methods=["POST"],
        name="api_staff_booking_resume",
    ),
    Route(
        f"{STAFF}/disaster-mode",
        disaster_mode_read,
        methods=["GET"],
        name="api_staff_disaster_mode",
    ),
    Route(
        f"{STAFF}/disaster-mode",
        disaster_mode_switch,
        methods=["POST"],
        name="api_staff_disaster_mode_switch",
    ),
]
