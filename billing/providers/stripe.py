"""Stripe payments: cards for holds, konbini and Japan bank transfer for invoices.

`sync_intent` is the one place that turns a PaymentIntent's state into ours. It is called with a
freshly retrieved intent (from a webhook, the return page or reconcile), so events arriving out
of order cannot move a payment backwards: a succeeded payment stays succeeded.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.bookings import invoice_due_weeks
from billing.config import BillingConfig
from billing.errors import PaymentDeclined, PaymentNotAllowed
from billing.models import Invoice, Payment, PaymentMethod, PaymentStatus
from billing.payments import invoice_position, mark_failed, record_success
from billing.providers.base import PaymentStart
from billing.refunds import refund_payments
from billing.stripe_adapter import StripeGateway, as_dict, decline_message, stripe_fee
from marketplace.bookings.services import confirm_booking
from marketplace.calendar import tokyo_date
from marketplace.db import utcnow
from marketplace.errors import HoldExpired
from marketplace.lifecycle import BookingStatus, IllegalTransition
from marketplace.models import Booking, Shop

log = logging.getLogger(__name__)
KONBINI_EXPIRES_AFTER_DAYS = 3


class StripeProvider:
    methods = frozenset({PaymentMethod.CARD, PaymentMethod.KONBINI, PaymentMethod.CUSTOMER_BALANCE})

    def __init__(self, gateway: StripeGateway, config: BillingConfig) -> None:
        self.gateway = gateway
        self.config = config

    def _customer(self, session: Session, shop_id: int) -> str:
        shop = session.get_one(Shop, shop_id)
        return self.gateway.ensure_customer(shop.id, shop.business_name, shop.contact_email)

    def _existing(self, session: Session, key: str) -> Payment | None:
        return session.execute(
            select(Payment).where(Payment.idempotency_key == key)
        ).scalar_one_or_none()

    # Card payment of a hold ----------------------------------------------------------------
    def start_card_payment(self, session: Session, booking_id: int, shop_id: int) -> Payment:
        """A PaymentIntent for the whole booking; Stripe.js confirms it in the browser."""
        booking = session.get(Booking, booking_id)
        if booking is None or booking.shop_id != shop_id:
            raise PaymentNotAllowed("予約が見つかりません")
        key = f"pi:booking:{booking.id}:card"
        existing = self._existing(session, key)
        if existing is not None:
            return existing
        if booking.status is not BookingStatus.HELD:
            raise PaymentNotAllowed("仮押さえ中の予約だけをカードでお支払いいただけます")
        intent = self.gateway.card_intent(
            amount=booking.total_yen,
            customer=self._customer(session, shop_id),
            key=key,
            metadata={"booking_id": str(booking.id), "shop_id": str(shop_id)},
        )
        payment = Payment(
            shop_id=shop_id,
            booking_id=booking.id,
            method=PaymentMethod.CARD,
            amount=booking.total_yen,
            status=PaymentStatus.PENDING,
            provider_reference=str(intent.id),
            idempotency_key=key,
            client_secret=intent.client_secret,
        )
        session.add(payment)
        session.flush()
        return payment

    def confirm_card(self, session: Session, payment: Payment, payment_method: str) -> Payment:
        """Confirm on the server with a card the shop saved (and in tests).

        A decline leaves the booking on hold and raises PaymentDeclined with a message for the
        shop; the caller commits the failed state so the shop sees it.
        """
        assert payment.provider_reference
        try:
            intent = self.gateway.confirm_card(
                payment.provider_reference,
                payment_method,
                key=f"{payment.idempotency_key}:confirm:{payment_method}",
            )
        except PaymentDeclined as exc:
            mark_failed(session, payment, str(exc))
            raise
        if as_dict(intent).get("status") == "succeeded":
            intent = self.gateway.retrieve_intent(payment.provider_reference)  # with its fee
        self.sync_intent(session, intent)
        return payment

    # Konbini and Stripe bank transfer for an invoice ------------------------------------------
    def start_invoice_payment(
        self, session: Session, invoice: Invoice, method: PaymentMethod
    ) -> PaymentStart:
        owed = invoice_position(session, invoice.id).outstanding
        if owed <= 0:
            raise PaymentNotAllowed("この請求書はお支払い済みです")
        key = f"pi:invoice:{invoice.id}:{method.value}:{owed}"
        payment = self._existing(session, key)
        if payment is None:
            shop = session.get_one(Shop, invoice.shop_id)
            customer = self._customer(session, shop.id)
            metadata = {"invoice_id": str(invoice.id), "invoice_number": invoice.number}
            if method is PaymentMethod.KONBINI:
                intent = self.gateway.konbini_intent(
                    amount=owed,
                    customer=customer,
                    key=key,
                    name=shop.business_name,
                    email=shop.contact_email,
                    expires_after_days=KONBINI_EXPIRES_AFTER_DAYS,
                    metadata=metadata,
                )
            elif method is PaymentMethod.CUSTOMER_BALANCE:
                intent = self.gateway.bank_transfer_intent(
                    amount=owed, customer=customer, key=key, metadata=metadata
                )
            else:
                raise PaymentNotAllowed("{method} はここでは使えません", method=method.value)
            payment = Payment(
                shop_id=invoice.shop_id,
                invoice_id=invoice.id,
                booking_id=invoice.booking_id,
                method=method,
                amount=owed,
                status=PaymentStatus.PENDING,
                provider_reference=str(intent.id),
                idempotency_key=key,
                client_secret=intent.client_secret,
                next_action=_next_action_url(intent),
            )
            session.add(payment)
            session.flush()
            self.sync_intent(session, intent)
        label = "コンビニ払いの払込票" if method is PaymentMethod.KONBINI else "振込先口座のご案内"
        return PaymentStart(
            method, payment.id, f"{label}に沿ってお支払いください。", payment.next_action
        )

    # State from Stripe ---------------------------------------------------------------------------
    def sync_intent(self, session: Session, intent: Any) -> str:
        """Apply a (freshly retrieved) PaymentIntent to our payment; returns what happened."""
        intent_id = str(as_dict(intent)["id"])
        payment = session.execute(
            select(Payment).where(Payment.provider_reference == intent_id)
        ).scalar_one_or_none()
        if payment is None:
            log.info("PaymentIntent %s is not ours; ignored", intent_id)
            return "unknown"
        intent = as_dict(intent)
        status = intent["status"]
        if status == "succeeded":
            return self._succeeded(session, payment, intent)
        if payment.status is PaymentStatus.SUCCEEDED:
            return "already succeeded"
        if status == "requires_action":
            payment.status = PaymentStatus.REQUIRES_ACTION
            payment.next_action = _next_action_url(intent) or payment.next_action
        elif status == "processing":
            payment.status = PaymentStatus.PROCESSING
        elif status == "canceled":
            payment.status = PaymentStatus.CANCELED
        elif status == "requires_payment_method" and intent.get("last_payment_error"):
            error = intent["last_payment_error"]
            mark_failed(
                session, payment, decline_message(error.get("code"), error.get("decline_code"))
            )
        session.flush()
        return payment.status.value

    def _succeeded(self, session: Session, payment: Payment, intent: dict[str, Any]) -> str:
        if payment.status is PaymentStatus.SUCCEEDED:
            return "duplicate"
        received = int(intent.get("amount_received") or intent["amount"])
        if received != payment.amount:
            raise PaymentNotAllowed(
                "Stripe の入金額 {received} が支払額 {amount} と一致しません",
                received=received,
                amount=payment.amount,
            )
        now = utcnow()
        if payment.invoice_id is None:  # a card paid for a hold: confirm it and invoice it
            try:
                booking = confirm_booking(session, payment.booking_id or 0, now=now)
            except (HoldExpired, IllegalTransition):
                # Expired and resold, or cancelled, while the card was being confirmed.
                return self._hold_lost(session, payment)
            invoice = invoice_due_weeks(
                session,
                self.config,
                booking,
                method=PaymentMethod.CARD,
                issue_date=tokyo_date(now),
                through=None,
            )
            if invoice is None:
                raise PaymentNotAllowed(
                    "予約 {booking_id} はすでに請求済みです", booking_id=booking.id
                )
            payment.invoice_id = invoice.id
            session.flush()
        record_success(session, payment, fee=stripe_fee(intent), at=now)
        invoice = session.get_one(Invoice, payment.invoice_id)
        overpaid = -invoice_position(session, invoice.id).outstanding
        if overpaid > 0:  # e.g. also paid by bank meanwhile: give the surplus back, never keep it
            refund_payments(
                session,
                invoice,
                overpaid,
                key_prefix=f"refund:overpaid:{payment.id}",
                gateway=self.gateway,
                reason="二重払いの返金",
            )
        return "succeeded"

    def _hold_lost(self, session: Session, payment: Payment) -> str:
        # The shares went to someone else while the card was being confirmed: never keep money
        # for nothing. Refund in full; no invoice exists, so nothing is posted to the ledger.
        refund = self.gateway.refund(payment, payment.amount, f"refund:hold-lost:{payment.id}")
        payment.status = PaymentStatus.CANCELED
        payment.failure_message = (
            f"仮押さえの期限が切れ枠が埋まったため、全額を返金しました({refund.provider_reference})"
        )
        session.flush()
        return "hold lost, refunded"


def _next_action_url(intent: Any) -> str | None:
    action = as_dict(intent).get("next_action")
    if not action:
        return None
    konbini = action.get("konbini_display_details")
    if konbini:
        return str(konbini.get("hosted_voucher_url"))
    transfer = action.get("display_bank_transfer_instructions")
    if transfer:
        return str(transfer.get("hosted_instructions_url"))
    return None


__all__ = ["PaymentDeclined", "StripeProvider"]
