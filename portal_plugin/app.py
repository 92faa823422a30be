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
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from portal_plugin.auth import wants_html
from portal_plugin.context import PluginContext
from portal_plugin.delivery_runtime import start_delivery, stop_delivery
from portal_plugin.fast_path import FAST_ENDPOINTS_STATE, FastPathMiddleware
from portal_plugin.hooks import PortalHooks
from portal_plugin.language import LanguageMiddleware
from portal_plugin.routes import all_routes
from portal_plugin.routes.delivery import FAST_ENDPOINTS
from portal_plugin.security.body_limit import BodyLimitMiddleware
from portal_plugin.security.csrf import CSRFMiddleware
from portal_plugin.security.headers import SecurityHeadersMiddleware
from portal_plugin.settings import Settings
from portal_plugin.web import build_templates, json_error

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
        Middleware(CSRFMiddleware, session_cookie=SESSION_COOKIE),
    ]
    routes = [*all_routes(), Mount("/static", StaticFiles(directory=STATIC_DIR), name="static")]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.state.ctx = ctx
    app.state.templates = build_templates()
    setattr(app.state, FAST_ENDPOINTS_STATE, FAST_ENDPOINTS)  # for the host's PluginFastLane
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {404: "ページが見つかりません", 405: "この操作はできません"}
    message = messages.get(exc.status_code, str(exc.detail))
    if wants_html(request):
        return HTMLResponse(
            f"<!doctype html><title>{exc.status_code}</title><p>{message}</p>", exc.status_code
        )
    return json_error(exc.status_code, "http_error", message)


async def _server_error(request: Request, exc: Exception) -> Response:
    return json_error(
        500, "server_error", "サーバーで問題が発生しました。時間をおいてお試しください。"
    )
