"""`GET /metrics`: Prometheus's text format, for administrators and for this machine only."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from marketplace.vocab import StaffRole
from portal_plugin.auth import current_staff
from portal_plugin.context import context
from portal_plugin.metrics import DatabaseCollector, exposition, from_this_machine
from portal_plugin.web import json_error
from portal_plugin.worker.jobs import jobs_for


def may_scrape(request: Request) -> bool:
    """A Prometheus server on this machine, or a signed-in administrator."""
    if from_this_machine(request):
        return True
    staff = current_staff(request) if "session" in request.scope else None
    return staff is not None and staff.role is StaffRole.ADMIN


async def metrics(request: Request) -> Response:
    if not may_scrape(request):
        return json_error(
            403, "forbidden", "メトリクスは管理者か、このサーバー上の収集プログラムだけが読めます"
        )
    ctx = context(request)
    database = DatabaseCollector(ctx.session_factory, jobs_for(ctx.settings))
    body = await run_in_threadpool(exposition, ctx.metrics, database)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


routes = [Route("/metrics", metrics, methods=["GET"], name="metrics")]
