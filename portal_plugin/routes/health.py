"""Liveness and readiness for the host's monitoring."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from marketplace.db import ping, utcnow
from portal_plugin.context import context
from portal_plugin.delivery_runtime import delivery_readiness
from portal_plugin.worker.jobs import jobs_for
from portal_plugin.worker.status import health_summary, job_statuses


async def health(request: Request) -> JSONResponse:
    ctx = context(request)
    jobs = jobs_for(ctx.settings)

    def check(session: Session) -> dict[str, dict[str, object]]:
        ping(session)
        return health_summary(job_statuses(session, jobs, utcnow()))

    body: dict[str, object] = {"status": "ok"}
    try:
        body["jobs"] = await ctx.in_transaction(check)
        body["database"] = "ok"
    except SQLAlchemyError:
        body["database"] = "unavailable"
    delivery = delivery_readiness(ctx)
    if delivery is not None:
        body["delivery"] = delivery
    return JSONResponse(body)


routes = [Route("/healthz", health, methods=["GET"], name="health")]
