"""Read-only views of billing for finance pages and for analytics (issue 7).

Analytics reads recognised revenue from here rather than from the ledger tables directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing import ledger
from billing.models import LedgerAccount, LedgerEntry
from marketplace.calendar import fiscal_months


@dataclass(frozen=True)
class MonthRevenue:
    month: date  # first day of the Tokyo month
    amount: int  # recognised ad revenue, tax excluded, net of credit notes


@dataclass(frozen=True)
class BookingMonthRevenue:
    booking_id: int
    month: date
    amount: int


def _revenue_query(fiscal_year: int):  # type: ignore[no-untyped-def]
    months = fiscal_months(fiscal_year)
    return (
        select(LedgerEntry.revenue_month, func.sum(LedgerEntry.amount))
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(
            LedgerAccount.code == ledger.AD_REVENUE,
            LedgerEntry.revenue_month >= months[0],
            LedgerEntry.revenue_month <= months[-1],
        )
    )


def recognised_revenue_by_month(session: Session, fiscal_year: int) -> list[MonthRevenue]:
    """Recognised revenue for each of the twelve months of `fiscal_year` (April first)."""
    rows = session.execute(_revenue_query(fiscal_year).group_by(LedgerEntry.revenue_month)).all()
    totals = {month: -int(total) for month, total in rows}
    return [MonthRevenue(month, totals.get(month, 0)) for month in fiscal_months(fiscal_year)]


def recognised_revenue_by_booking(session: Session, fiscal_year: int) -> list[BookingMonthRevenue]:
    """Recognised revenue per booking and month of `fiscal_year`; months with none omitted."""
    query = (
        _revenue_query(fiscal_year)
        .add_columns(LedgerEntry.booking_id)
        .where(LedgerEntry.booking_id.is_not(None))
        .group_by(LedgerEntry.booking_id, LedgerEntry.revenue_month)
    )
    result = [
        BookingMonthRevenue(int(booking), month, -int(total))
        for month, total, booking in session.execute(query).all()
        if total
    ]
    return sorted(result, key=lambda r: (r.booking_id, r.month))
