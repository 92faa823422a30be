"""The resident's feed as an HTML fragment the host page embeds."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from marketplace.articles.services import live_articles
from marketplace.db import utcnow
from portal_plugin.context import context
from portal_plugin.routes.residents import ResidentRefused, resolve_resident
from portal_plugin.web import render

FRAGMENT_SIZE = 10


async def feed_fragment(request: Request) -> Response:
    try:
        identity = resolve_resident(request)
    except ResidentRefused as refused:
        return refused.response
    articles = await context(request).in_transaction(
        lambda session: live_articles(session, utcnow(), FRAGMENT_SIZE)
    )
    return render(request, "fragments/feed.html", {"items": articles, "resident": identity})


routes = [Route("/fragment/feed", feed_fragment, methods=["GET"], name="feed_fragment")]
