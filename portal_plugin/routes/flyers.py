"""Residents' side of flyers: the viewer (`/flyers/{id}`) and the page images it shows."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from marketplace.calendar import tokyo_date
from marketplace.db import utcnow
from marketplace.errors import NotFound
from marketplace.flyers.services import is_public, page_with_owner, public_flyer
from portal_plugin.auth import current_shop, current_staff
from portal_plugin.marketplace_web import path_id, run
from portal_plugin.web import render


async def viewer(request: Request) -> Response:
    flyer = await run(request, public_flyer, path_id(request), tokyo_date(utcnow()))
    return render(request, "flyers/viewer.html", {"flyer": flyer})


async def page_image(request: Request) -> Response:
    """Pages of a flyer on show are public; others only for the owning shop and for staff."""
    try:
        number = path_id(request, "number")
        found = await run(request, page_with_owner, path_id(request), number)
    except NotFound:
        found = None
    if found is None:
        return Response(status_code=404)
    public = is_public(found.version, tokyo_date(utcnow()))
    shop = current_shop(request)
    allowed = (
        public
        or current_staff(request) is not None
        or (shop is not None and shop.shop_id == found.shop_id)
    )
    if not allowed:
        return Response(status_code=404)
    page = found.page
    return Response(
        page.image_data,
        media_type=page.image_content_type,
        headers={
            # Short: the flyer disappears when its 掲載期間 ends, so caches must let it go.
            "Cache-Control": "public, max-age=3600" if public else "private, no-store",
            "ETag": f'"{page.image_sha256}"',
            "Content-Disposition": "inline",
        },
    )


routes = [
    Route("/flyers/{id:int}", viewer, methods=["GET"], name="flyer_viewer"),
    Route(
        "/flyer-pages/{id:int}/{number:int}",
        page_image,
        methods=["GET"],
        name="flyer_page_image",
    ),
]
