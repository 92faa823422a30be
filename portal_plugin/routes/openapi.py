"""The OpenAPI document of the plugin's JSON API, built from the YAML in endpoint docstrings."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.schemas import SchemaGenerator

from portal_plugin.marketplace_json import COMPONENTS

GENERATOR = SchemaGenerator(
    {
        "openapi": "3.0.3",
        "info": {
            "title": "会津若松+ local-shop ad marketplace",
            "version": "1.0",
            "description": "Shops book ad placements and manage creatives. Errors are "
            '{"error": {"code", "message", "field"}} with messages in the request language.',
        },
        "components": COMPONENTS,
    }
)


def openapi_document(routes: list[Any]) -> dict[str, Any]:
    schema = GENERATOR.get_schema(routes=routes)
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
