"""Hot read-only endpoints served without the cookie layers and the router.

The feed is fetched for every page view of the portal. It reads no cookie, changes no state
and needs no session, language or CSRF token, so walking those layers (and the router's) costs
a large share of its time for nothing. This middleware sits just inside the security headers
(every response keeps its CSP and friends) and hands a GET or HEAD for a listed path straight
to its endpoint. Anything else, including other methods on the same path, goes the normal way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]
READ_METHODS = frozenset({"GET", "HEAD"})


def route_path(scope: Scope) -> str:
    """The path inside this app: the request path less the mount prefix (`root_path`)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
        return path[len(root) :]
    return path


class FastPathMiddleware:
    def __init__(self, app: ASGIApp, endpoints: Mapping[str, Endpoint]) -> None:
        self.app = app
        self.endpoints = dict(endpoints)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in READ_METHODS:
            endpoint = self.endpoints.get(route_path(scope))
            if endpoint is not None:
                response = await endpoint(Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
