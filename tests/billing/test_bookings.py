from __future__ import annotations

from datetime import date, timedelta

from billing import ledger
from billing.bookings import accept_invoice, process_cancellations, run_month_end, week_amounts
from billing.models import DocumentKind, Invoice, Refund, RefundStatus
from billing.payments import invoice_position, record_bank_transfer
from marketplace.audit import Actor
from marketplace.bookings import cancel_booking
from marketplace.lifecycle import ActorKind, BookingStatus
from tests.billing.conftest import NOW


def test_short_booking_gets_one_invoice_for_all_weeks(
    session, make_shop, hold, billing_config
) -> None:
    shop = make_shop()
    booking = hold(shop, weeks=4)
    invoice = accept_invoice(session, billing_config, booking.id, shop_id=shop.id, now=NOW)
    assert booking.status in (BookingStatus.IN_REVIEW, BookingStatus.SCHEDULED)
    assert invoice.total == booking.total_yen
    assert invoice.period_start == date(2026, 5, 4) and invoice.period_end == date(2026, 5, 31)
    assert "4週 × 1枠" in invoice.lines[0].description
    # Accepting again (a double submit) issues nothing new.
    again = accept_invoice(session, billing_config, booking.id, shop_id=shop.id, now=NOW)
    assert again.id == invoice.id


def test_long_booking_is_invoiced_month_by_month(session, make_shop, hold, billing_config) -> None:
    shop = make_shop()
    booking = hold(shop, first_week=date(2026, 5, 4), weeks=12)  # May 4 – Jul 26
    first = accept_invoice(session, billing_config, booking.id, shop_id=shop.id, now=NOW)
    assert first.period_start == date(2026, 5, 4) and first.period_end == date(2026, 5, 31)
    may_end = run_month_end(session, billing_config, date(2026, 5, 31))
    assert [i.period_start for i in may_end.invoices] == [date(2026, 6, 1)]
    assert run_month_end(session, billing_config, date(2026, 5, 31)).invoices == []
    june_end = run_month_end(session, billing_config, date(2026, 6, 30))
    invoices = [first, *may_end.invoices, *june_end.invoices]
    assert sum(i.total for i in invoices) == booking.total_yen
    assert sum(a for _, a in week_amounts(booking)) == booking.total_yen


def test_cancellation_credits_and_refunds_paid_weeks(
    session, make_shop, hold, billing_config
) -> None:
    shop = make_shop()
    booking = hold(shop, weeks=4)
    invoice = accept_invoice(session, billing_config, booking.id, shop_id=shop.id, now=NOW)
    record_bank_transfer(
        session, invoice, invoice.total, reference="bank:test", value_date=date(2026, 4, 21)
    )
    # Cancelled on 4/20 with 7 days' notice: every week from 5/4 is refunded.
    cancel_booking(
        session,
        booking.id,
        Actor(ActorKind.SHOP, shop.id),
        shop_id=shop.id,
        now=NOW + timedelta(days=1),
    )
    assert (
        process_cancellations(session, billing_config, gateway=None, today=date(2026, 4, 21)) == 1
    )
    assert process_cancellations(session, billing_config, gateway=None) == 0
    note = session.query(Invoice).filter_by(kind=DocumentKind.CREDIT_NOTE).one()
    assert note.total == invoice.total
    position = invoice_position(session, invoice.id)
    assert (position.paid, position.refunded, position.outstanding) == (
        invoice.total,
        invoice.total,
        0,
    )
    refund = session.query(Refund).one()
    assert refund.status is RefundStatus.PENDING_PAYOUT
    assert ledger.balance(session, ledger.REFUNDS_PAYABLE) == -invoice.total
