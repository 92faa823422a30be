"""The shop's billing pages over HTTP: choosing to pay by invoice, seeing invoices and PDFs,
and not seeing another shop's invoices."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from billing.check import check_ledger
from marketplace.bookings.requests import BookingRequest
from marketplace.bookings.services import place_hold
from marketplace.calendar import tokyo_date, week_start
from marketplace.db import utcnow
from marketplace.inventory.targeting import Targeting
from marketplace.lifecycle import BookingStatus
from marketplace.models import Booking, Shop
from marketplace.vocab import ShopStatus
from portal_plugin.app import create_app
from portal_plugin.demo.inventory import seed_inventory
from tests.support.fake_stripe import FakeStripe
from tests.support.marketplace_http import CSRF, HTML, post_form, sign_up
from tests.support.settings import make_settings


@pytest.fixture
def billing_client(database_url, engine, session_factory) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    settings = make_settings(
        database_url,
        invoice_issuer_name="会津若松市 スマートシティ推進室",
        invoice_issuer_registration_number="T7000012050002",
        invoice_bank_account="東邦銀行 本店営業部 普通 1234567",
    )
    app = create_app(settings, engine=engine)
    app.state.ctx.session_factory = session_factory
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def _approved_shop_with_hold(client: TestClient, session: Session, email: str) -> Booking:
    assert sign_up(client, email=email).status_code == 303
    shop = session.scalars(select(Shop).where(Shop.contact_email == email)).one()
    shop.status = ShopStatus.APPROVED
    session.flush()
    placement = seed_inventory(session)[0]
    first = week_start(tokyo_date(utcnow())) + timedelta(weeks=2)
    request = BookingRequest(placement.id, first, 3, 1, Targeting())
    booking = place_hold(session, shop.id, request, f"hold-{email}")
    session.flush()
    return booking


def test_shop_pays_by_invoice_and_sees_it(billing_client: TestClient, session: Session) -> None:
    booking = _approved_shop_with_hold(billing_client, session, "soba@example.jp")
    page = billing_client.get(f"/shop/bookings/{booking.id}/pay", headers=HTML)
    assert page.status_code == 200 and "銀行振込" in page.text
    assert "js.stripe.com" not in page.text  # no publishable key: no Stripe.js, strict CSP
    assert "js.stripe.com" not in page.headers["content-security-policy"]
    response = post_form(
        billing_client,
        f"/shop/bookings/{booking.id}/pay/invoice",
        {"method": "bank_transfer"},
        f"/shop/bookings/{booking.id}/pay",
    )
    assert response.status_code == 303, response.text
    invoice_url = response.headers["location"]
    session.refresh(booking)
    assert booking.status in (BookingStatus.IN_REVIEW, BookingStatus.SCHEDULED)
    invoice_page = billing_client.get(invoice_url, headers=HTML)
    assert "適格請求書" in invoice_page.text and "鶴ヶ城そば 御中" in invoice_page.text
    assert "東邦銀行" in invoice_page.text
    assert billing_client.get(invoice_url + "/pdf").content.startswith(b"%PDF")
    listing = billing_client.get("/shop/billing", headers=HTML)
    assert "未入金" in listing.text and invoice_url.rsplit("/", 1)[1] in listing.text

    # Another shop sees none of it.
    billing_client.cookies.clear()
    _approved_shop_with_hold(billing_client, session, "cafe@example.jp")
    assert billing_client.get(invoice_url, headers=HTML).status_code == 404
    assert billing_client.get(invoice_url + "/pdf").status_code == 404
    assert check_ledger(session).ok
    assert date.today()  # the invoice dates above are Tokyo dates of today's run


def test_menu_leads_to_billing_and_without_stripe_no_card_link(
    billing_client: TestClient, session: Session
) -> None:
    booking = _approved_shop_with_hold(billing_client, session, "menu@example.jp")
    dashboard = billing_client.get("/shop/", headers=HTML)
    assert 'href="/shop/billing">請求とお支払い</a>' in dashboard.text
    page = billing_client.get(f"/shop/bookings/{booking.id}", headers=HTML)
    assert page.status_code == 200 and "請求書払いに同意して確定する" in page.text
    # Stripe is not configured: no link promising card or konbini to a bank-transfer-only page.
    assert "カード・コンビニ払い" not in page.text
    assert f"/shop/bookings/{booking.id}/pay" not in page.text


@pytest.fixture
def stripe_shop_client(database_url, engine, session_factory) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """Stripe configured against the fake server in tests/support/fake_stripe.py."""
    fake = FakeStripe().start()
    settings = make_settings(
        database_url,
        invoice_issuer_name="会津若松市",
        invoice_issuer_registration_number="T7000012050002",
        stripe_api_key="sk_test_fake",
        stripe_api_base=fake.url,
        stripe_publishable_key="pk_test_fake",
        stripe_webhook_secret="whsec_fake",
        stripe_max_network_retries=0,
    )
    app = create_app(settings, engine=engine)
    app.state.ctx.session_factory = session_factory
    with TestClient(app, base_url="https://testserver") as client:
        yield client
    fake.stop()


@pytest.mark.stripe
def test_card_page_loads_stripe_js_under_a_widened_csp_only_there(
    stripe_shop_client: TestClient, session: Session
) -> None:
    client = stripe_shop_client
    booking = _approved_shop_with_hold(client, session, "card@example.jp")
    page = client.get(f"/shop/bookings/{booking.id}/pay", headers=HTML)
    csp = page.headers["content-security-policy"]
    assert (
        "script-src 'self' https://js.stripe.com" in csp
        and "frame-src https://js.stripe.com" in csp
    )
    assert "billing-card.js" in page.text and "コンビニ払い" in page.text
    booking_page = client.get(f"/shop/bookings/{booking.id}", headers=HTML)
    assert f'href="/shop/bookings/{booking.id}/pay"' in booking_page.text
    assert (
        "js.stripe.com"
        not in client.get("/shop/billing", headers=HTML).headers["content-security-policy"]
    )
    token = CSRF.search(page.text)
    assert token
    intent = client.post(
        f"/shop/bookings/{booking.id}/pay/card",
        headers={"X-CSRF-Token": token.group(1), "accept": "application/json"},
    )
    assert intent.status_code == 200 and intent.json()["client_secret"].startswith("pi_")
    refused = client.post(
        f"/shop/bookings/{booking.id}/pay/card", headers={"accept": "application/json"}
    )
    assert refused.status_code == 403  # no CSRF token
    waiting = client.get(f"/shop/bookings/{booking.id}/pay/card/return", headers=HTML)
    assert waiting.status_code == 202 and "確認中" in waiting.text
    session.refresh(booking)
    assert booking.status is BookingStatus.HELD


@pytest.mark.stripe
def test_konbini_choice_confirms_and_shows_the_voucher(
    stripe_shop_client: TestClient, session: Session
) -> None:
    client = stripe_shop_client
    booking = _approved_shop_with_hold(client, session, "konbini@example.jp")
    response = post_form(
        client,
        f"/shop/bookings/{booking.id}/pay/invoice",
        {"method": "konbini"},
        f"/shop/bookings/{booking.id}/pay",
    )
    assert response.status_code == 200 and "konbini/voucher" in response.text
    session.refresh(booking)
    assert booking.status in (BookingStatus.IN_REVIEW, BookingStatus.SCHEDULED)
    assert "お支払い待ち" in client.get("/shop/billing", headers=HTML).text
