"""The finance dashboard: offset of running costs by ads, forecast, sales, receivables."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from analytics.charts import CHART_NAMES, chart_png, chart_spec
from analytics.dashboard import Dashboard, load_dashboard
from analytics.formatting import cell, is_number, percent
from analytics.inputs import parse_fiscal_year
from marketplace.calendar import fiscal_year, tokyo_date
from marketplace.db import utcnow
from marketplace.vocab import StaffRole
from portal_plugin.auth import require_staff
from portal_plugin.context import context
from portal_plugin.export_responses import EXPORT_FORMATS, table_download
from portal_plugin.web import json_error, render

# Cell formatting for report templates (yen, percent, "—" for missing).
REPORT_HELPERS = {"percent": percent, "cell": cell, "is_number": is_number}


def requested_year(request: Request, today: date) -> int:
    raw = request.query_params.get("fiscal_year")
    return fiscal_year(today) if raw in (None, "") else parse_fiscal_year(raw)


async def _dashboard(request: Request) -> Dashboard | Response:
    today = tokyo_date(utcnow())
    year = requested_year(request, today)

    def work(session: Session) -> Dashboard:
        return load_dashboard(session, year, today)

    return await context(request).in_transaction(work)


def _title(spec: dict[str, Any]) -> str:
    title = spec.get("title", "")
    return str(title.get("text", "") if isinstance(title, dict) else title)


@require_staff(StaffRole.FINANCE)
async def dashboard_page(request: Request) -> Response:
    dashboard = await _dashboard(request)
    if isinstance(dashboard, Response):
        return dashboard
    specs = {name: chart_spec(dashboard, name) for name in CHART_NAMES}
    # (name for URLs, the chart's own Japanese title for screen readers, the spec as JSON)
    charts = [
        (name, _title(spec), json.dumps(spec, ensure_ascii=False).replace("<", "\\u003c"))
        for name, spec in specs.items()
    ]
    return render(
        request,
        "finance/dashboard.html",
        {"d": dashboard, "tables": dashboard.tables(), "charts": charts, **REPORT_HELPERS},
    )


@require_staff(StaffRole.FINANCE)
async def export_table(request: Request) -> Response:
    key, fmt = request.path_params["key"], request.path_params["fmt"]
    if fmt not in EXPORT_FORMATS:
        return json_error(404, "not_found", "形式は csv または xlsx です")
    dashboard = await _dashboard(request)
    if isinstance(dashboard, Response):
        return dashboard
    if key == "all":
        return table_download(dashboard.tables(), "xlsx", f"offset-{dashboard.fiscal_year}")
    table = dashboard.table(key)
    if table is None:
        return json_error(404, "not_found", "その表はありません")
    return table_download([table], fmt, f"{key}-{dashboard.fiscal_year}")


@require_staff(StaffRole.FINANCE)
async def chart_image(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in CHART_NAMES:
        return json_error(404, "not_found", "そのグラフはありません")
    dashboard = await _dashboard(request)
    if isinstance(dashboard, Response):
        return dashboard
    png = chart_png(dashboard, name)
    filename = f"{name}-{dashboard.fiscal_year}.png"
    return Response(
        png,
        media_type="image/png",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


routes = [
    Route("/finance/", dashboard_page, methods=["GET"], name="finance_dashboard"),
    Route(
        "/finance/export/{key:str}.{fmt:str}", export_table, methods=["GET"], name="finance_export"
    ),
    Route("/finance/charts/{name:str}.png", chart_image, methods=["GET"], name="finance_chart"),
]
