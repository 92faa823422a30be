"""Card payments against **localstripe** with the real stripe library.

Path: customer, PaymentMethod, PaymentIntent (confirm on the server), a declined card (402),
a refund, and the signed webhook localstripe sends, delivered byte for byte to the app.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
import stripe
from starlette.testclient import TestClient

from billing import ledger
from billing.errors import PaymentDeclined
from billing.models import Invoice, Payment, PaymentStatus, RefundStatus
from billing.providers.stripe import StripeProvider
from billing.refunds import credit_and_refund
from billing.stripe_adapter import StripeGateway
from marketplace.lifecycle import BookingStatus
from portal_plugin.app import create_app
from tests.support.fake_stripe import sign
from tests.support.settings import make_settings

pytestmark = pytest.mark.stripe
API_KEY = "sk_test_billing"
WEBHOOK_SECRET = "whsec_billingtest"


def _card(base: str, number: str) -> str:
    client = stripe.StripeClient(API_KEY, base_addresses={"api": base}, max_network_retries=0)
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    return str(method.id)


def _register_webhook(base: str, url: str) -> None:
    """localstripe's own route for webhooks; each event is POSTed once, about a second later."""
    httpx.post(
        f"{base}/_config/webhooks/billing", data={"url": url, "secret": WEBHOOK_SECRET}
    ).raise_for_status()


@pytest.fixture
def provider(fresh_localstripe: str, billing_config: Any) -> StripeProvider:
    gateway = StripeGateway(API_KEY, api_base=fresh_localstripe, max_network_retries=0)
    return StripeProvider(gateway, billing_config)


@pytest.fixture
def stripe_client(database_url, engine, session_factory, fresh_localstripe):  # type: ignore[no-untyped-def]
    settings = make_settings(
        database_url,
        stripe_api_key=API_KEY,
        stripe_api_base=fresh_localstripe,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_max_network_retries=0,
        invoice_issuer_name="会津若松市",
        invoice_issuer_registration_number="T7000012050002",
    )
    app = create_app(settings, engine=engine)
    app.state.ctx.session_factory = session_factory
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def test_declined_card_leaves_the_booking_on_hold(
    session, make_shop, hold, provider, fresh_localstripe
) -> None:
    base = fresh_localstripe
    shop = make_shop()
    booking = hold(shop)
    payment = provider.start_card_payment(session, booking.id, shop.id)
    assert payment.client_secret and payment.provider_reference.startswith("pi_")
    with pytest.raises(PaymentDeclined) as caught:
        provider.confirm_card(session, payment, _card(base, "4000000000000341"))
    assert "カード" in str(caught.value)
    assert payment.status is PaymentStatus.FAILED and "仮押さえ" in (payment.failure_message or "")
    assert booking.status is BookingStatus.HELD
    # Same booking, same key: the PaymentIntent is reused rather than duplicated.
    assert provider.start_card_payment(session, booking.id, shop.id).id == payment.id


def test_card_payment_confirms_invoices_webhook_and_refund(
    session, make_shop, hold, provider, stripe_client, webhook_capture, fresh_localstripe
) -> None:
    _register_webhook(fresh_localstripe, webhook_capture.url)
    shop = make_shop()
    booking = hold(shop, weeks=4)
    payment = provider.start_card_payment(session, booking.id, shop.id)
    provider.confirm_card(session, payment, _card(fresh_localstripe, "4242424242424242"))
    assert payment.status is PaymentStatus.SUCCEEDED
    assert booking.status in (BookingStatus.IN_REVIEW, BookingStatus.SCHEDULED)
    invoice = session.get(Invoice, payment.invoice_id)
    assert invoice.total == booking.total_yen and invoice.payment_method.value == "card"
    assert ledger.balance(session, ledger.STRIPE_CLEARING) == booking.total_yen
    session.flush()

    # The signed webhook localstripe sent, delivered to the app: applied once, then a no-op.
    body, signature = webhook_capture.wait_for("payment_intent.succeeded")
    url = "/billing/stripe/webhook"
    first = stripe_client.post(url, content=body, headers={"Stripe-Signature": signature})
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "duplicate"  # the payment was already recorded
    again = stripe_client.post(url, content=body, headers={"Stripe-Signature": signature})
    assert again.json()["outcome"] == "duplicate"
    forged = stripe_client.post(
        url,
        content=body.replace(b"succeeded", b"SUCCEEDED"),
        headers={"Stripe-Signature": signature},
    )
    assert forged.status_code == 400
    stale = stripe_client.post(
        url, content=body, headers={"Stripe-Signature": sign(body, WEBHOOK_SECRET, 1_600_000_000)}
    )
    assert stale.status_code == 400
    assert stripe_client.post(url, content=body).status_code == 400

    # Cancel half: a credit note and a card refund through Stripe, within what was paid.
    note, refunds = credit_and_refund(
        session,
        provider.config,
        invoice_id=invoice.id,
        amount=invoice.total // 2,
        reason="2週分のキャンセル",
        issue_date=date(2026, 4, 21),
        gateway=provider.gateway,
    )
    (refund,) = refunds
    assert refund.amount == invoice.total // 2 and refund.status is RefundStatus.SUCCEEDED
    assert refund.provider_reference.startswith("re_")
    assert ledger.balance(session, ledger.STRIPE_CLEARING) == booking.total_yen - refund.amount
    assert session.get(Payment, payment.id).status is PaymentStatus.SUCCEEDED
    assert note.total == invoice.total // 2


