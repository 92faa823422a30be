"""The shop page (店舗ページ) residents see, and the form where the shop fills it in."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from marketplace.accounts.shop_page import (
    LIMITS,
    map_link,
    parse_shop_page,
    public_shop_page,
    shop_page_values,
    tel_link,
    update_shop_page,
)
from marketplace.calendar import tokyo_date
from marketplace.db import utcnow
from marketplace.errors import MarketplaceError
from marketplace.vocab import DISTRICTS, SHOP_CATEGORIES
from portal_plugin.auth import require_shop
from portal_plugin.errors import localize
from portal_plugin.marketplace_web import (
    form_data,
    path_id,
    run,
    shop_actor,
    shop_of,
)
from portal_plugin.web import plugin_path, render


async def shop_page(request: Request) -> Response:
    page = await run(request, public_shop_page, path_id(request), tokyo_date(utcnow()))
    shop = page.shop
    return render(
        request,
        "flyers/shop_page.html",
        {
            "page": page,
            "category": SHOP_CATEGORIES.get(shop.category, shop.category),
            "district": DISTRICTS.get(shop.district, ""),
            "tel": tel_link(shop.public_phone) if shop.public_phone else "",
            "map": map_link(shop.address) if shop.address else "",
        },
    )


def _settings_page(
    request: Request, values: dict[str, Any], error: MarketplaceError | None = None
) -> Response:
    context: dict[str, Any] = {
        "values": values,
        "limits": LIMITS,
        "saved": request.query_params.get("saved") == "1",
        "shop_id": shop_of(request).shop_id,
    }
    if error is not None:
        context.update(error=localize(error), error_field=error.field)
    return render(
        request, "shop/shop_page.html", context, status_code=error.status if error else 200
    )


@require_shop
async def settings_page(request: Request) -> Response:
    values = await run(request, shop_page_values, shop_of(request).shop_id)
    return _settings_page(request, values)


@require_shop
async def settings_save(request: Request) -> Response:
    shop = shop_of(request)
    data = await form_data(request)
    values = {key: str(data.get(key) or "")[:1000] for key in LIMITS}
    try:
        details = parse_shop_page(values)
        await run(request, update_shop_page, shop.shop_id, details, shop_actor(request))
    except MarketplaceError as exc:
        current = await run(request, shop_page_values, shop.shop_id)
        return _settings_page(request, {**current, **values}, exc)
    return RedirectResponse(
        plugin_path(request, "shop_page_settings") + "?saved=1", status_code=303
    )


routes = [
    Route("/shops/{id:int}", shop_page, methods=["GET"], name="shop_page"),
    Route("/shop/page", settings_page, methods=["GET"], name="shop_page_settings"),
    Route("/shop/page", settings_save, methods=["POST"], name="shop_page_settings_save"),
]
