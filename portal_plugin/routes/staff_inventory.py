"""Staff pages for the inventory: placements and rate card, the calendar, and booking controls."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from marketplace.bookings.controls import pause_booking, resume_booking
from marketplace.bookings.services import cancel_booking
from marketplace.db import utcnow
from marketplace.delivery.forecast import WARN_BELOW
from marketplace.delivery.layout import HostLayout
from marketplace.delivery.outlook_reading import placement_outlooks
from marketplace.delivery.shortfall import REACH_CAUSES
from marketplace.errors import InvalidInput, MarketplaceError, NotFound
from marketplace.inventory.placements import (
    create_placement,
    get_placement,
    list_placements,
    parse_placement,
    placement_layout,
    update_placement,
)
from marketplace.inventory.pricing import TARGETING_DIMENSIONS
from marketplace.inventory.targeting import DIMENSION_LABELS
from marketplace.lifecycle import PlacementKind
from marketplace.queries import all_bookings, calendars, effective_status
from marketplace.vocab import StaffRole
from portal_plugin.auth import require_staff
from portal_plugin.context import context
from portal_plugin.errors import localize
from portal_plugin.i18n import gettext as _
from portal_plugin.labels import BOOKING_STATUS_LABELS
from portal_plugin.marketplace_web import (
    form_data,
    host_layout,
    path_id,
    run,
    staff_actor,
)
from portal_plugin.web import plugin_path, render

R, F = StaffRole.REVIEWER, StaffRole.FINANCE


def placement_form_values(data: dict[str, Any]) -> dict[str, Any]:
    """Turn the flat form ("13:20, 26:30", one field per surcharge) into parse_placement input."""
    values = dict(data)
    tiers = []
    for part in str(data.get("term_discounts", "")).replace("、", ",").split(","):
        if not part.strip():
            continue
        weeks, _, percent = part.partition(":")
        if not (weeks.strip().isdigit() and percent.strip().isdigit()):
            raise InvalidInput(
                "期間割引は「13:20, 26:30」(週:割引%)の形で入力してください", field="term_discounts"
            )
        tiers.append({"min_weeks": int(weeks), "percent": int(percent)})
    values["term_discounts"] = tiers
    surcharges = {}
    for dimension in TARGETING_DIMENSIONS:
        raw = str(data.get(f"surcharge.{dimension}", "")).strip()
        if raw:
            if not raw.isdigit():
                raise InvalidInput(
                    "加算率は整数(%)で入力してください", field=f"surcharge.{dimension}"
                )
            surcharges[dimension] = int(raw)
    values["targeting_surcharges"] = surcharges
    values["active"] = data.get("active") == "1"
    return values


def _inventory(session: Any, host: HostLayout) -> dict[str, Any]:
    now = utcnow()
    return {
        "placements": list_placements(session),
        "unservable": placement_layout(session, host).unservable,
        "grid": calendars(session, now, 8),
        "bookings": all_bookings(session),
        "status_of": lambda booking: effective_status(booking, now),
    }


async def _page(
    request: Request, extra: dict[str, Any] | None = None, status: int = 200
) -> Response:
    values = await run(request, _inventory, host_layout(request))
    values["unservable"] = {
        placement_id: _(reason.template).format(**reason.params)
        for placement_id, reason in values["unservable"].items()
    }
    values.update(
        staff=request.state.staff,
        labels=BOOKING_STATUS_LABELS,
        kinds=list(PlacementKind),
        dimensions=TARGETING_DIMENSIONS,
        dimension_labels=DIMENSION_LABELS,
        form={},
    )
    values.update(extra or {})
    return render(request, "staff/marketplace/inventory.html", values, status_code=status)


@require_staff(R, F)
async def inventory_page(request: Request) -> Response:
    return await _page(request)


@require_staff()
async def placement_save(request: Request) -> Response:
    data = await form_data(request)
    placement_id = data.get("placement_id")
    try:
        values = parse_placement(placement_form_values(data))
        if placement_id:
            if not str(placement_id).isdigit():
                raise NotFound("広告枠が見つかりません")
            await run(
                request,
                update_placement,
                int(placement_id),
                values,
                staff_actor(request),
                host_layout(request),
            )
        else:
            await run(request, create_placement, values, staff_actor(request), host_layout(request))
    except MarketplaceError as exc:
        return await _page(request, {"error": localize(exc), "form": data}, exc.status)
    return RedirectResponse(plugin_path(request, "staff_inventory"), status_code=303)


@require_staff()
async def placement_edit_page(request: Request) -> Response:
    try:
        placement = await run(request, get_placement, path_id(request))
    except MarketplaceError as exc:
        return await _page(request, {"error": localize(exc)}, 404)
    form = {
        column: getattr(placement, column)
        for column in (
            "code",
            "name",
            "description",
            "feed_position",
            "image_width",
            "image_height",
            "max_image_bytes",
            "headline_max_chars",
            "body_max_chars",
            "shares_per_week",
            "price_per_share_week_yen",
            "out_of_city_price_per_share_week_yen",
        )
    }
    form.update(
        placement_id=placement.id,
        kind=placement.kind.value,
        active="1" if placement.active else "",
        term_discounts=", ".join(
            f"{t['min_weeks']}:{t['percent']}" for t in placement.term_discounts
        ),
        **{f"surcharge.{k}": v for k, v in placement.targeting_surcharges.items()},
    )
    return await _page(request, {"form": form})


@require_staff(R, F)
async def reach_page(request: Request) -> Response:
    """Forecast vs sold per placement-week: can what was sold be delivered?"""
    outlooks = await run(
        request,
        placement_outlooks,
        utcnow(),
        cap=host_layout(request).frequency_cap,
        traffic=context(request).recent_traffic,
    )
    return render(
        request,
        "staff/marketplace/reach.html",
        {"outlooks": outlooks, "reach_causes": REACH_CAUSES, "warn_below": WARN_BELOW},
    )


def _booking_action(action: str) -> Any:
    @require_staff(R)
    async def endpoint(request: Request) -> Response:
        data = await form_data(request)
        booking_id = path_id(request)
        reason = str(data.get("reason", ""))[:1000]
        actor = staff_actor(request)
        try:
            if action == "pause":
                await run(request, pause_booking, booking_id, actor, reason)
            elif action == "resume":
                await run(request, resume_booking, booking_id, actor)
            else:
                if not reason.strip():
                    raise InvalidInput("取り消しの理由を入力してください", field="reason")
                await run(request, cancel_booking, booking_id, actor, by_city=True, reason=reason)
        except MarketplaceError as exc:
            return await _page(request, {"error": localize(exc)}, exc.status)
        return RedirectResponse(plugin_path(request, "staff_inventory"), status_code=303)

    return endpoint


routes = [
    Route("/staff/inventory", inventory_page, methods=["GET"], name="staff_inventory"),
    Route("/staff/inventory/reach", reach_page, methods=["GET"], name="staff_reach"),
    Route("/staff/placements", placement_save, methods=["POST"], name="staff_placement_save"),
    Route(
        "/staff/placements/{id:int}", placement_edit_page, methods=["GET"], name="staff_placement"
    ),
    *(
        Route(
            f"/staff/bookings/{{id:int}}/{action}",
            _booking_action(action),
            methods=["POST"],
            name=f"staff_booking_{action}",
        )
        for action in ("pause", "resume", "cancel")
    ),
]
