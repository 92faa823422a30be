"""A small host portal modelled on 会津若松+, with the plugin mounted under /marketplace.

It plays the host's part honestly: it picks the signed-in resident (here, from a switcher),
mints the same X-Portal-Resident token a real portal would, and fetches the plugin's feed
and gadget-column fragments over ASGI.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from marketplace.models import Resident
from marketplace.vocab import AGE_BAND_LABELS, DISTRICTS, GADGETS, HOUSEHOLD_LABELS
from portal_plugin.app import create_app
from portal_plugin.context import PluginContext
from portal_plugin.fast_path import PluginFastLane
from portal_plugin.hooks import ConsentChange, PortalHooks
from portal_plugin.identity import HEADER, ResidentIdentity, mint_token
from portal_plugin.request_id import RequestIdMiddleware
from portal_plugin.resident_links import resident_links
from portal_plugin.security.headers import SecurityHeadersMiddleware
from portal_plugin.settings import Settings

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


def resident_label(resident: Resident) -> str:
    """How the switcher names a resident: 「70歳以上・高齢者のみ世帯・若松第五」."""
    household = HOUSEHOLD_LABELS.get(resident.household) if resident.household else None
    if household and not household.endswith("世帯"):
        household += "世帯"
    parts = [
        AGE_BAND_LABELS.get(resident.age_band) if resident.age_band else "年代未登録",
        household or "世帯未登録",
        DISTRICTS.get(resident.district or "", "地区未登録"),
    ]
    return "・".join(p or "未登録" for p in parts)


class ForwardResident:
    """What a host does for every request it forwards to the plugin: it drops any
    X-Portal-Resident the browser sent and adds its own token for the signed-in resident
    (here, the switcher's cookie), so residents' own pages and forms (/about-ads, /me) know
    who is asking."""

    def __init__(self, app: ASGIApp, settings: Settings, ctx: PluginContext) -> None:
        self.app = app
        self.settings = settings
        self.ctx = ctx
        self._identities: dict[str, ResidentIdentity | None] = {}

    def identity(self, external_id: str) -> ResidentIdentity | None:
        if external_id not in self._identities:
            with self.ctx.session_factory() as session:
                found = session.scalar(select(Resident).where(Resident.external_id == external_id))
                if len(self._identities) > 10_000:
                    self._identities.clear()
                self._identities[external_id] = None if found is None else identity_of(found)
        return self._identities[external_id]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        own = HEADER.lower().encode()
        headers = [(k, v) for k, v in scope["headers"] if k != own]
        chosen = Request(scope).cookies.get(RESIDENT_COOKIE)
        if chosen:
            identity = await run_in_threadpool(self.identity, chosen)
            if identity is not None:
                token = mint_token(self.settings.portal_identity_secret, identity)
                headers.append((own, token.encode()))
        await self.app({**scope, "headers": headers}, receive, send)


def switcher_residents(session: Session) -> list[Resident]:
    """A spread of demo residents: the first few of every household type."""
    chosen: list[Resident] = []
    for resident in session.scalars(select(Resident).order_by(Resident.id).limit(400)):
        same_kind = sum(1 for r in chosen if r.household == resident.household)
        if same_kind < SWITCHER_SIZE // 6 and len(chosen) < SWITCHER_SIZE:
            chosen.append(resident)
    return chosen


class DemoHooks(PortalHooks):
    """The demo host's side of the hooks: it keeps no resident settings of its own, so it
    notes each change the plugin tells it about (a real portal would update its settings)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.consent_changes: deque[ConsentChange] = deque(maxlen=1_000)

    def consent_changed(self, request: Request, change: ConsentChange) -> None:
        """Noted, and logged as the default host does."""
        self.consent_changes.append(change)
        super().consent_changed(request, change)


def create_demo_app(settings: Settings, hooks: PortalHooks | None = None) -> Starlette:
    plugin = create_app(settings, hooks or DemoHooks(settings))
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
        # The fragments are fetched here, but the browser loads their pixels: name the browser
        # (its address and User-Agent) so its impressions match the client served.
        headers["user-agent"] = request.headers.get("user-agent", "")
        if request.client is not None:
            headers["x-forwarded-for"] = request.client.host
        if current is not None:
            headers[HEADER] = mint_token(settings.portal_identity_secret, identity_of(current))
        # Under the mount prefix, so the fragment's pixel and click links resolve on this host.
        transport = httpx.ASGITransport(app=plugin, root_path=PLUGIN_PREFIX)
        async with httpx.AsyncClient(transport=transport, base_url="http://plugin") as client:
            fragment, side = await asyncio.gather(
                client.get(PLUGIN_PREFIX + "/fragment/feed", headers=headers),
                client.get(PLUGIN_PREFIX + "/fragment/side", headers=headers),
            )
        response = templates.TemplateResponse(
            request,
            "home.html",
            {
                "residents": [(r, resident_label(r)) for r in residents],
                "current_label": resident_label(current) if current is not None else "",
                "current": current,
                "feed_html": fragment.text if fragment.status_code == 200 else "",
                "side_html": side.text if side.status_code == 200 else "",
                "gadgets": GADGETS,
                "plugin_prefix": PLUGIN_PREFIX,
                # What a host reads from the feed's `links`: the plugin's pages for residents.
                "plugin_links": resident_links(PLUGIN_PREFIX),
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
            Mount(PLUGIN_PREFIX, app=ForwardResident(plugin, settings, ctx), name="marketplace"),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts=False)
    # The feed is answered before the host's routing and the mount.
    app.add_middleware(PluginFastLane, plugin=plugin, prefix=PLUGIN_PREFIX)
    # Around everything, the fast lane too: each request's id in its log lines and response.
    app.add_middleware(RequestIdMiddleware)
    return app
