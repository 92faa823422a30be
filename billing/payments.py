"""Payments received against invoices, and where each invoice stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing import ledger
from billing.errors import PaymentNotAllowed
from billing.models import (
    DocumentKind,
    Invoice,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from marketplace.calendar import start_of_tokyo_day, tokyo_date
from marketplace.db import utcnow

STRIPE_METHODS = frozenset(
    {PaymentMethod.CARD, PaymentMethod.KONBINI, PaymentMethod.CUSTOMER_BALANCE}
)
LIVE_REFUND = (RefundStatus.PENDING, RefundStatus.PENDING_PAYOUT, RefundStatus.SUCCEEDED)


@dataclass(frozen=True)
class InvoicePosition:
    total: int
    credited: int
    paid: int
    refunded: int

    @property
    def outstanding(self) -> int:
        """What the shop still owes (negative: we owe the shop money back)."""
        return self.total - self.credited - self.paid + self.refunded

    @property
    def status(self) -> str:
        if self.total - self.credited == 0:
            return "credited"
        if self.outstanding <= 0:
            return "paid"
        return "partially_paid" if self.paid else "unpaid"


def invoice_position(session: Session, invoice_id: int) -> InvoicePosition:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise PaymentNotAllowed("請求書 {invoice_id} が見つかりません", invoice_id=invoice_id)
    credited = session.execute(
        select(func.coalesce(func.sum(Invoice.total), 0)).where(
            Invoice.original_invoice_id == invoice_id, Invoice.kind == DocumentKind.CREDIT_NOTE
        )
    ).scalar_one()
    paid = session.execute(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.invoice_id == invoice_id, Payment.status == PaymentStatus.SUCCEEDED
        )
    ).scalar_one()
    refunded = session.execute(
        select(func.coalesce(func.sum(Refund.amount), 0))
        .join(Payment, Payment.id == Refund.payment_id)
        .where(Payment.invoice_id == invoice_id, Refund.status.in_(LIVE_REFUND))
    ).scalar_one()
    return InvoicePosition(invoice.total, int(credited), int(paid), int(refunded))


def record_success(
    session: Session, payment: Payment, *, fee: int = 0, at: datetime | None = None
) -> bool:
    """Mark a payment succeeded and post it; a second call for the same payment does nothing.

    Returns True if this call recorded it.
    """
    if payment.status is PaymentStatus.SUCCEEDED:
        return False
    if payment.invoice_id is None:
        raise PaymentNotAllowed("請求書のない入金は記帳できません")
    at = at or utcnow()
    payment.status = PaymentStatus.SUCCEEDED
    payment.succeeded_at = at
    payment.fee = fee
    payment.failure_message = None
    session.flush()
    cash = ledger.STRIPE_CLEARING if payment.method in STRIPE_METHODS else ledger.BANK
    legs = [
        ledger.Leg(cash, payment.amount),
        ledger.Leg(ledger.receivable(payment.shop_id), -payment.amount),
    ]
    if fee:
        legs += [ledger.Leg(ledger.STRIPE_FEES, fee), ledger.Leg(cash, -fee)]
    ledger.post(
        session,
        kind="payment",
        description=f"入金 {payment.method.value} {payment.provider_reference or payment.id}",
        posted_on=tokyo_date(at),
        legs=legs,
        key=f"payment:{payment.id}",
        invoice_id=payment.invoice_id,
        payment_id=payment.id,
        booking_id=payment.booking_id,
    )
    return True


def record_bank_transfer(
    session: Session, invoice: Invoice, amount: int, *, reference: str, value_date: date
) -> Payment:
    """A transfer matched to `invoice` (by the import or by finance): never more than is owed."""
    position = invoice_position(session, invoice.id)
    if amount <= 0 or amount > position.outstanding:
        raise PaymentNotAllowed(
            "入金額 {amount:,}円 が請求書 {number} の未入金額 {outstanding:,}円 を超えています",
            amount=amount,
            number=invoice.number,
            outstanding=max(position.outstanding, 0),
        )
    payment = Payment(
        shop_id=invoice.shop_id,
        invoice_id=invoice.id,
        booking_id=invoice.booking_id,
        method=PaymentMethod.BANK_TRANSFER,
        amount=amount,
        status=PaymentStatus.PENDING,
        provider_reference=reference,
    )
    session.add(payment)
    session.flush()
    record_success(session, payment, at=start_of_tokyo_day(value_date))
    return payment


def mark_failed(session: Session, payment: Payment, message: str) -> None:
    if payment.status is PaymentStatus.SUCCEEDED:
        return  # a late failure event never undoes a recorded success
    payment.status = PaymentStatus.FAILED
    payment.failure_message = message[:500]
    session.flush()


def card_payment(session: Session, shop_id: int, booking_id: int) -> Payment | None:
    """The card payment that holds a shop's booking, if it has one."""
    return session.scalars(
        select(Payment).filter_by(booking_id=booking_id, shop_id=shop_id, method=PaymentMethod.CARD)
    ).one_or_none()
