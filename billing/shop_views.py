"""What a shop sees of its billing: invoices with their status, and payments."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.config import BillingConfig
from billing.errors import InvoiceNotFound
from billing.models import Invoice, Payment
from billing.payments import InvoicePosition, invoice_position
from billing.rendering import InvoiceView, invoice_view


@dataclass(frozen=True)
class ShopInvoiceRow:
    invoice: Invoice
    position: InvoicePosition


@dataclass(frozen=True)
class ShopBilling:
    invoices: list[ShopInvoiceRow]
    payments: list[Payment]


def shop_billing(session: Session, shop_id: int) -> ShopBilling:
    invoices = session.execute(
        select(Invoice).where(Invoice.shop_id == shop_id).order_by(Invoice.id.desc())
    ).scalars()
    rows = [
        ShopInvoiceRow(inv, invoice_position(session, inv.original_invoice_id or inv.id))
        for inv in invoices
    ]
    payments = list(
        session.execute(
            select(Payment).where(Payment.shop_id == shop_id).order_by(Payment.id.desc())
        ).scalars()
    )
    return ShopBilling(rows, payments)


def shop_invoice(
    session: Session, config: BillingConfig, shop_id: int, number: str
) -> tuple[Invoice, InvoiceView]:
    """One of the shop's own invoices; another shop's is reported as not found."""
    invoice = session.execute(
        select(Invoice).where(Invoice.number == number, Invoice.shop_id == shop_id)
    ).scalar_one_or_none()
    if invoice is None:
        raise InvoiceNotFound("請求書が見つかりません")
    return invoice, invoice_view(session, config, invoice)
