"""Reading the books and the inventory into the small frames the report modules take.

Revenue comes from the ledger through `billing.reports`, never from raw delivery events, so the
dashboard agrees with the books. The heavy lifting (sums per month, per booking, per invoice) is
done by SQL GROUP BY; pandas only joins and shapes the small results.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics.breakdowns import (
    ADVERTISER_COLUMNS,
    BOOKING_REVENUE_COLUMNS,
    OPEN_INVOICE_COLUMNS,
    SELLTHROUGH_COLUMNS,
)
from analytics.offset import REVENUE_COLUMNS
from billing import ledger, reports
from billing.bookings import INVOICEABLE
from billing.models import (
    DocumentKind,
    Invoice,
    LedgerAccount,
    LedgerEntry,
    Payment,
    PaymentStatus,
    Refund,
)
from billing.payments import LIVE_REFUND
from billing.recognition import schedule
from marketplace.calendar import fiscal_year, fiscal_year_bounds
from marketplace.models import Booking, InventoryWeek, Placement, Shop

# Bookings whose money is committed: the statuses billing invoices.
BOOKED_STATUSES = tuple(INVOICEABLE)


def revenue_by_month(session: Session, year: int) -> pd.DataFrame:
    rows = [(r.month, r.amount) for r in reports.recognised_revenue_by_month(session, year)]
    return pd.DataFrame(rows, columns=REVENUE_COLUMNS).astype({"revenue": "int64"})


def revenue_history(session: Session, year: int) -> pd.DataFrame:
    """This fiscal year's and last year's recognised revenue (the forecast's run rate needs it)."""
    return pd.concat(
        [revenue_by_month(session, year - 1), revenue_by_month(session, year)], ignore_index=True
    )


def booking_revenue(session: Session, year: int) -> pd.DataFrame:
    rows = reports.recognised_revenue_by_booking(session, year)
    if not rows:
        return pd.DataFrame(columns=BOOKING_REVENUE_COLUMNS)
    frame = pd.DataFrame(
        [(r.booking_id, r.month, r.amount) for r in rows],
        columns=["booking_id", "month", "revenue"],
    )
    shops = pd.DataFrame(
        session.execute(
            select(Booking.id, Shop.id, Shop.category, Shop.district)
            .join(Shop, Shop.id == Booking.shop_id)
            .where(Booking.id.in_(frame["booking_id"].unique().tolist()))
        ).all(),
        columns=["booking_id", "shop_id", "category", "district"],
    )
    return frame.merge(shops, on="booking_id", how="inner")[BOOKING_REVENUE_COLUMNS]


def advertiser_revenue(session: Session, up_to_year: int) -> pd.DataFrame:
    """Recognised revenue per shop and fiscal year, every year up to `up_to_year`."""
    _, last_day = fiscal_year_bounds(up_to_year)
    query = (
        select(
            Booking.shop_id,
            Shop.business_name,
            LedgerEntry.revenue_month,
            func.sum(LedgerEntry.amount),
        )
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .join(Booking, Booking.id == LedgerEntry.booking_id)
        .join(Shop, Shop.id == Booking.shop_id)
        .where(LedgerAccount.code == ledger.AD_REVENUE, LedgerEntry.revenue_month <= last_day)
        .group_by(Booking.shop_id, Shop.business_name, LedgerEntry.revenue_month)
    )
    rows = [
        (shop_id, name, fiscal_year(month), -int(total))
        for shop_id, name, month, total in session.execute(query).all()
    ]
    if not rows:
        return pd.DataFrame(columns=ADVERTISER_COLUMNS)
    frame = pd.DataFrame(rows, columns=ADVERTISER_COLUMNS)
    return frame.groupby(["shop_id", "shop_name", "fiscal_year"], as_index=False).agg(
        revenue=("revenue", "sum")
    )


def scheduled_revenue(session: Session, year: int) -> pd.DataFrame:
    """Revenue (tax excluded) that booked bookings will earn in each month of the fiscal year.

    Uses billing's straight-line schedule over each booking's days, as recognition will.
    """
    first_day, last_day = fiscal_year_bounds(year)
    bookings = session.execute(
        select(Booking.total_yen, Booking.tax_yen, Booking.first_week, Booking.last_week).where(
            Booking.status.in_(BOOKED_STATUSES),
            Booking.last_week >= first_day - timedelta(days=6),
            Booking.first_week <= last_day,
        )
    ).all()
    totals: dict[date, int] = {}
    for total, tax, first_week, last_week in bookings:
        end = last_week + timedelta(days=6)
        for month, amount in schedule(total - tax, first_week, end, end).items():
            if first_day <= month <= last_day:
                totals[month] = totals.get(month, 0) + amount
    return pd.DataFrame(sorted(totals.items()), columns=REVENUE_COLUMNS)


def sellthrough_weeks(session: Session, year: int) -> pd.DataFrame:
    first_day, last_day = fiscal_year_bounds(year)
    rows = session.execute(
        select(
            Placement.name,
            InventoryWeek.week_start,
            InventoryWeek.total_shares,
            InventoryWeek.sold_shares,
        )
        .join(Placement, Placement.id == InventoryWeek.placement_id)
        .where(InventoryWeek.week_start >= first_day, InventoryWeek.week_start <= last_day)
        .order_by(Placement.name, InventoryWeek.week_start)
    ).all()
    return pd.DataFrame(rows, columns=SELLTHROUGH_COLUMNS)


def open_invoices(session: Session) -> pd.DataFrame:
    """Every invoice with money still owed: total − credited − paid + refunded (as billing)."""
    credited = (
        select(
            Invoice.original_invoice_id.label("invoice_id"), func.sum(Invoice.total).label("amount")
        )
        .where(Invoice.kind == DocumentKind.CREDIT_NOTE)
        .group_by(Invoice.original_invoice_id)
        .subquery()
    )
    paid = (
        select(Payment.invoice_id.label("invoice_id"), func.sum(Payment.amount).label("amount"))
        .where(Payment.status == PaymentStatus.SUCCEEDED)
        .group_by(Payment.invoice_id)
        .subquery()
    )
    refunded = (
        select(Payment.invoice_id.label("invoice_id"), func.sum(Refund.amount).label("amount"))
        .join(Payment, Payment.id == Refund.payment_id)
        .where(Refund.status.in_(LIVE_REFUND))
        .group_by(Payment.invoice_id)
        .subquery()
    )
    outstanding = (
        Invoice.total
        - func.coalesce(credited.c.amount, 0)
        - func.coalesce(paid.c.amount, 0)
        + func.coalesce(refunded.c.amount, 0)
    )
    query = (
        select(
            Invoice.number,
            Invoice.recipient_name,
            Invoice.issue_date,
            func.coalesce(Invoice.due_date, Invoice.issue_date),
            outstanding,
        )
        .outerjoin(credited, credited.c.invoice_id == Invoice.id)
        .outerjoin(paid, paid.c.invoice_id == Invoice.id)
        .outerjoin(refunded, refunded.c.invoice_id == Invoice.id)
        .where(Invoice.kind == DocumentKind.INVOICE, outstanding > 0)
        .order_by(Invoice.issue_date, Invoice.number)
    )
    frame = pd.DataFrame(session.execute(query).all(), columns=OPEN_INVOICE_COLUMNS)
    return frame.astype({"outstanding": "int64"})
