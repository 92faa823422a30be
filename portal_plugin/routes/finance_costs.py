"""Finance edits the citizen services' running costs and the allocation rule (with history)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from analytics.costs import (
    Actor,
    cost_history,
    cost_table,
    current_rule,
    list_services,
    rule_history,
    set_cost,
    set_rule,
)
from analytics.errors import AnalyticsError
from analytics.inputs import parse_fiscal_year, parse_month, parse_yen
from marketplace.calendar import fiscal_year, tokyo_date
from marketplace.db import utcnow
from marketplace.vocab import StaffRole
from portal_plugin.auth import StaffPrincipal, require_staff
from portal_plugin.context import context
from portal_plugin.errors import localize
from portal_plugin.routes.finance import requested_year
from portal_plugin.web import plugin_path, render

FISCAL_MONTH_ORDER = (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)


def _actor(request: Request) -> Actor:
    staff: StaffPrincipal = request.state.staff
    return Actor(staff.staff_id, staff.display_name)


def _page_values(session: Session, year: int) -> dict[str, Any]:
    rule = current_rule(session)
    services = list_services(session)
    rank = {code: position for position, code in enumerate(rule.priority_order, start=1)}
    return {
        "year": year,
        "services": services,
        "figures": cost_table(session, year),
        "months": FISCAL_MONTH_ORDER,
        "history": cost_history(session, year),
        "rule": rule,
        "rank": rank,
        "rules": rule_history(session, limit=10),
    }


async def _render(request: Request, year: int, status: int = 200, **extra: Any) -> Response:
    values = await context(request).in_transaction(_page_values, year)
    values.update(extra)
    return render(request, "finance/costs.html", values, status_code=status)


@require_staff(StaffRole.FINANCE)
async def costs_page(request: Request) -> Response:
    year = requested_year(request, tokyo_date(utcnow()))
    return await _render(request, year, saved=request.query_params.get("saved") == "1")


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip()[:200] if isinstance(value, str) else ""


@require_staff(StaffRole.FINANCE)
async def save_cost(request: Request) -> Response:
    form = await request.form()
    year = fiscal_year(tokyo_date(utcnow()))
    try:
        year = parse_fiscal_year(_field(form, "fiscal_year"))
        month = parse_month(_field(form, "month"))
        amount = parse_yen(_field(form, "amount_yen"))
        service = _field(form, "service")
        note = _field(form, "note")
        await context(request).in_transaction(
            set_cost, service, year, month, amount, _actor(request), note
        )
    except AnalyticsError as exc:
        return await _render(request, year, 422, error=localize(exc), error_field=exc.field)
    return RedirectResponse(
        f"{plugin_path(request, 'finance_costs')}?fiscal_year={year}&saved=1", 303
    )


@require_staff(StaffRole.FINANCE)
async def save_rule(request: Request) -> Response:
    form = await request.form()
    year = fiscal_year(tokyo_date(utcnow()))
    try:
        year = parse_fiscal_year(_field(form, "fiscal_year"))
        ranks: list[tuple[int, str]] = []
        for key, value in form.multi_items():
            if key.startswith("rank_") and isinstance(value, str):
                code = key.removeprefix("rank_")
                if not value.strip().isdigit():
                    raise AnalyticsError(
                        "{field}: 順位は 1 以上の整数で入力してください", field=key
                    )
                ranks.append((int(value), code))
        order = [code for _, code in sorted(ranks)]
        await context(request).in_transaction(
            set_rule, _field(form, "method"), order, _actor(request)
        )
    except AnalyticsError as exc:
        return await _render(request, year, 422, error=localize(exc), error_field=exc.field)
    return RedirectResponse(
        f"{plugin_path(request, 'finance_costs')}?fiscal_year={year}&saved=1", 303
    )


routes = [
    Route("/finance/costs", costs_page, methods=["GET"], name="finance_costs"),
    Route("/finance/costs", save_cost, methods=["POST"], name="finance_costs_save"),
    Route("/finance/allocation", save_rule, methods=["POST"], name="finance_allocation_save"),
]
