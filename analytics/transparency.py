"""What residents are told on the public transparency page: aggregates only, from the ledger."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics.allocation import ServiceShare
from analytics.dashboard import load_offset_report
from billing import ledger
from billing.models import LedgerAccount, LedgerEntry
from marketplace.calendar import fiscal_year_bounds
from marketplace.models import Booking


@dataclass(frozen=True)
class Transparency:
    fiscal_year: int
    revenue: int
    running_costs: int
    offset_ratio: float | None
    services: tuple[ServiceShare, ...]
    advertisers: int
    priority_method: bool

    @property
    def has_data(self) -> bool:
        return self.revenue > 0 or self.running_costs > 0


def load_transparency(session: Session, fiscal_year: int) -> Transparency:
    report = load_offset_report(session, fiscal_year)
    first, last = fiscal_year_bounds(fiscal_year)
    advertisers = session.scalar(
        select(func.count(func.distinct(Booking.shop_id)))
        .join(LedgerEntry, LedgerEntry.booking_id == Booking.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(
            LedgerAccount.code == ledger.AD_REVENUE,
            LedgerEntry.revenue_month >= first,
            LedgerEntry.revenue_month <= last,
        )
    )
    return Transparency(
        fiscal_year=fiscal_year,
        revenue=max(report.revenue_recognised, 0),
        running_costs=report.running_costs,
        offset_ratio=report.offset_ratio,
        services=report.allocation.shares,
        advertisers=int(advertisers or 0),
        priority_method=report.method.value == "priority",
    )