def test_three_d_secure_waits_for_the_customer(
    session, make_shop, hold, provider, fresh_localstripe
) -> None:
    shop = make_shop()
    booking = hold(shop)
    payment = provider.start_card_payment(session, booking.id, shop.id)
    provider.confirm_card(session, payment, _card(fresh_localstripe, "4000002500003155"))
    assert payment.status is PaymentStatus.REQUIRES_ACTION
    assert booking.status is BookingStatus.HELD


def test_browser_confirmation_is_applied_by_the_webhook(
    session, make_shop, hold, provider, stripe_client, webhook_capture, fresh_localstripe
) -> None:
    """Stripe.js confirms in the browser; only the signed webhook tells us it succeeded."""
    _register_webhook(fresh_localstripe, webhook_capture.url)
    shop = make_shop()
    booking = hold(shop, weeks=2)
    payment = provider.start_card_payment(session, booking.id, shop.id)
    session.flush()
    browser = stripe.StripeClient(
        API_KEY, base_addresses={"api": fresh_localstripe}, max_network_retries=0
    )
    intent_id = payment.provider_reference
    browser.v1.payment_intents.update(
        intent_id, params={"payment_method": _card(fresh_localstripe, "4242424242424242")}
    )
    browser.v1.payment_intents.confirm(intent_id)
    body, signature = webhook_capture.wait_for("payment_intent.succeeded")
    response = stripe_client.post(
        "/billing/stripe/webhook", content=body, headers={"Stripe-Signature": signature}
    )
    assert response.status_code == 200 and response.json()["outcome"] == "succeeded"
    session.expire_all()
    paid = session.get(Payment, payment.id)
    assert paid.status is PaymentStatus.SUCCEEDED and paid.invoice_id is not None
    assert session.get(Invoice, paid.invoice_id).total == booking.total_yen
    session.refresh(booking)
    assert booking.status in (BookingStatus.IN_REVIEW, BookingStatus.SCHEDULED)


def test_money_for_a_booking_that_is_gone_is_refunded_in_full(
    session, make_shop, hold, provider, fresh_localstripe
) -> None:
    from marketplace.audit import Actor
    from marketplace.bookings.services import cancel_booking
    from marketplace.lifecycle import ActorKind

    shop = make_shop()
    booking = hold(shop)
    payment = provider.start_card_payment(session, booking.id, shop.id)
    cancel_booking(session, booking.id, Actor(ActorKind.SHOP, shop.id), shop_id=shop.id)
    provider.confirm_card(session, payment, _card(fresh_localstripe, "4242424242424242"))
    assert payment.status is PaymentStatus.CANCELED
    assert payment.invoice_id is None and "全額を返金" in (payment.failure_message or "")
    client = stripe.StripeClient(API_KEY, base_addresses={"api": fresh_localstripe})
    refunds = client.v1.refunds.list(params={"payment_intent": payment.provider_reference})
    assert [r.amount for r in refunds.data] == [booking.total_yen]
    assert ledger.balance(session, ledger.STRIPE_CLEARING) == 0
