"""Billing fixtures: booking rows, invoices, localstripe, and the ledger check after every test.

The issuer, shops, the placement, holds and the fake Stripe server are shared with the proof
tests, so they live in tests/support/billing_fixtures.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy.orm import Session

from billing.config import BillingConfig
from billing.invoices import LineDraft, issue_invoice
from billing.models import Invoice
from marketplace.db import utcnow
from marketplace.lifecycle import BookingStatus
from marketplace.models import Booking, Placement, Shop
from tests.support.localstripe import Localstripe, WebhookCapture


@pytest.fixture(autouse=True)
def every_billing_test_checks_the_ledger(ledger_is_consistent: None) -> None:
    """After every billing test that used the database, the whole ledger check must pass."""


@pytest.fixture
def make_booking(session: Session, placement: Placement) -> Callable[..., Booking]:
    """A booking row as the marketplace writes it (status and price already decided)."""
    counter = iter(range(1, 100_000))

    def make(
        shop: Shop,
        *,
        first_week: date = date(2026, 5, 4),
        weeks: int = 4,
        shares: int = 1,
        total_yen: int | None = None,
        status: BookingStatus = BookingStatus.HELD,
    ) -> Booking:
        total = total_yen if total_yen is not None else 11_000 * weeks * shares
        booking = Booking(
            shop_id=shop.id,
            placement_id=placement.id,
            shares=shares,
            first_week=first_week,
            last_week=first_week + timedelta(weeks=weeks - 1),
            weeks=weeks,
            status=status,
            hold_expires_at=utcnow() + timedelta(minutes=15),
            in_city_rate=True,
            unit_price_yen=11_000,
            list_price_yen=total,
            discount_yen=0,
            surcharge_yen=0,
            total_yen=total,
            tax_yen=total * 10 // 110,
            idempotency_key=f"test-{next(counter)}",
        )
        session.add(booking)
        session.flush()
        return booking

    return make


@pytest.fixture
def invoice_booking(session: Session, billing_config: BillingConfig) -> Callable[..., Invoice]:
    """An invoice for all of a booking's weeks at its total, issued on `issue_date`."""

    def issue(booking: Booking, issue_date: date, amount: int | None = None) -> Invoice:
        line = LineDraft(
            "広告",
            booking.total_yen if amount is None else amount,
            booking_id=booking.id,
            service_start=booking.first_week,
            service_end=booking.last_week + timedelta(days=6),
        )
        return issue_invoice(
            session,
            billing_config,
            shop_id=booking.shop_id,
            booking_id=booking.id,
            lines=[line],
            issue_date=issue_date,
        )

    return issue


@pytest.fixture
def simple_invoice(session: Session, billing_config: BillingConfig) -> Callable[..., Invoice]:
    def issue(shop: Shop, amount: int = 1_100, issue_date: date = date(2026, 5, 1)) -> Invoice:
        return issue_invoice(
            session,
            billing_config,
            shop_id=shop.id,
            lines=[LineDraft("広告", amount)],
            issue_date=issue_date,
        )

    return issue


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """localstripe on 127.0.0.1 (through our wrapper), state in a temporary directory."""
    server = Localstripe(tmp_path_factory.mktemp("localstripe"))
    try:
        server.start()
        yield server.url
    finally:
        server.stop(graceful=True)


@pytest.fixture
def fresh_localstripe(localstripe: str) -> str:
    httpx.delete(f"{localstripe}/_config/data").raise_for_status()
    return localstripe


@pytest.fixture
def webhook_capture() -> Iterator[WebhookCapture]:
    capture = WebhookCapture()
    yield capture
    capture.close()
