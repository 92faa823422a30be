"""The resident's blended feed (articles and labelled ads) as an HTML fragment to embed."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal_plugin.routes.delivery import audience_of, service_or_error
from portal_plugin.web import render

FRAGMENT_SIZE = 10


async def feed_fragment(request: Request) -> Response:
    service = service_or_error(request)
    if isinstance(service, Response):
        return service
    feed = service.feed(audience_of(request), FRAGMENT_SIZE)
    return render(request, "fragments/feed.html", {"feed": feed})


routes = [Route("/fragment/feed", feed_fragment, methods=["GET"], name="feed_fragment")]
