"""Staff pages for the city's house ads: create, edit, schedule and retire; what they showed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from marketplace.calendar import tokyo_date
from marketplace.db import utcnow
from marketplace.delivery.house import Surface
from marketplace.errors import MarketplaceError, NotFound
from marketplace.house_ads.services import (
    BODY_MAX,
    HEADLINE_MAX,
    STATUS_LABELS,
    create_house_ad,
    first_day_of,
    get_house_ad,
    house_ad_totals,
    last_day_of,
    list_house_ads,
    parse_house_ad,
    retire_house_ad,
    status_of,
    update_house_ad,
)
from marketplace.vocab import StaffRole
from portal_plugin.auth import require_staff
from portal_plugin.errors import localize
from portal_plugin.marketplace_web import form_data, path_id, run, staff_actor
from portal_plugin.web import plugin_path, render

R = StaffRole.REVIEWER
REPORT_DAYS = 30


def recruitment_preset(prefix: str) -> dict[str, Any]:
    """The form filled in for the usual 「広告募集中」 house ad, linking to shop sign-up."""
    return {
        "headline": "広告募集中 地域のお店の広告を掲載しませんか",
        "body": "1週間から申し込めます。広告収入は住民向けサービスの運営費に充てられます。",
        "link_url": f"{prefix}/shop/signup",
        "in_feed": "1",
        "side": "1",
    }


def _listing(session: Any) -> dict[str, Any]:
    now = utcnow()
    return {
        "house_ads": list_house_ads(session),
        "totals": house_ad_totals(session, now - timedelta(days=REPORT_DAYS)),
        "status_of": lambda ad: status_of(ad, now),
    }


async def _page(
    request: Request, extra: dict[str, Any] | None = None, status: int = 200
) -> Response:
    values = await run(request, _listing)
    values.update(
        staff=request.state.staff,
        status_labels=STATUS_LABELS,
        headline_max=HEADLINE_MAX,
        body_max=BODY_MAX,
        report_days=REPORT_DAYS,
        surfaces=Surface,
        first_day=first_day_of,
        last_day=last_day_of,
        form={"in_feed": "1", "side": "1"},
    )
    values.update(extra or {})
    return render(request, "staff/marketplace/house_ads.html", values, status_code=status)


@require_staff(R)
async def house_ads_page(request: Request) -> Response:
    if request.query_params.get("preset") == "recruitment":
        prefix = request.scope.get("root_path", "")
        return await _page(request, {"form": recruitment_preset(prefix)})
    return await _page(request)


@require_staff(R)
async def house_ad_save(request: Request) -> Response:
    data = await form_data(request)
    house_ad_id = str(data.get("house_ad_id") or "")
    try:
        values = parse_house_ad(data, tokyo_date(utcnow()))
        if house_ad_id:
            if not house_ad_id.isdigit():
                raise NotFound("市のお知らせ枠が見つかりません")
            await run(request, update_house_ad, int(house_ad_id), values, staff_actor(request))
        else:
            await run(request, create_house_ad, values, staff_actor(request))
    except MarketplaceError as exc:
        extra = {"error": localize(exc), "error_field": exc.field, "form": data}
        return await _page(request, extra, exc.status)
    return RedirectResponse(plugin_path(request, "staff_house_ads"), status_code=303)


@require_staff(R)
async def house_ad_edit_page(request: Request) -> Response:
    ad = await run(request, get_house_ad, path_id(request))  # NotFound: the error page
    last_day = last_day_of(ad)
    form = {
        "house_ad_id": ad.id,
        "headline": ad.headline,
        "body": ad.body,
        "link_url": ad.link_url,
        "in_feed": "1" if ad.in_feed else "",
        "side": "1" if ad.side else "",
        "first_day": first_day_of(ad).isoformat(),
        "last_day": last_day.isoformat() if last_day else "",
        "retired": ad.retired_at is not None,
    }
    return await _page(request, {"form": form})


@require_staff(R)
async def house_ad_retire(request: Request) -> Response:
    await run(request, retire_house_ad, path_id(request), staff_actor(request))
    return RedirectResponse(plugin_path(request, "staff_house_ads"), status_code=303)


routes = [
    Route("/staff/house-ads", house_ads_page, methods=["GET"], name="staff_house_ads"),
    Route("/staff/house-ads", house_ad_save, methods=["POST"], name="staff_house_ad_save"),
    Route("/staff/house-ads/{id:int}", house_ad_edit_page, methods=["GET"], name="staff_house_ad"),
    Route(
        "/staff/house-ads/{id:int}/retire",
        house_ad_retire,
        methods=["POST"],
        name="staff_house_ad_retire",
    ),
]
