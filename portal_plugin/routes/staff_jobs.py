"""The periodic jobs' page for administrators: schedule, last run, outcome, next run."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from marketplace.db import utcnow
from portal_plugin.auth import require_staff
from portal_plugin.marketplace_web import run
from portal_plugin.web import render
from portal_plugin.worker.jobs import jobs_for
from portal_plugin.worker.status import job_statuses


@require_staff()  # administrators only
async def jobs_page(request: Request) -> Response:
    settings = request.app.state.ctx.settings
    zone = ZoneInfo(settings.timezone)
    statuses = await run(request, job_statuses, jobs_for(settings), utcnow())

    def local(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%m/%d %H:%M") if moment else "—"

    return render(
        request,
        "staff/jobs.html",
        {"staff": request.state.staff, "statuses": statuses, "local": local},
    )


routes = [Route("/staff/jobs", jobs_page, methods=["GET"], name="staff_jobs")]
