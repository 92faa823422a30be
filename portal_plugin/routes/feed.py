"""The resident's blended feed and the gadget column's cards, as HTML fragments to embed."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from marketplace.delivery.service import DeliveryService
from marketplace.delivery.types import Audience, FeedArticle
from portal_plugin.ad_cards import CardViewer, resident_card
from portal_plugin.context import context
from portal_plugin.resident_forms import issue_token
from portal_plugin.resident_links import resident_links
from portal_plugin.routes.delivery import audience_of, served_client, service_or_error
from portal_plugin.web import render

FRAGMENT_SIZE = 10


def card_viewer(request: Request, service: DeliveryService, audience: Audience) -> CardViewer:
    """The viewer as the ad decision saw them (for 「この広告について」) and their form token."""
    if audience.key is None:
        return CardViewer(audience, None)
    viewer = service.viewer(audience)
    assert viewer.key is not None
    chosen = service.choices.get(viewer.key)
    token = issue_token(context(request).settings.secret_key, viewer.key)
    return CardViewer(chosen.for_ads(viewer) if chosen else viewer, token)


async def feed_fragment(request: Request) -> Response:
    service = service_or_error(request)
    if isinstance(service, Response):
        return service
    audience = audience_of(request)
    client, ads = served_client(request, service, audience)
    feed = service.feed(audience, FRAGMENT_SIZE, client=client, ads=ads)
    prefix = request.scope.get("root_path", "")
    viewer = card_viewer(request, service, audience)
    entries = [
        item if isinstance(item, FeedArticle) else resident_card(prefix, item, viewer)
        for item in feed.items
    ]
    return render(
        request, "fragments/feed.html", {"entries": entries, "links": resident_links(prefix)}
    )


async def side_fragment(request: Request) -> Response:
    """The gadget column's ad cards (side-gadget placements); empty when none is shown."""
    service = service_or_error(request)
    if isinstance(service, Response):
        return service
    prefix = request.scope.get("root_path", "")
    audience = audience_of(request)
    client, ads = served_client(request, service, audience)
    viewer = card_viewer(request, service, audience)
    cards = [
        resident_card(prefix, item, viewer)
        for item in service.side(audience, client=client, ads=ads)
    ]
    return render(request, "fragments/side.html", {"cards": cards})


routes = [
    Route("/fragment/feed", feed_fragment, methods=["GET"], name="feed_fragment"),
    Route("/fragment/side", side_fragment, methods=["GET"], name="side_fragment"),
]
