"""Fault: Stripe webhooks duplicated and out of order, end to end through the app's webhook route.

Broke: for a konbini payment, Stripe's `payment_intent.succeeded` is delivered first, then the
same event again (a retry), then the older `payment_intent.processing` (out of order), then a
third copy of `succeeded`, then a second, distinct `succeeded` event for the same intent (a
different event id, as a re-emission would have), then `processing` again.
Checked after every delivery: the answer is 200 and never moves the payment backwards; at the
end the payment is succeeded, the invoice paid, the fee and clearing balances are posted exactly
once (one payment's worth), there is exactly one payment for the invoice, and the whole ledger
check passes (also enforced after the test by the shared `ledger_is_consistent` fixture).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from billing import ledger
from billing.bookings import accept_invoice
from billing.check import check_ledger
from billing.models import Payment, PaymentMethod, PaymentStatus
from billing.payments import invoice_position
from billing.providers.stripe import StripeProvider
from tests.support.billing_world import NOW
from tests.support.fake_stripe import FAKE_STRIPE_WEBHOOK_SECRET, FakeStripe, fee_for, sign

pytestmark = [
    pytest.mark.fault,
    pytest.mark.stripe,
    pytest.mark.usefixtures("ledger_is_consistent"),
]


def _deliver(client: TestClient, event: dict[str, Any]) -> Any:
    body = json.dumps(event).encode()
    return client.post(
        "/billing/stripe/webhook",
        content=body,
        headers={"Stripe-Signature": sign(body, FAKE_STRIPE_WEBHOOK_SECRET)},
    )


def test_duplicate_and_out_of_order_webhooks_pay_once(
    session: Any,
    make_shop: Any,
    hold: Any,
    fake_stripe_provider: StripeProvider,
    fake_stripe: FakeStripe,
    fake_stripe_client: TestClient,
) -> None:
    shop = make_shop()
    invoice = accept_invoice(
        session,
        fake_stripe_provider.config,
        hold(shop).id,
        shop_id=shop.id,
        method=PaymentMethod.KONBINI,
        now=NOW,
    )
    start = fake_stripe_provider.start_invoice_payment(session, invoice, PaymentMethod.KONBINI)
    payment = session.get(Payment, start.payment_id)
    session.flush()
    intent_id = payment.provider_reference
    # Stripe's timeline: processing, then succeeded. The events are delivered the other way.
    processing = fake_stripe._event(
        "payment_intent.processing", dict(fake_stripe.intents[intent_id], status="processing")
    )
    succeeded = fake_stripe.customer_pays(intent_id)
    re_emitted = fake_stripe._event("payment_intent.succeeded", fake_stripe.intents[intent_id])
    assert re_emitted["id"] != succeeded["id"]

    outcomes = []
    for event in (succeeded, succeeded, processing, succeeded, re_emitted, processing):
        response = _deliver(fake_stripe_client, event)
        assert response.status_code == 200, response.text
        outcomes.append(response.json()["outcome"])
        session.expire_all()
        assert session.get(Payment, payment.id).status is PaymentStatus.SUCCEEDED
    # Only the first delivery changes anything; the stale and re-emitted ones are recognised too.
    assert outcomes == ["succeeded"] + ["duplicate"] * 5

    assert invoice_position(session, invoice.id).status == "paid"
    payments = session.scalar(
        select(func.count()).select_from(Payment).where(Payment.invoice_id == invoice.id)
    )
    assert payments == 1
    fee = fee_for(invoice.total)
    assert ledger.balance(session, ledger.STRIPE_FEES) == fee > 0
    assert ledger.balance(session, ledger.STRIPE_CLEARING) == invoice.total - fee
    report = check_ledger(session)
    assert report.ok, "\n".join(report.lines())
