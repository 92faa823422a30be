"""Sharing recognised ad revenue among citizen services: pure rules on integer yen.

Two methods, chosen by finance:

* ``proportional``: each service receives revenue in proportion to its running cost, never more
  than its cost. Yen left over by integer division go, one each, to the services with the
  largest fractional remainders (largest-remainder method), so the shares always sum exactly.
* ``priority``: services are paid in the priority order, each up to its full cost, until the
  revenue runs out.

Revenue beyond the total running cost is not allocated; it is reported as a surplus.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from billing import money


class AllocationMethod(enum.StrEnum):
    PROPORTIONAL = "proportional"
    PRIORITY = "priority"


@dataclass(frozen=True)
class ServiceShare:
    code: str
    name: str
    running_cost: int
    allocated_revenue: int

    @property
    def offset_ratio(self) -> float | None:
        """Fraction of the cost paid by ads; None when the service had no cost recorded."""
        if self.running_cost <= 0:
            return None
        return self.allocated_revenue / self.running_cost


@dataclass(frozen=True)
class Allocation:
    revenue: int
    shares: tuple[ServiceShare, ...]

    @property
    def running_costs(self) -> int:
        return sum(share.running_cost for share in self.shares)

    @property
    def allocated(self) -> int:
        return sum(share.allocated_revenue for share in self.shares)

    @property
    def surplus(self) -> int:
        return self.revenue - self.allocated

    @property
    def offset_ratio(self) -> float | None:
        costs = self.running_costs
        return None if costs <= 0 else self.revenue / costs


@dataclass(frozen=True)
class ServiceCostLine:
    code: str
    name: str
    running_cost: int


def allocate(
    revenue: int,
    services: Sequence[ServiceCostLine],
    method: AllocationMethod,
    priority_order: Sequence[str] = (),
) -> Allocation:
    """Allocate `revenue` yen to `services` by `method`; the result keeps the input order."""
    # Net refunds beyond revenue in a period: nothing to allocate, shown as a negative surplus.
    revenue_to_share = max(revenue, 0)
    if any(line.running_cost < 0 for line in services):
        raise ValueError("running costs must not be negative")
    if method is AllocationMethod.PROPORTIONAL:
        amounts = _proportional(revenue_to_share, [line.running_cost for line in services])
    else:
        amounts = _priority(revenue_to_share, services, priority_order)
    shares = tuple(
        ServiceShare(line.code, line.name, line.running_cost, amount)
        for line, amount in zip(services, amounts, strict=True)
    )
    return Allocation(revenue, shares)


def _proportional(revenue: int, costs: list[int]) -> list[int]:
    total = sum(costs)
    if total == 0:
        return [0] * len(costs)
    if revenue >= total:
        return list(costs)
    # Largest remainder, ties to the earlier service: billing's own splitter, so yen add up.
    return money.allocate(revenue, costs)


def _priority(
    revenue: int, services: Sequence[ServiceCostLine], priority_order: Sequence[str]
) -> list[int]:
    rank = {code: position for position, code in enumerate(priority_order)}
    # Services missing from the order come last, in their listed order.
    order = sorted(range(len(services)), key=lambda i: (rank.get(services[i].code, len(rank)), i))
    amounts = [0] * len(services)
    remaining = revenue
    for index in order:
        paid = min(remaining, services[index].running_cost)
        amounts[index] = paid
        remaining -= paid
    return amounts
