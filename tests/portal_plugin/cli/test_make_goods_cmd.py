"""`portal-marketplace billing make-goods` against a real (SQLite file) database."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from typer.testing import CliRunner

from billing.bookings import invoice_due_weeks
from billing.config import BillingConfig
from billing.models import DocumentKind, Invoice, PaymentMethod
from marketplace.calendar import start_of_tokyo_day
from marketplace.db import make_engine, make_session_factory
from marketplace.delivery.models import DeliveryRollup, EligibleSlotRollup
from marketplace.lifecycle import BookingStatus, MarketplaceEventKind
from marketplace.models import Booking, MarketplaceEvent
from portal_plugin.cli.main import app
from tests.support.settings import TEST_BANK_ACCOUNT

runner = CliRunner()
CONFIG = BillingConfig(
    issuer_name="会津若松市",
    issuer_registration_number="T7000012050002",
    bank_account=TEST_BANK_ACCOUNT,
)


def test_make_goods_credits_once_and_the_ledger_checks(billing_cli_database: str) -> None:
    engine = make_engine(billing_cli_database)
    with make_session_factory(engine).begin() as session:
        booking = session.scalars(select(Booking)).one()  # 10 weeks from 5/4, 1 of 4 shares
        invoice_due_weeks(
            session,
            CONFIG,
            booking,
            method=PaymentMethod.BANK_TRANSFER,
            issue_date=date(2026, 4, 20),
            through=None,
        )
        booking.status = BookingStatus.COMPLETED
        session.add(
            MarketplaceEvent(
                kind=MarketplaceEventKind.BOOKING_CONFIRMED,
                booking_id=booking.id,
                shop_id=booking.shop_id,
                payload={},
            )
        )
        hour = start_of_tokyo_day(booking.first_week) + timedelta(hours=12)
        # The booking was eligible for 1,000 slots (untargeted, placement sold out).
        session.add(
            EligibleSlotRollup(
                hour_start=hour,
                booking_id=booking.id,
                placement_id=booking.placement_id,
                slots=1_000,
            )
        )
        for booking_id, impressions in ((booking.id, 100), (booking.id + 1, 900)):
            session.add(
                DeliveryRollup(
                    hour_start=hour,
                    booking_id=booking_id,
                    placement_id=booking.placement_id,
                    age_band="40-49",
                    household="single",
                    district="ikki",
                    offers=impressions,
                    impressions=impressions,
                    invalid_impressions=0,
                    clicks=0,
                    invalid_clicks=0,
                    unit_price_yen=11_000,
                )
            )
    early = runner.invoke(app, ["billing", "make-goods", "--through", "2026-07-11"])
    assert early.exit_code == 0, early.output
    assert "0 bookings handled" in early.output  # the booking runs until 7/12
    result = runner.invoke(app, ["billing", "make-goods", "--through", "2026-07-12"])
    assert result.exit_code == 0, result.output
    # 10% delivered of 25% bought: 60% of ¥110,000 credited; nothing was paid, nothing refunded.
    assert "bought 25.0%, delivered 10.0%" in result.output
    assert "1 bookings handled through 2026-07-12: ¥66,000 credited, ¥0 refunded" in result.output
    again = runner.invoke(app, ["billing", "make-goods", "--through", "2026-07-12"])
    assert "0 bookings handled" in again.output
    with make_session_factory(engine)() as session:
        notes = session.scalars(select(Invoice).where(Invoice.kind == DocumentKind.CREDIT_NOTE))
        assert [n.total for n in notes] == [66_000]
    engine.dispose()
    check = runner.invoke(app, ["billing", "check"])
    assert check.exit_code == 0, check.output
