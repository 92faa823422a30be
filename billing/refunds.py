"""Credit notes with refunds through the original payment method, and make-goods.

A refund never exceeds what was paid: it is capped by what the shop has overpaid on the invoice
after the credit note, and by each payment's own unrefunded amount. Card, konbini and Stripe
transfer payments are refunded through Stripe; bank transfers are recorded for finance to pay
out by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing import ledger
from billing.config import BillingConfig
from billing.errors import BillingError, RefundExceedsPayment
from billing.invoices import CreditDraft, credited_so_far, issue_credit_note
from billing.models import Invoice, Payment, PaymentStatus, Refund, RefundStatus
from billing.money import allocate
from billing.payments import LIVE_REFUND, STRIPE_METHODS, invoice_position
from marketplace.calendar import tokyo_date
from marketplace.db import utcnow


@dataclass(frozen=True)
class ProviderRefund:
    provider_reference: str
    succeeded: bool


class RefundGateway(Protocol):
    def refund(self, payment: Payment, amount: int, key: str) -> ProviderRefund:
        """Refund `amount` of a Stripe payment under idempotency key `key`."""
        ...


def refunded_amount(session: Session, payment_id: int) -> int:
    return int(
        session.execute(
            select(func.coalesce(func.sum(Refund.amount), 0)).where(
                Refund.payment_id == payment_id, Refund.status.in_(LIVE_REFUND)
            )
        ).scalar_one()
    )


def post_refund(session: Session, refund: Refund, payment: Payment) -> None:
    """Post a refund once it is real: recorded for payout (bank) or confirmed (Stripe)."""
    other = ledger.STRIPE_CLEARING if payment.method in STRIPE_METHODS else ledger.REFUNDS_PAYABLE
    ledger.post(
        session,
        kind="refund",
        description=f"返金 {payment.method.value} {refund.provider_reference or refund.id}",
        posted_on=tokyo_date(refund.completed_at or utcnow()),
        legs=[
            ledger.Leg(ledger.receivable(payment.shop_id), refund.amount),
            ledger.Leg(other, -refund.amount),
        ],
        key=f"refund:{refund.id}",
        invoice_id=payment.invoice_id,
        payment_id=payment.id,
        refund_id=refund.id,
        booking_id=payment.booking_id,
    )


def mark_refund_succeeded(session: Session, refund: Refund, at: datetime | None = None) -> bool:
    """Stripe confirmed the refund (webhook or API answer); idempotent."""
    if refund.status is RefundStatus.SUCCEEDED:
        return False
    refund.status = RefundStatus.SUCCEEDED
    refund.completed_at = at or utcnow()
    session.flush()
    post_refund(session, refund, session.get_one(Payment, refund.payment_id))
    return True


def mark_paid_out(session: Session, refund_id: int, paid_on: date) -> Refund:
    """Finance paid a bank-transfer refund out of the city's account."""
    refund = session.get(Refund, refund_id)
    if refund is None or refund.status is not RefundStatus.PENDING_PAYOUT:
        raise BillingError("支払待ちの返金ではありません")
    refund.status = RefundStatus.SUCCEEDED
    refund.completed_at = utcnow()
    session.flush()
    ledger.post(
        session,
        kind="refund_payout",
        description=f"返金の振込 {refund.id}",
        posted_on=paid_on,
        legs=[
            ledger.Leg(ledger.REFUNDS_PAYABLE, refund.amount),
            ledger.Leg(ledger.BANK, -refund.amount),
        ],
        key=f"payout:{refund.id}",
        refund_id=refund.id,
    )
    return refund


