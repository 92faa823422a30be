from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from analytics.allocation import AllocationMethod, ServiceCostLine, allocate

LINES = [
    ServiceCostLine("snow", "除雪車ナビ", 4_800_000),
    ServiceCostLine("health", "母子健康情報サービス", 3_600_000),
    ServiceCostLine("portal", "ポータル運営", 9_600_000),
]


def test_proportional_shares_follow_costs_and_sum_exactly() -> None:
    result = allocate(1_800_001, LINES, AllocationMethod.PROPORTIONAL)
    amounts = [share.allocated_revenue for share in result.shares]
    assert sum(amounts) == 1_800_001
    assert amounts[0] in (480_000, 480_001)
    assert result.shares[0].offset_ratio is not None
    assert abs(result.shares[0].offset_ratio - 0.1) < 1e-6
    assert result.surplus == 0


def test_priority_fills_services_in_order() -> None:
    result = allocate(5_000_000, LINES, AllocationMethod.PRIORITY, ["portal", "snow"])
    by_code = {share.code: share.allocated_revenue for share in result.shares}
    assert by_code == {"portal": 5_000_000, "snow": 0, "health": 0}
    result = allocate(15_000_000, LINES, AllocationMethod.PRIORITY, ["portal", "snow"])
    by_code = {share.code: share.allocated_revenue for share in result.shares}
    assert by_code == {"portal": 9_600_000, "snow": 4_800_000, "health": 600_000}


def test_revenue_above_costs_is_a_surplus_not_over_allocation() -> None:
    result = allocate(20_000_000, LINES, AllocationMethod.PROPORTIONAL)
    assert [s.allocated_revenue for s in result.shares] == [line.running_cost for line in LINES]
    assert result.surplus == 2_000_000
    assert result.offset_ratio is not None and result.offset_ratio > 1


def test_no_costs_means_no_ratio_rather_than_division_by_zero() -> None:
    result = allocate(1000, [ServiceCostLine("a", "A", 0)], AllocationMethod.PROPORTIONAL)
    assert result.offset_ratio is None
    assert result.shares[0].offset_ratio is None
    assert allocate(0, [], AllocationMethod.PRIORITY).offset_ratio is None


def test_net_negative_revenue_allocates_nothing() -> None:
    result = allocate(-500, LINES, AllocationMethod.PROPORTIONAL)
    assert result.allocated == 0 and result.surplus == -500


@given(
    revenue=st.integers(min_value=0, max_value=10**10),
    costs=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=8),
    method=st.sampled_from(list(AllocationMethod)),
)
def test_allocation_never_exceeds_revenue_or_any_cost(
    revenue: int, costs: list[int], method: AllocationMethod
) -> None:
    lines = [ServiceCostLine(f"s{i}", f"S{i}", c) for i, c in enumerate(costs)]
    result = allocate(revenue, lines, method)
    assert result.allocated == min(revenue, sum(costs))
    for share in result.shares:
        assert 0 <= share.allocated_revenue <= share.running_cost
