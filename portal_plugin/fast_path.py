"""Hot read-only endpoints served without the cookie layers and the routers.

The feed is fetched for every page view of the portal. It reads no cookie, changes no state
and needs no session, language or CSRF token, so walking those layers (and the routers') costs
a large share of its time for nothing. A fast endpoint is a plain ASGI app that sends its own
security headers (`SECURITY_HEADER_PAIRS`).

* `FastPathMiddleware` sits inside the plugin's security headers and hands a GET or HEAD for a
  listed path straight to its endpoint.
* `PluginFastLane` lets the host do the same one level up, before its own routing and the
  mount: `host.add_middleware(PluginFastLane, plugin=plugin, prefix="/marketplace")`. The
  endpoint sees the scope the mount would have given it (`root_path` and `app`).

Anything else, including other methods on the same paths, goes the normal way.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

READ_METHODS = frozenset({"GET", "HEAD"})
FAST_ENDPOINTS_STATE = "fast_endpoints"


def route_path(scope: Scope) -> str:
    """The path inside this app: the request path less the mount prefix (`root_path`)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
        return path[len(root) :]
    return path


class AsgiEndpoint:
    """An ASGI function as a route's endpoint: Starlette's `Route` would take a bare function
    for a request -> response handler."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class FastPathMiddleware:
    def __init__(self, app: ASGIApp, endpoints: Mapping[str, ASGIApp]) -> None:
        self.app = app
        self.endpoints = dict(endpoints)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in READ_METHODS:
            endpoint = self.endpoints.get(route_path(scope))
            if endpoint is not None:
                await endpoint(scope, receive, send)
                return
        await self.app(scope, receive, send)


class PluginFastLane:
    """In the host: the plugin's fast endpoints, answered before the host's routing."""

    def __init__(self, app: ASGIApp, plugin: Starlette, prefix: str) -> None:
        self.app = app
        self.plugin = plugin
        self.prefix = prefix.rstrip("/")
        endpoints: Mapping[str, ASGIApp] = getattr(plugin.state, FAST_ENDPOINTS_STATE, {})
        self.endpoints = {self.prefix + path: endpoint for path, endpoint in endpoints.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in READ_METHODS:
            endpoint = self.endpoints.get(route_path(scope))
            if endpoint is not None:
                root = scope.get("root_path", "") + self.prefix
                await endpoint({**scope, "root_path": root, "app": self.plugin}, receive, send)
                return
        await self.app(scope, receive, send)
