"""The plugin's app factory: `Mount("/marketplace", app=create_app(settings))` in the host."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from marketplace.errors import DomainError
from portal_plugin.auth import bearer_authenticates
from portal_plugin.context import PluginContext
from portal_plugin.delivery_runtime import start_delivery, stop_delivery
from portal_plugin.errors import (
    domain_error_handler,
    http_error_handler,
    server_error_handler,
)
from portal_plugin.fast_path import FAST_ENDPOINTS_STATE, FastPathMiddleware
from portal_plugin.hooks import PortalHooks
from portal_plugin.language import LanguageMiddleware
from portal_plugin.request_id import RequestIdMiddleware
from portal_plugin.resident_forms import RESIDENT_FORMS_PREFIX
from portal_plugin.routes import all_routes
from portal_plugin.routes.delivery import FAST_ENDPOINTS
from portal_plugin.security.body_limit import BodyLimitMiddleware
from portal_plugin.security.csrf import CSRFMiddleware
from portal_plugin.security.headers import SecurityHeadersMiddleware
from portal_plugin.security.sessions import SessionGuardMiddleware
from portal_plugin.settings import Settings
from portal_plugin.web import build_templates

SESSION_COOKIE = "pm_session"
SESSION_MAX_AGE = 8 * 60 * 60
STATIC_DIR = Path(__file__).parent / "static"

# Long-lived services (scorer reloads, event writers) add start/stop callbacks here.
LifecycleHook = Callable[[PluginContext], Awaitable[None]]
STARTUP_HOOKS: list[LifecycleHook] = [start_delivery]
SHUTDOWN_HOOKS: list[LifecycleHook] = [stop_delivery]


def create_app(
    settings: Settings, hooks: PortalHooks | None = None, engine: Engine | None = None
) -> Starlette:
    ctx = PluginContext.build(settings, hooks, engine)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for start in STARTUP_HOOKS:
            await start(ctx)
        try:
            yield
        finally:
            for stop in reversed(SHUTDOWN_HOOKS):
                await stop(ctx)
            if engine is None:
                ctx.engine.dispose()

    middleware = [
        # Outermost: every log line of the request carries its id (a host's own instance,
        # outside this app, wins; see request_id.py).
        Middleware(RequestIdMiddleware),
        Middleware(SecurityHeadersMiddleware, hsts=settings.session_cookie_secure),
        Middleware(FastPathMiddleware, endpoints=FAST_ENDPOINTS),
        Middleware(BodyLimitMiddleware),
        Middleware(LanguageMiddleware, default=settings.default_language),
        Middleware(
            SessionMiddleware,
            secret_key=settings.secret_key,
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE,
            same_site="lax",
            https_only=settings.session_cookie_secure,
        ),
        # Drops a signed-in session its account has ended, before anything reads it.
        Middleware(SessionGuardMiddleware, ctx=ctx),
        Middleware(
            CSRFMiddleware,
            session_cookie=SESSION_COOKIE,
            bearer_authenticates=bearer_authenticates,
            own_token_prefixes=(RESIDENT_FORMS_PREFIX,),
        ),
    ]
    routes = [*all_routes(), Mount("/static", StaticFiles(directory=STATIC_DIR), name="static")]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            HTTPException: http_error_handler,
            DomainError: domain_error_handler,
            Exception: server_error_handler,
        },
    )
    app.state.ctx = ctx
    app.state.templates = build_templates()
    setattr(app.state, FAST_ENDPOINTS_STATE, FAST_ENDPOINTS)  # for the host's PluginFastLane
    return app