def refund_payments(
    session: Session,
    invoice: Invoice,
    amount: int,
    *,
    key_prefix: str,
    gateway: RefundGateway | None,
    credit_note_id: int | None = None,
    reason: str = "",
) -> list[Refund]:
    """Refund `amount` of the invoice's payments, newest first, each within what it paid."""
    payments = (
        session.execute(
            select(Payment)
            .where(Payment.invoice_id == invoice.id, Payment.status == PaymentStatus.SUCCEEDED)
            .order_by(Payment.succeeded_at.desc(), Payment.id.desc())
        )
        .scalars()
        .all()
    )
    available = {p.id: p.amount - refunded_amount(session, p.id) for p in payments}
    if amount > sum(available.values()):
        raise RefundExceedsPayment(
            "返金額 {amount:,}円 が入金額の残り {available:,}円 を超えています",
            amount=amount,
            available=sum(available.values()),
        )
    refunds = []
    remaining = amount
    for payment in payments:
        part = min(remaining, available[payment.id])
        if part <= 0:
            continue
        remaining -= part
        refund = Refund(
            payment_id=payment.id,
            credit_note_id=credit_note_id,
            amount=part,
            status=RefundStatus.PENDING,
            idempotency_key=f"{key_prefix}:payment:{payment.id}",
            reason=reason[:500],
        )
        session.add(refund)
        session.flush()
        if payment.method in STRIPE_METHODS:
            if gateway is None:
                raise BillingError("Stripe が設定されていないため返金できません")
            result = gateway.refund(payment, part, refund.idempotency_key)
            refund.provider_reference = result.provider_reference
            session.flush()
            if result.succeeded:
                mark_refund_succeeded(session, refund)
        else:
            refund.status = RefundStatus.PENDING_PAYOUT
            refund.completed_at = utcnow()
            session.flush()
            post_refund(session, refund, payment)
        refunds.append(refund)
    return refunds


def credit_and_refund(
    session: Session,
    config: BillingConfig,
    *,
    invoice_id: int,
    amount: int,
    reason: str,
    issue_date: date,
    service_period: tuple[date, date] | None = None,
    gateway: RefundGateway | None = None,
    line_ids: Sequence[int] | None = None,
) -> tuple[Invoice, list[Refund]]:
    """Issue a credit note for `amount` and refund whatever the shop has now overpaid.

    The credit is spread over the invoice's lines (or only `line_ids`, e.g. one booking's line
    on a shop's monthly invoice) in proportion to what remains on each. With
    `service_period`, the credit takes back revenue of those days (a cancellation's unstarted
    weeks); without it, of each line's own period (a make-good).
    """
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise BillingError("請求書 {invoice_id} が見つかりません", invoice_id=invoice_id)
    lines = [line for line in invoice.lines if line_ids is None or line.id in line_ids]
    if not lines:
        raise BillingError("返金する明細がありません")
    credited = credited_so_far(session, [line.id for line in lines])
    remaining = [line.amount - credited.get(line.id, (0, 0))[0] for line in lines]
    if amount <= 0 or amount > sum(remaining):
        raise RefundExceedsPayment(
            "返金額 {amount:,}円 は請求額の残り {remaining:,}円 以内にしてください",
            amount=amount,
            remaining=sum(remaining),
        )
    parts = allocate(amount, remaining)
    drafts: Sequence[CreditDraft] = [
        CreditDraft(
            line.id,
            part,
            *(_clip(service_period, line.service_start, line.service_end)),
        )
        for line, part in zip(lines, parts, strict=True)
        if part > 0
    ]
    note = issue_credit_note(
        session,
        config,
        original_invoice_id=invoice.id,
        credits=drafts,
        reason=reason,
        issue_date=issue_date,
    )
    overpaid = -invoice_position(session, invoice.id).outstanding
    refunds: list[Refund] = []
    if overpaid > 0:
        refunds = refund_payments(
            session,
            invoice,
            min(overpaid, amount),
            key_prefix=f"refund:{note.number}",
            gateway=gateway,
            credit_note_id=note.id,
            reason=reason,
        )
    return note, refunds


def _clip(
    period: tuple[date, date] | None, start: date | None, end: date | None
) -> tuple[date | None, date | None]:
    if start is None or end is None:
        return None, None
    if period is None:
        return start, end
    clipped = (max(period[0], start), min(period[1], end))
    # A credit for days outside the line falls back to the line's own last day.
    return clipped if clipped[0] <= clipped[1] else (end, end)
