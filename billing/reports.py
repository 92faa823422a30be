"""Read-only views of billing for finance pages and for analytics (issue 7).

Analytics reads recognised revenue from here rather than from the ledger tables directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from billing import ledger
from billing.models import (
    BankTransaction,
    Invoice,
    LedgerAccount,
    LedgerEntry,
    Payment,
    Refund,
)
from billing.payments import InvoicePosition, invoice_position
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


def _revenue_query(fiscal_year: int) -> Select[tuple[date | None, Any]]:
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


@dataclass(frozen=True)
class AgingRow:
    shop_id: int
    shop_name: str
    not_due: int = 0
    days_1_30: int = 0
    days_31_60: int = 0
    days_61_90: int = 0
    over_90: int = 0

    @property
    def total(self) -> int:
        return self.not_due + self.days_1_30 + self.days_31_60 + self.days_61_90 + self.over_90


def aging(session: Session, as_of: date) -> list[AgingRow]:
    """Outstanding receivables per shop by days past due (30/60/90)."""
    from billing.models import DocumentKind, Invoice
    from billing.payments import invoice_position
    from marketplace.models import Shop

    rows: dict[int, dict[str, int]] = {}
    names: dict[int, str] = {}
    invoices = session.execute(
        select(Invoice, Shop.business_name)
        .join(Shop, Shop.id == Invoice.shop_id)
        .where(Invoice.kind == DocumentKind.INVOICE)
    ).all()
    for invoice, name in invoices:
        owed = invoice_position(session, invoice.id).outstanding
        if owed <= 0:
            continue
        late = (as_of - (invoice.due_date or invoice.issue_date)).days
        bucket = (
            "not_due"
            if late <= 0
            else "days_1_30"
            if late <= 30
            else "days_31_60"
            if late <= 60
            else "days_61_90"
            if late <= 90
            else "over_90"
        )
        shop = rows.setdefault(invoice.shop_id, {})
        shop[bucket] = shop.get(bucket, 0) + owed
        names[invoice.shop_id] = name
    return sorted(
        (AgingRow(shop_id, names[shop_id], **buckets) for shop_id, buckets in rows.items()),
        key=lambda r: (-r.over_90, -r.days_61_90, -r.days_31_60, -r.total, r.shop_id),
    )


@dataclass(frozen=True)
class InvoiceRow:
    invoice: Invoice
    position: InvoicePosition


def recent_invoices(session: Session, limit: int = 500) -> list[InvoiceRow]:
    """The latest invoices and credit notes, each with where its original invoice stands."""
    invoices = session.scalars(select(Invoice).order_by(Invoice.id.desc()).limit(limit))
    return [
        InvoiceRow(inv, invoice_position(session, inv.original_invoice_id or inv.id))
        for inv in invoices
    ]


def invoice_by_number(session: Session, number: str) -> Invoice | None:
    return session.scalars(select(Invoice).where(Invoice.number == number)).one_or_none()


def recent_bank_transactions(session: Session, limit: int = 50) -> list[BankTransaction]:
    return list(
        session.scalars(select(BankTransaction).order_by(BankTransaction.id.desc()).limit(limit))
    )


def recent_refunds(session: Session, limit: int = 200) -> list[tuple[Refund, Payment]]:
    """The latest refunds, each with the payment it returns money from."""
    rows = session.execute(
        select(Refund, Payment)
        .join(Payment, Payment.id == Refund.payment_id)
        .order_by(Refund.id.desc())
        .limit(limit)
    ).tuples()
    return list(rows)
