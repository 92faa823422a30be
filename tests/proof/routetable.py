"""The app's own route table, flattened: every (name, path, method) it answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute


@dataclass(frozen=True)
class RouteEntry:
    name: str
    path: str
    method: str
    endpoint: Callable[..., Any] | None


def route_table(app: Starlette) -> list[RouteEntry]:
    entries: list[RouteEntry] = []
    _walk(app.routes, "", entries)
    return entries


def _walk(routes: Sequence[BaseRoute], prefix: str, entries: list[RouteEntry]) -> None:
    for route in routes:
        if isinstance(route, Route):
            for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
                entries.append(RouteEntry(route.name, prefix + route.path, method, route.endpoint))
        elif isinstance(route, WebSocketRoute):
            entries.append(RouteEntry(route.name, prefix + route.path, "WEBSOCKET", None))
        elif isinstance(route, Mount):
            if route.routes:
                _walk(route.routes, prefix + route.path, entries)
            else:
                # A mounted ASGI app such as StaticFiles: one read-only entry for the whole tree.
                entries.append(RouteEntry(route.name, prefix + route.path + "/", "GET", None))
        else:
            raise TypeError(f"unknown kind of route {route!r}; teach routetable.py about it")
