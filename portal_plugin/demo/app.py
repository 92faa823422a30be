"""A small host portal modelled on 会津若松+, with the plugin mounted under /marketplace.

It plays the host's part honestly: it picks the signed-in resident (here, from a switcher),
mints the same X-Portal-Resident token a real portal would, and fetches the plugin's feed
fragment over ASGI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.templating import Jinja2Templates

from marketplace.models import Resident
from marketplace.vocab import DISTRICTS, GADGETS
from portal_plugin.app import create_app
from portal_plugin.fast_path import PluginFastLane
from portal_plugin.identity import HEADER, ResidentIdentity, mint_token
from portal_plugin.process_memory import cap_malloc_arenas
from portal_plugin.security.headers import SecurityHeadersMiddleware
from portal_plugin.settings import Settings, load_settings

PLUGIN_PREFIX = "/marketplace"
RESIDENT_COOKIE = "demo_resident"
SWITCHER_SIZE = 24
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def identity_of(resident: Resident) -> ResidentIdentity:
    return ResidentIdentity(
        external_id=resident.external_id,
        age_band=resident.age_band,
        household=resident.household,
        district=resident.district,
        language=resident.language,
        interests=tuple(resident.interests),
        personalization_consent=resident.personalization_consent,
    )


def switcher_residents(session: Session) -> list[Resident]:
    """A spread of demo residents: the first few of every household type."""
    chosen: list[Resident] = []
    for resident in session.scalars(select(Resident).order_by(Resident.id).limit(400)):
        same_kind = sum(1 for r in chosen if r.household == resident.household)
        if same_kind < SWITCHER_SIZE // 6 and len(chosen) < SWITCHER_SIZE:
            chosen.append(resident)
    return chosen


def create_demo_app(settings: Settings) -> Starlette:
    plugin = create_app(settings)
    ctx = plugin.state.ctx

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Mounted apps do not get lifespan events from Starlette; the host forwards them.
        async with plugin.router.lifespan_context(plugin):
            yield

    async def home(request: Request) -> Response:
        chosen = request.query_params.get("resident") or request.cookies.get(RESIDENT_COOKIE)

        def load(session: Session) -> tuple[list[Resident], Resident | None]:
            current = None
            if chosen:
                current = session.scalar(select(Resident).where(Resident.external_id == chosen))
            return switcher_residents(session), current

        residents, current = await ctx.in_transaction(load)
        # The host page is Japanese; the fragment follows the resident's preferred language.
        language = current.language.value if current is not None else "ja"
        headers = {"accept": "text/html", "accept-language": language}
        if current is not None:
            headers[HEADER] = mint_token(settings.portal_identity_secret, identity_of(current))
        # Under the mount prefix, so the fragment's pixel and click links resolve on this host.
        transport = httpx.ASGITransport(app=plugin, root_path=PLUGIN_PREFIX)
        async with httpx.AsyncClient(transport=transport, base_url="http://plugin") as client:
            fragment = await client.get(PLUGIN_PREFIX + "/fragment/feed", headers=headers)
        response = templates.TemplateResponse(
            request,
            "home.html",
            {
                "residents": residents,
                "current": current,
                "feed_html": fragment.text if fragment.status_code == 200 else "",
                "gadgets": GADGETS,
                "districts": DISTRICTS,
                "plugin_prefix": PLUGIN_PREFIX,
            },
        )
        if request.query_params.get("resident"):
            response.set_cookie(RESIDENT_COOKIE, chosen or "", httponly=True, samesite="lax")
        return response

    async def sign_out(request: Request) -> Response:
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(RESIDENT_COOKIE)
        return response

    async def favicon(request: Request) -> Response:
        return HTMLResponse("", status_code=204)

    app = Starlette(
        routes=[
            Route("/", home, methods=["GET"], name="home"),
            Route("/sign-out", sign_out, methods=["GET"], name="sign_out"),
            Route("/favicon.ico", favicon, methods=["GET"]),
            Mount(PLUGIN_PREFIX, app=plugin, name="marketplace"),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts=False)
    # Outermost: the feed is answered before the host's routing and the mount.
    app.add_middleware(PluginFastLane, plugin=plugin, prefix=PLUGIN_PREFIX)
    return app


def create_demo_app_from_environment() -> Starlette:
    """The demo portal as uvicorn's workers build it: one long-running process each."""
    cap_malloc_arenas()
    return create_demo_app(load_settings())
