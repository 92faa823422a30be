"""Liveness and readiness for the host's monitoring."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from portal_plugin.context import context
from portal_plugin.delivery_runtime import delivery_readiness


async def health(request: Request) -> JSONResponse:
    ctx = context(request)
    try:
        await ctx.in_transaction(lambda session: session.execute(text("SELECT 1")))
        database = "ok"
    except SQLAlchemyError:
        database = "unavailable"
    body: dict[str, object] = {"status": "ok", "database": database}
    delivery = delivery_readiness(ctx)
    if delivery is not None:
        body["delivery"] = delivery
    return JSONResponse(body)


routes = [Route("/healthz", health, methods=["GET"], name="health")]
