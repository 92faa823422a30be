"""The shop's flyers (チラシ): upload a PDF or images with the dates, follow the review, edit."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from marketplace.calendar import tokyo_date
from marketplace.creatives.services import BODY_MAX, HEADLINE_MAX, parse_creative_text, versions
from marketplace.db import utcnow
from marketplace.errors import MarketplaceError, PayloadTooLarge
from marketplace.flyers.files import FIELD, MAX_UPLOAD_BYTES, FlyerFile, process_upload
from marketplace.flyers.pdf_sandbox import MAX_PAGES
from marketplace.flyers.periods import MAX_SHOWN_DAYS, parse_periods
from marketplace.flyers.services import create_flyer, edit_flyer, flyer_pages, shop_flyer
from portal_plugin.auth import require_shop
from portal_plugin.errors import localize
from portal_plugin.labels import CREATIVE_STATUS_LABELS
from portal_plugin.marketplace_web import (
    current_policy,
    path_id,
    run,
    shop_of,
)
from portal_plugin.web import plugin_path, render

TEXT_FIELDS = (
    "name",
    "headline",
    "body",
    "landing_url",
    "shown_from",
    "shown_until",
    "sale_from",
    "sale_until",
)


async def _read_files(form: Any) -> list[bytes]:
    """The uploaded files' bytes, refusing (before reading on) once the total is too large."""
    files: list[bytes] = []
    total = 0
    for value in form.getlist(FIELD):
        if not isinstance(value, UploadFile) or not value.filename:
            continue
        data = await value.read(MAX_UPLOAD_BYTES + 1 - total)
        total += len(data)
        if total > MAX_UPLOAD_BYTES:
            raise PayloadTooLarge(
                "チラシのファイルは合計{limit}MB以内にしてください",
                field=FIELD,
                limit=MAX_UPLOAD_BYTES // (1024 * 1024),
            )
        files.append(data)
    return files


async def parse_flyer_form(
    request: Request, file_required: bool, values: dict[str, str]
) -> tuple[Any, Any, FlyerFile | None]:
    """Text, dates and the file. `values` is filled with what was sent before anything is
    validated, so a refused upload redisplays the form as the shop filled it in."""
    async with request.form(max_files=MAX_PAGES, max_fields=30) as form:
        values.update({key: str(form.get(key) or "")[:2000] for key in TEXT_FIELDS})
        text = parse_creative_text(
            values["name"], values["headline"], values["body"], values["landing_url"]
        )
        periods = parse_periods(values, tokyo_date(utcnow()))
        files = await _read_files(form)
    if not files and not file_required:
        return text, periods, None
    # Rendering a PDF runs a child process and re-encodes every page: off the event loop.
    flyer = await run_in_threadpool(process_upload, files)
    return text, periods, flyer


def _form_page(
    request: Request, template: str, values: dict[str, Any], error: MarketplaceError | None = None
) -> Response:
    values.update(
        headline_max=HEADLINE_MAX,
        body_max=BODY_MAX,
        labels=CREATIVE_STATUS_LABELS,
        max_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
        max_pages=MAX_PAGES,
        max_days=MAX_SHOWN_DAYS,
    )
    if error is not None:
        values.update(error=localize(error), error_field=error.field)
    return render(request, template, values, status_code=error.status if error else 200)


@require_shop
async def new_page(request: Request) -> Response:
    return _form_page(request, "shop/flyer_new.html", {"values": {}})


@require_shop
async def create(request: Request) -> Response:
    shop = shop_of(request)
    values: dict[str, str] = {}
    try:
        text, periods, flyer = await parse_flyer_form(request, True, values)
        version = await run(
            request,
            create_flyer,
            shop.shop_id,
            text,
            periods,
            flyer,
            current_policy(request),
            shop.user_id,
        )
    except MarketplaceError as exc:
        return _form_page(request, "shop/flyer_new.html", {"values": values}, exc)
    return RedirectResponse(
        plugin_path(request, "shop_flyer", id=version.creative_id), status_code=303
    )


def _detail(session: Any, shop_id: int, creative_id: int) -> dict[str, Any]:
    creative = shop_flyer(session, shop_id, creative_id)
    history = versions(session, creative.id)
    return {
        "creative": creative,
        "versions": history,
        "pages": {version.id: len(flyer_pages(session, version.id)) for version in history},
    }


def _values_of(latest: Any, name: str) -> dict[str, str]:
    def day(value: Any) -> str:
        return value.isoformat() if value else ""

    return {
        "name": name,
        "headline": latest.headline,
        "body": latest.body,
        "landing_url": latest.landing_url,
        "shown_from": day(latest.shown_from),
        "shown_until": day(latest.shown_until),
        "sale_from": day(latest.sale_from),
        "sale_until": day(latest.sale_until),
    }


@require_shop
async def detail_page(request: Request) -> Response:
    values = await run(request, _detail, shop_of(request).shop_id, path_id(request))
    values["values"] = _values_of(values["versions"][0], values["creative"].name)
    return _form_page(request, "shop/flyer_detail.html", values)


@require_shop
async def edit(request: Request) -> Response:
    shop = shop_of(request)
    creative_id = path_id(request)
    values: dict[str, str] = {}
    try:
        text, periods, flyer = await parse_flyer_form(request, False, values)
        await run(
            request,
            edit_flyer,
            shop.shop_id,
            creative_id,
            text,
            periods,
            flyer,
            current_policy(request),
            shop.user_id,
        )
    except MarketplaceError as exc:
        page = await run(request, _detail, shop.shop_id, creative_id)
        page["values"] = values
        return _form_page(request, "shop/flyer_detail.html", page, exc)
    return RedirectResponse(plugin_path(request, "shop_flyer", id=creative_id), status_code=303)


routes = [
    Route("/shop/flyers/new", new_page, methods=["GET"], name="shop_flyer_new"),
    Route("/shop/flyers", create, methods=["POST"], name="shop_flyer_create"),
    Route("/shop/flyers/{id:int}", detail_page, methods=["GET"], name="shop_flyer"),
    Route("/shop/flyers/{id:int}", edit, methods=["POST"], name="shop_flyer_edit"),
]
