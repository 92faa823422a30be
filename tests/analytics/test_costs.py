from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from analytics.allocation import AllocationMethod
from analytics.costs import (
    Actor,
    annual_cost_lines,
    cost_history,
    current_rule,
    monthly_costs,
    set_cost,
    set_rule,
    spread_annual,
)
from analytics.errors import CostPeriodConflict, InvalidAllocationRule, UnknownService
from analytics.seeds import SERVICE_SEEDS, seed_services
from marketplace.models import StaffUser
from marketplace.vocab import StaffRole


@pytest.fixture
def finance(session: Session) -> Actor:
    staff = StaffUser(
        email="keiri@city.example",
        display_name="経理 花子",
        password_hash="x",
        role=StaffRole.FINANCE,
    )
    session.add(staff)
    session.flush()
    return Actor(staff.id, staff.display_name)


def test_seeds_are_idempotent_and_add_up_to_the_annual_costs(session: Session) -> None:
    assert seed_services(session, [2026]) > 0
    assert seed_services(session, [2026]) == 0
    lines = {line.code: line.running_cost for line in annual_cost_lines(session, 2026)}
    assert lines == {seed.code: seed.annual_cost for seed in SERVICE_SEEDS}
    snow = monthly_costs(session, 2026).query("code == 'snow-plough'")
    # Winter months carry the snow-plough cost.
    january = int(snow.loc[snow["month"] == date(2027, 1, 1), "running_cost"].iloc[0])
    june = int(snow.loc[snow["month"] == date(2026, 6, 1), "running_cost"].iloc[0])
    assert january > june


def test_every_edit_is_kept_with_who_when_old_and_new(session: Session, finance: Actor) -> None:
    seed_services(session)
    set_cost(session, "aizukko-plus", 2026, 0, 2_400_000, finance, "当初予算")
    set_cost(session, "aizukko-plus", 2026, 0, 2_400_000, finance)  # no change, no history row
    set_cost(session, "aizukko-plus", 2026, 0, 2_650_000, finance, "補正予算")
    history = cost_history(session, 2026)
    assert [(h.old_amount_yen, h.new_amount_yen, h.note) for h in history] == [
        (2_400_000, 2_650_000, "補正予算"),
        (None, 2_400_000, "当初予算"),
    ]
    assert {h.changed_by_name for h in history} == {"経理 花子"}
    assert all(h.changed_at.tzinfo is not None for h in history)


def test_a_year_is_annual_or_monthly_never_both(session: Session, finance: Actor) -> None:
    seed_services(session)
    set_cost(session, "maternal-health", 2026, 0, 3_600_000, finance)
    with pytest.raises(CostPeriodConflict, match="年間額で登録済み"):
        set_cost(session, "maternal-health", 2026, 5, 300_000, finance)
    set_cost(session, "snow-plough", 2026, 12, 800_000, finance)
    with pytest.raises(CostPeriodConflict, match="月別に登録済み"):
        set_cost(session, "snow-plough", 2026, 0, 4_800_000, finance)


def test_unknown_service_is_refused_with_the_known_ones_listed(
    session: Session, finance: Actor
) -> None:
    seed_services(session)
    with pytest.raises(UnknownService, match="snow-plough"):
        set_cost(session, "no-such-service", 2026, 0, 1, finance)


def test_annual_figures_spread_evenly_over_months() -> None:
    assert spread_annual(1_000_001) == [83_334] * 5 + [83_333] * 7
    assert sum(spread_annual(1_000_001)) == 1_000_001


def test_allocation_rule_history_and_validation(session: Session, finance: Actor) -> None:
    seed_services(session)
    assert current_rule(session).method is AllocationMethod.PROPORTIONAL
    rule = set_rule(session, "priority", ["portal-operations", "snow-plough"], finance)
    assert rule.method is AllocationMethod.PRIORITY
    assert rule.priority_order[:2] == ("portal-operations", "snow-plough")
    assert set(rule.priority_order) == {seed.code for seed in SERVICE_SEEDS}
    with pytest.raises(InvalidAllocationRule, match="method"):
        set_rule(session, "lottery", [], finance)
    with pytest.raises(UnknownService):
        set_rule(session, "priority", ["nope"], finance)
    with pytest.raises(InvalidAllocationRule, match="複数回"):
        set_rule(session, "priority", ["snow-plough", "snow-plough"], finance)
