"""The public transparency page: how much the local ads paid for residents' free services."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from analytics.formatting import percent
from analytics.transparency import load_transparency
from marketplace.calendar import fiscal_year, tokyo_date
from marketplace.db import utcnow
from portal_plugin.context import context
from portal_plugin.privacy_notice import (
    RESIDENT_PAGE_SENDS,
    RESIDENT_TRANSMISSIONS,
    shop_recipients,
)
from portal_plugin.web import render


async def transparency_page(request: Request) -> Response:
    # Always the current fiscal year: the page is for residents, not a query tool.
    year = fiscal_year(tokyo_date(utcnow()))
    summary = await context(request).in_transaction(load_transparency, year)
    notice = {
        "page_sends": RESIDENT_PAGE_SENDS,
        "resident_transmissions": RESIDENT_TRANSMISSIONS,
        "shop_recipients": shop_recipients(),
    }
    return render(
        request, "transparency.html", {"t": summary, "percent": percent, "external": notice}
    )


routes = [Route("/transparency", transparency_page, methods=["GET"], name="transparency")]
