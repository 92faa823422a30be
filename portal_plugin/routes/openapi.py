"""The OpenAPI document of the plugin's JSON API, built from the YAML in endpoint docstrings."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.schemas import SchemaGenerator

from portal_plugin.fast_path import AsgiEndpoint
from portal_plugin.marketplace_json import COMPONENTS
from portal_plugin.routes.delivery import FEED_SCHEMAS

GENERATOR = SchemaGenerator(
    {
        "openapi": "3.0.3",
        "info": {
            "title": "会津若松+ local-shop ad marketplace",
            "version": "1.0",
            "description": "Shops book ad placements and manage creatives. Errors are "
            '{"error": {"code", "message", "field"}} with messages in the request language.',
        },
        "components": {**COMPONENTS, "schemas": {**COMPONENTS["schemas"], **FEED_SCHEMAS}},
    }
)


def _asgi_operations(routes: list[Any]) -> dict[str, dict[str, Any]]:
    """Plain ASGI endpoints (the feed): the generator only reads functions and HTTPEndpoints."""
    found: dict[str, dict[str, Any]] = {}
    for route in routes:
        if isinstance(route, Route) and isinstance(route.endpoint, AsgiEndpoint):
            operation = GENERATOR.parse_docstring(route.endpoint.app)
            if operation:
                found[route.path] = {"get": operation}
    return found


def openapi_document(routes: list[Any]) -> dict[str, Any]:
    schema = GENERATOR.get_schema(routes=routes)
    schema.setdefault("paths", {}).update(_asgi_operations(routes))
    # Only documented endpoints belong in the contract; pages without YAML are left out.
    schema["paths"] = {
        path: operations
        for path, operations in schema.get("paths", {}).items()
        if path.startswith("/api/")
    }
    return schema


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document(request.app.routes))


routes = [Route("/openapi.json", openapi, methods=["GET"], include_in_schema=False)]
