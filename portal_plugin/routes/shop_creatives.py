"""The shop's creatives: create, edit (a new version each time), review status; and images."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from marketplace.creatives.images import MAX_UPLOAD_BYTES, ProcessedImage, process_image
from marketplace.creatives.services import (
    BODY_MAX,
    HEADLINE_MAX,
    create_creative,
    edit_creative,
    parse_creative_text,
    shop_creative,
    version_with_owner,
    versions,
)
from marketplace.errors import InvalidInput, MarketplaceError
from marketplace.lifecycle import CreativeStatus
from marketplace.queries import creative_summaries
from portal_plugin.auth import current_shop, current_staff, require_shop
from portal_plugin.errors import localize
from portal_plugin.labels import CREATIVE_STATUS_LABELS
from portal_plugin.marketplace_web import (
    current_policy,
    path_id,
    run,
    shop_of,
)
from portal_plugin.web import plugin_path, render

TEXT_FIELDS = ("name", "headline", "body", "landing_url")


async def read_upload(value: Any, required: bool) -> ProcessedImage | None:
    if not isinstance(value, UploadFile) or not value.filename:
        if required:
            raise InvalidInput("画像を選んでください", field="image")
        return None
    data = await value.read(MAX_UPLOAD_BYTES + 1)
    return process_image(data)


async def parse_creative_form(
    request: Request, image_required: bool, values: dict[str, str] | None = None
) -> tuple[Any, Any, dict[str, str]]:
    """Parse the text fields and the image. `values` (if given) is filled with the submitted
    text before anything is validated, so a refused upload can redisplay the form filled in."""
    values = {} if values is None else values
    async with request.form(max_files=1, max_fields=20) as form:
        values.update({key: str(form.get(key) or "")[:2000] for key in TEXT_FIELDS})
        text = parse_creative_text(**values)
        image = await read_upload(form.get("image"), image_required)
    return text, image, values


def _form_page(
    request: Request, template: str, values: dict[str, Any], error: MarketplaceError | None = None
) -> Response:
    values.update(
        shop_name=shop_of(request).shop_name,
        headline_max=HEADLINE_MAX,
        body_max=BODY_MAX,
        labels=CREATIVE_STATUS_LABELS,
        max_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
    )
    if error is not None:
        values.update(error=localize(error), error_field=error.field)
    return render(request, template, values, status_code=error.status if error else 200)


@require_shop
async def list_page(request: Request) -> Response:
    items = await run(request, creative_summaries, shop_of(request).shop_id)
    return _form_page(request, "shop/creatives.html", {"items": items})


@require_shop
async def new_page(request: Request) -> Response:
    return _form_page(request, "shop/creative_new.html", {"values": {}})


@require_shop
async def create(request: Request) -> Response:
    shop = shop_of(request)
    values: dict[str, str] = {}
    try:
        text, image, values = await parse_creative_form(request, True, values)
        version = await run(
            request,
            create_creative,
            shop.shop_id,
            text,
            image,
            current_policy(request),
            shop.user_id,
        )
    except MarketplaceError as exc:
        return _form_page(request, "shop/creative_new.html", {"values": values}, exc)
    return RedirectResponse(
        plugin_path(request, "shop_creative", id=version.creative_id), status_code=303
    )


def _detail(session: Any, shop_id: int, creative_id: int) -> dict[str, Any]:
    creative = shop_creative(session, shop_id, creative_id)
    return {"creative": creative, "versions": versions(session, creative.id)}


@require_shop
async def detail_page(request: Request) -> Response:
    values = await run(request, _detail, shop_of(request).shop_id, path_id(request))
    latest = values["versions"][0]
    values["values"] = {
        "name": values["creative"].name,
        "headline": latest.headline,
        "body": latest.body,
        "landing_url": latest.landing_url,
    }
    return _form_page(request, "shop/creative_detail.html", values)


@require_shop
async def edit(request: Request) -> Response:
    shop = shop_of(request)
    creative_id = path_id(request)
    values: dict[str, str] = {}
    try:
        text, image, values = await parse_creative_form(request, False, values)
        await run(
            request,
            edit_creative,
            shop.shop_id,
            creative_id,
            text,
            image,
            current_policy(request),
            shop.user_id,
        )
    except MarketplaceError as exc:
        page = await run(request, _detail, shop.shop_id, creative_id)
        page["values"] = values
        return _form_page(request, "shop/creative_detail.html", page, exc)
    return RedirectResponse(plugin_path(request, "shop_creative", id=creative_id), status_code=303)


async def image(request: Request) -> Response:
    """Approved images are public; others only for the owning shop and for staff."""
    found = await run(request, version_with_owner, path_id(request))
    if found is None:
        return Response(status_code=404)
    version, owner = found
    shop = current_shop(request)
    public = version.status is CreativeStatus.APPROVED
    allowed = (
        public or current_staff(request) is not None or (shop is not None and shop.shop_id == owner)
    )
    if not allowed:
        return Response(status_code=404)
    return Response(
        version.image_data,
        media_type=version.image_content_type,
        headers={
            "Cache-Control": "public, max-age=86400, immutable" if public else "private, no-store",
            "ETag": f'"{version.image_sha256}"',
            "Content-Disposition": "inline",
        },
    )


routes = [
    Route("/shop/creatives", list_page, methods=["GET"], name="shop_creatives"),
    Route("/shop/creatives/new", new_page, methods=["GET"], name="shop_creative_new"),
    Route("/shop/creatives", create, methods=["POST"], name="shop_creative_create"),
    Route("/shop/creatives/{id:int}", detail_page, methods=["GET"], name="shop_creative"),
    Route("/shop/creatives/{id:int}", edit, methods=["POST"], name="shop_creative_edit"),
    Route("/creative-images/{id:int}", image, methods=["GET"], name="creative_image"),
]
