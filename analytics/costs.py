"""Use cases for citizen services' running costs and the allocation rule.

A service's cost for a fiscal year is recorded either as one annual figure (month 0) or month by
month, never both, so a year's total is never counted twice. Every change appends a history row
with the old and new amount, who made it and when.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.allocation import AllocationMethod, ServiceCostLine
from analytics.errors import CostPeriodConflict, InvalidAllocationRule, UnknownService
from analytics.inputs import MAX_YEN, month_start_in_fiscal_year
from analytics.models import ANNUAL, AllocationRule, CitizenService, ServiceCost, ServiceCostChange
from marketplace.calendar import fiscal_months


@dataclass(frozen=True)
class Actor:
    """Who changes a figure: a staff user, or the system (seeds, imports) with staff_id None."""

    staff_id: int | None
    name: str


SYSTEM = Actor(None, "system")


@dataclass(frozen=True)
class CostChange:
    service_name: str
    fiscal_year: int
    month: int
    old_amount_yen: int | None
    new_amount_yen: int
    changed_by_name: str
    changed_at: datetime
    note: str


def list_services(session: Session, include_inactive: bool = False) -> list[CitizenService]:
    query = select(CitizenService).order_by(CitizenService.id)
    if not include_inactive:
        query = query.where(CitizenService.active.is_(True))
    return list(session.scalars(query))


def service_by_code(session: Session, code: str) -> CitizenService:
    service = session.scalar(select(CitizenService).where(CitizenService.code == code))
    if service is None:
        known = ", ".join(s.code for s in list_services(session)) or "なし"
        raise UnknownService(
            "{field}: 「{code}」というサービスは登録されていません（登録済み: {known}）",
            field="service",
            code=code,
            known=known,
        )
    return service


def ensure_service(session: Session, code: str, name: str, description: str = "") -> CitizenService:
    existing = session.scalar(select(CitizenService).where(CitizenService.code == code))
    if existing is not None:
        return existing
    service = CitizenService(code=code, name=name, description=description)
    session.add(service)
    session.flush()
    return service


def set_cost(
    session: Session,
    service_code: str,
    fiscal_year: int,
    month: int,
    amount_yen: int,
    actor: Actor,
    note: str = "",
) -> ServiceCost:
    """Create or change one cost figure; appends a history row unless nothing changed."""
    assert isinstance(amount_yen, int) and 0 <= amount_yen <= MAX_YEN, "parse with parse_yen"
    if month != ANNUAL:
        month_start_in_fiscal_year(fiscal_year, month)  # validates the month
    service = service_by_code(session, service_code)
    rows = list(
        session.scalars(
            select(ServiceCost).where(
                ServiceCost.service_id == service.id, ServiceCost.fiscal_year == fiscal_year
            )
        )
    )
    _refuse_mixed_periods(service.name, fiscal_year, month, rows)
    cost = next((row for row in rows if row.month == month), None)
    old_amount = None if cost is None else cost.amount_yen
    if cost is None:
        cost = ServiceCost(
            service_id=service.id,
            fiscal_year=fiscal_year,
            month=month,
            amount_yen=amount_yen,
            updated_by=actor.staff_id,
        )
        session.add(cost)
        session.flush()
    elif old_amount == amount_yen:
        return cost
    else:
        cost.amount_yen = amount_yen
        cost.updated_by = actor.staff_id
    session.add(
        ServiceCostChange(
            cost_id=cost.id,
            old_amount_yen=old_amount,
            new_amount_yen=amount_yen,
            changed_by=actor.staff_id,
            changed_by_name=actor.name[:80],
            note=note[:200],
        )
    )
    session.flush()
    return cost


def _refuse_mixed_periods(
    name: str, fiscal_year: int, month: int, rows: Sequence[ServiceCost]
) -> None:
    has_annual = any(row.month == ANNUAL for row in rows)
    has_monthly = any(row.month != ANNUAL for row in rows)
    if month == ANNUAL and has_monthly:
        raise CostPeriodConflict(
            "{field}: {name} の {year} 年度は月別に登録済みです。月別の金額を修正してください",
            field="month",
            name=name,
            year=fiscal_year,
        )
    if month != ANNUAL and has_annual:
        raise CostPeriodConflict(
            "{field}: {name} の {year} 年度は年間額で登録済みです。年間額を修正してください",
            field="month",
            name=name,
            year=fiscal_year,
        )


def cost_history(
    session: Session, fiscal_year: int | None = None, limit: int = 200
) -> list[CostChange]:
    query = (
        select(ServiceCostChange, ServiceCost, CitizenService)
        .join(ServiceCost, ServiceCost.id == ServiceCostChange.cost_id)
        .join(CitizenService, CitizenService.id == ServiceCost.service_id)
        .order_by(ServiceCostChange.changed_at.desc(), ServiceCostChange.id.desc())
        .limit(limit)
    )
    if fiscal_year is not None:
        query = query.where(ServiceCost.fiscal_year == fiscal_year)
    return [
        CostChange(
            service.name,
            cost.fiscal_year,
            cost.month,
            change.old_amount_yen,
            change.new_amount_yen,
            change.changed_by_name,
            change.changed_at,
            change.note,
        )
        for change, cost, service in session.execute(query).tuples()
    ]


MONTHLY_COST_COLUMNS = ["code", "name", "month", "running_cost"]


def monthly_costs(session: Session, fiscal_year: int) -> pd.DataFrame:
    """One row per active service and month of the fiscal year (MONTHLY_COST_COLUMNS).

    Annual figures are spread evenly over the twelve months; the yen that do not divide evenly
    go to the first months, so the months always sum to the annual figure.
    """
    services = list_services(session)
    rows = session.execute(
        select(ServiceCost.service_id, ServiceCost.month, ServiceCost.amount_yen).where(
            ServiceCost.fiscal_year == fiscal_year
        )
    ).tuples()
    by_service: dict[int, dict[int, int]] = {}
    for service_id, month, amount in rows:
        by_service.setdefault(service_id, {})[month] = amount
    months = fiscal_months(fiscal_year)
    records: list[dict[str, object]] = []
    for service in services:
        figures = by_service.get(service.id, {})
        spread = spread_annual(figures.get(ANNUAL, 0))
        for position, month_start in enumerate(months):
            amount = figures.get(month_start.month, 0) + spread[position]
            records.append(
                {
                    "code": service.code,
                    "name": service.name,
                    "month": month_start,
                    "running_cost": amount,
                }
            )
    frame = pd.DataFrame.from_records(records, columns=MONTHLY_COST_COLUMNS)
    return frame.astype({"running_cost": "int64"})


def spread_annual(amount: int) -> list[int]:
    base, extra = divmod(amount, 12)
    return [base + (1 if index < extra else 0) for index in range(12)]


def annual_cost_lines(session: Session, fiscal_year: int) -> list[ServiceCostLine]:
    frame = monthly_costs(session, fiscal_year)
    lines = []
    for service in list_services(session):
        total = int(frame.loc[frame["code"] == service.code, "running_cost"].sum())
        lines.append(ServiceCostLine(service.code, service.name, total))
    return lines


def cost_table(session: Session, fiscal_year: int) -> dict[str, dict[int, int]]:
    """Recorded figures per service code: {code: {month (0 = annual): amount}}."""
    table: dict[str, dict[int, int]] = {}
    query = (
        select(CitizenService.code, ServiceCost.month, ServiceCost.amount_yen)
        .join(ServiceCost, ServiceCost.service_id == CitizenService.id)
        .where(ServiceCost.fiscal_year == fiscal_year)
    )
    for code, month, amount in session.execute(query).tuples():
        table.setdefault(code, {})[month] = amount
    return table


@dataclass(frozen=True)
class RuleInForce:
    method: AllocationMethod
    priority_order: tuple[str, ...]
    changed_by_name: str
    changed_at: datetime | None


def current_rule(session: Session) -> RuleInForce:
    rule = session.scalar(select(AllocationRule).order_by(AllocationRule.id.desc()).limit(1))
    if rule is None:
        order = tuple(service.code for service in list_services(session))
        return RuleInForce(AllocationMethod.PROPORTIONAL, order, "既定", None)
    return RuleInForce(
        AllocationMethod(rule.method),
        tuple(rule.priority_order),
        rule.changed_by_name,
        rule.changed_at,
    )


def set_rule(
    session: Session, method: str, priority_order: Sequence[str], actor: Actor
) -> RuleInForce:
    try:
        chosen = AllocationMethod(method)
    except ValueError:
        raise InvalidAllocationRule(
            "{field}: 配分方法は「費用に比例」（proportional）または「優先順位」（priority）を選んでください",
            field="method",
        ) from None
    known = [service.code for service in list_services(session)]
    order = [code for code in priority_order if code]
    for code in order:
        if code not in known:
            service_by_code(session, code)
    if len(set(order)) != len(order):
        raise InvalidAllocationRule(
            "{field}: 同じサービスが複数回指定されています", field="priority_order"
        )
    order += [code for code in known if code not in order]
    session.add(
        AllocationRule(
            method=chosen.value,
            priority_order=order,
            changed_by=actor.staff_id,
            changed_by_name=actor.name[:80],
        )
    )
    session.flush()
    return current_rule(session)


def rule_history(session: Session, limit: int = 50) -> list[AllocationRule]:
    return list(
        session.scalars(select(AllocationRule).order_by(AllocationRule.id.desc()).limit(limit))
    )


def month_label(month: date) -> str:
    return f"{month.year}年{month.month}月"
