"""Confirming a booking (page or JSON API) goes through billing: the invoice is issued at once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from billing.check import check_ledger
from billing.models import DocumentKind, Invoice, PaymentMethod
from marketplace.lifecycle import BookingStatus
from marketplace.models import Booking, Shop
from marketplace.vocab import ShopStatus
from portal_plugin.app import create_app
from portal_plugin.demo.inventory import seed_inventory
from tests.support.marketplace_factories import make_creative
from tests.support.marketplace_http import (
    HTML,
    api_client,
    hold_one_share,
    monday,
    post_form,
    sign_up,
)
from tests.support.settings import make_settings


def approved_shop(client: TestClient, session: Session) -> Shop:
    sign_up(client)
    shop = session.scalars(select(Shop).where(Shop.contact_email == "soba@example.jp")).one()
    shop.status = ShopStatus.APPROVED
    make_creative(session, shop.id)
    return shop


def invoices_of(session: Session, booking_id: int) -> list[Invoice]:
    return list(
        session.scalars(
            select(Invoice)
            .where(Invoice.booking_id == booking_id, Invoice.kind == DocumentKind.INVOICE)
            .order_by(Invoice.id)
        )
    )


def test_confirm_page_issues_the_invoice_and_the_ledger_checks(
    client: TestClient, session: Session
) -> None:
    placement = seed_inventory(session)[0]
    approved_shop(client, session)
    held = hold_one_share(client, placement.id)
    booking_path = held.headers["location"]
    booking_id = int(booking_path.rsplit("/", 1)[1])
    page = client.get(booking_path, headers=HTML)
    assert "請求書が発行されます" in page.text
    # Stripe is not configured here: no card or konbini link.
    assert f"/shop/bookings/{booking_id}/pay" not in page.text

    response = post_form(client, f"{booking_path}/confirm", {}, booking_path)
    assert response.status_code == 303, response.text
    booking = session.get_one(Booking, booking_id)
    session.refresh(booking)
    assert booking.status in (BookingStatus.IN_REVIEW, BookingStatus.SCHEDULED)
    [invoice] = invoices_of(session, booking_id)
    assert response.headers["location"] == f"/shop/billing/invoices/{invoice.number}"
    assert invoice.payment_method is PaymentMethod.BANK_TRANSFER
    assert (invoice.total, invoice.tax) == (booking.total_yen, booking.tax_yen)
    shown = client.get(response.headers["location"], headers=HTML)
    assert shown.status_code == 200 and invoice.number in shown.text

    # A second submission (double click) confirms nothing new and bills nothing twice.
    again = post_form(client, f"{booking_path}/confirm", {}, booking_path)
    assert again.headers["location"] == response.headers["location"]
    assert len(invoices_of(session, booking_id)) == 1
    report = check_ledger(session)
    assert report.ok, report.lines()


def test_api_confirm_returns_the_invoice_once(client: TestClient, session: Session) -> None:
    placement = seed_inventory(session)[0]
    auth = api_client(client, session)
    body = {"placement_id": placement.id, "first_week": monday().isoformat(), "weeks": 2}
    held = client.post(
        "/api/marketplace/bookings",
        json={**body, "shares": 1},
        headers={**auth, "Idempotency-Key": "confirm-invoice-1"},
    )
    assert held.status_code in (200, 201), held.text
    booking_id = held.json()["id"]
    first = client.post(f"/api/marketplace/bookings/{booking_id}/confirm", headers=auth)
    assert first.status_code == 200, first.text
    invoice = first.json()["invoice"]
    assert invoice["payment_method"] == "bank_transfer"
    assert invoice["total_yen"] == first.json()["total_yen"]
    assert invoice["tax_yen"] == first.json()["tax_yen"]
    second = client.post(f"/api/marketplace/bookings/{booking_id}/confirm", headers=auth)
    assert second.status_code == 200 and second.json()["invoice"] == invoice
    [stored] = invoices_of(session, booking_id)
    assert stored.number == invoice["number"]
    report = check_ledger(session)
    assert report.ok, report.lines()


@pytest.mark.parametrize(
    ("missing", "variable"),
    [
        (
            {"invoice_issuer_name": None, "invoice_issuer_registration_number": None},
            "INVOICE_ISSUER_NAME",
        ),
        ({"invoice_bank_account": ""}, "INVOICE_BANK_ACCOUNT"),
    ],
)
def test_without_an_invoice_issuer_or_account_nothing_is_confirmed(
    database_url: str, app: Starlette, session: Session, missing: dict[str, Any], variable: str
) -> None:
    placement = seed_inventory(session)[0]
    settings = make_settings(database_url, **missing)
    unconfigured = create_app(settings, engine=app.state.ctx.engine)
    unconfigured.state.ctx.session_factory = app.state.ctx.session_factory
    with TestClient(unconfigured, base_url="https://testserver") as client:
        auth = api_client(client, session)
        held = client.post(
            "/api/marketplace/bookings",
            json={
                "placement_id": placement.id,
                "first_week": monday().isoformat(),
                "weeks": 1,
                "shares": 1,
            },
            headers={**auth, "Idempotency-Key": "confirm-invoice-2"},
        )
        booking_id = held.json()["id"]
        refused = client.post(f"/api/marketplace/bookings/{booking_id}/confirm", headers=auth)
    assert refused.status_code == 409
    assert variable in refused.json()["error"]["message"]
    booking = session.get_one(Booking, booking_id)
    session.refresh(booking)
    assert booking.status is BookingStatus.HELD  # nothing half-written
    assert session.scalar(select(func.count()).select_from(Invoice)) == 0
