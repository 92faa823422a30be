"""Konbini, Japan bank transfer (customer_balance), reconcile and retries against the **fake
Stripe server** in tests/support/fake_stripe.py: localstripe implements none of them."""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any

import pytest
from starlette.testclient import TestClient

from billing import ledger
from billing.bookings import accept_invoice
from billing.errors import PaymentProviderUnavailable
from billing.models import Payment, PaymentMethod, PaymentStatus
from billing.payments import invoice_position
from billing.webhooks import reconcile
from tests.support.billing_world import NOW
from tests.support.fake_stripe import FAKE_STRIPE_WEBHOOK_SECRET, fee_for, sign

pytestmark = pytest.mark.stripe


def _deliver(client: TestClient, event: dict[str, Any]):  # type: ignore[no-untyped-def]
    body = json.dumps(event).encode()
    return client.post(
        "/billing/stripe/webhook",
        content=body,
        headers={"Stripe-Signature": sign(body, FAKE_STRIPE_WEBHOOK_SECRET)},
    )


@pytest.mark.parametrize(
    ("method", "url_part"),
    [(PaymentMethod.KONBINI, "konbini/voucher"), (PaymentMethod.CUSTOMER_BALANCE, "instructions")],
)
def test_invoice_paid_through_stripe_by_webhook(
    session,
    make_shop,
    hold,
    fake_stripe_provider,
    fake_stripe,
    fake_stripe_client,
    method,
    url_part,
) -> None:
    shop = make_shop()
    booking = hold(shop)
    invoice = accept_invoice(
        session, fake_stripe_provider.config, booking.id, shop_id=shop.id, method=method, now=NOW
    )
    start = fake_stripe_provider.start_invoice_payment(session, invoice, method)
    assert url_part in (start.next_action_url or "")
    payment = session.get(Payment, start.payment_id)
    assert payment.status is PaymentStatus.REQUIRES_ACTION
    assert invoice_position(session, invoice.id).status == "unpaid"
    session.flush()

    event = fake_stripe.customer_pays(payment.provider_reference)
    response = _deliver(fake_stripe_client, event)
    assert response.status_code == 200 and response.json()["outcome"] == "succeeded"
    assert _deliver(fake_stripe_client, event).json()["outcome"] == "duplicate"
    session.expire_all()
    assert session.get(Payment, payment.id).status is PaymentStatus.SUCCEEDED
    assert invoice_position(session, invoice.id).status == "paid"
    fee = fee_for(invoice.total)
    assert session.get(Payment, payment.id).fee == fee > 0
    assert ledger.balance(session, ledger.STRIPE_FEES) == fee
    assert ledger.balance(session, ledger.STRIPE_CLEARING) == invoice.total - fee


def test_unknown_objects_are_ignored_and_out_of_order_events_reread(
    session, make_shop, hold, fake_stripe_provider, fake_stripe, fake_stripe_client
) -> None:
    shop = make_shop()
    invoice = accept_invoice(
        session, fake_stripe_provider.config, hold(shop).id, shop_id=shop.id, now=NOW
    )
    start = fake_stripe_provider.start_invoice_payment(session, invoice, PaymentMethod.KONBINI)
    payment = session.get(Payment, start.payment_id)
    session.flush()
    stale_event = fake_stripe._event(
        "payment_intent.requires_action", fake_stripe.intents[payment.provider_reference]
    )
    fake_stripe.customer_pays(payment.provider_reference)
    # The older "requires_action" event arrives after the payment succeeded: re-reading the
    # intent applies its current state, so the payment is recorded, never moved backwards.
    assert _deliver(fake_stripe_client, stale_event).json()["outcome"] == "succeeded"
    alien = {
        "id": "evt_alien",
        "object": "event",
        "type": "customer.created",
        "created": 1,
        "data": {"object": {"id": "cus_x", "object": "customer"}},
    }
    assert _deliver(fake_stripe_client, alien).json()["outcome"] == "ignored"
    unknown_pi = dict(fake_stripe.intents[payment.provider_reference], id="pi_not_ours")
    fake_stripe.intents["pi_not_ours"] = unknown_pi
    other = {
        "id": "evt_other",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": 1,
        "data": {"object": unknown_pi},
    }
    assert _deliver(fake_stripe_client, other).json()["outcome"] == "unknown"


def test_reconcile_applies_missed_events_once(
    session, session_factory, make_shop, hold, fake_stripe_provider, fake_stripe
) -> None:
    shop = make_shop()
    invoice = accept_invoice(
        session, fake_stripe_provider.config, hold(shop).id, shop_id=shop.id, now=NOW
    )
    start = fake_stripe_provider.start_invoice_payment(
        session, invoice, PaymentMethod.CUSTOMER_BALANCE
    )
    payment = session.get(Payment, start.payment_id)
    session.flush()
    fake_stripe.customer_pays(payment.provider_reference)  # the webhook never reached us

    @contextmanager
    def scope():  # type: ignore[no-untyped-def]
        with session_factory.begin() as s:
            yield s

    first = reconcile(scope, fake_stripe_provider, created_after=0)
    assert [outcome for _, _, outcome in first] == ["succeeded"]
    assert [
        outcome for _, _, outcome in reconcile(scope, fake_stripe_provider, created_after=0)
    ] == ["duplicate"]
    session.expire_all()
    assert invoice_position(session, invoice.id).status == "paid"


def test_unreachable_stripe_is_retried_under_the_same_key(
    session, make_shop, hold, fake_stripe_provider, fake_stripe
) -> None:
    shop = make_shop()
    invoice = accept_invoice(
        session, fake_stripe_provider.config, hold(shop).id, shop_id=shop.id, now=NOW
    )
    fake_stripe.fail_next(2)
    start = fake_stripe_provider.start_invoice_payment(session, invoice, PaymentMethod.KONBINI)
    assert start.payment_id is not None
    customers = [key for _, path, key in fake_stripe.requests if path == "/v1/customers"]
    # Two dropped attempts and the successful one, all under the same idempotency key.
    assert customers == [f"customer:shop:{shop.id}"] * 3
    creates = [key for _, path, key in fake_stripe.requests if path == "/v1/payment_intents"]
    assert len(creates) == 1 and creates[0].startswith(f"pi:invoice:{invoice.id}:konbini")
    # Down for longer than the retries: a clear error, nothing half-written.
    fake_stripe.fail_next(10)
    savepoint = session.begin_nested()
    with pytest.raises(PaymentProviderUnavailable, match="接続できません"):
        fake_stripe_provider.start_invoice_payment(session, invoice, PaymentMethod.CUSTOMER_BALANCE)
    savepoint.rollback()
    assert session.query(Payment).count() == 1


def test_konbini_limits_are_checked_before_calling_stripe(fake_stripe_provider) -> None:
    from billing.errors import PaymentDeclined

    with pytest.raises(PaymentDeclined, match="300,000"):
        fake_stripe_provider.gateway.konbini_intent(
            amount=300_001,
            customer="cus_x",
            key="k",
            name="n",
            email="e@example.jp",
            expires_after_days=3,
            metadata={},
        )
