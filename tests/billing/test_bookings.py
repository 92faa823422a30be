from __future__ import annotations

from datetime import date, timedelta

from billing import ledger
from billing.bookings import (
    accept_invoice,
    invoiced_weeks,
    invoiced_weeks_of,
    process_cancellations,
    run_month_end,
    week_amounts,
)
from billing.models import DocumentKind, Invoice, Refund, RefundStatus
from billing.payments import invoice_position, record_bank_transfer
from marketplace.audit import Actor
from marketplace.bookings.services import cancel_booking
from marketplace.lifecycle import ActorKind, BookingStatus
from tests.support.billing_world import NOW


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


def test_month_end_puts_a_shops_bookings_on_one_invoice_and_cancels_per_line(
    session, make_shop, hold, billing_config
) -> None:
    shop = make_shop()
    first = hold(shop, first_week=date(2026, 5, 4), weeks=10)
    second = hold(shop, first_week=date(2026, 5, 11), weeks=8, shares=2)
    for booking in (first, second):
        accept_invoice(session, billing_config, booking.id, shop_id=shop.id, now=NOW)
    june = run_month_end(session, billing_config, date(2026, 5, 31)).invoices
    assert len(june) == 1 and len(june[0].lines) == 2
    assert june[0].booking_id is None
    assert {line.booking_id for line in june[0].lines} == {first.id, second.id}
    # Cancelling the second booking credits only its own line.
    cancel_booking(session, second.id, Actor(ActorKind.SHOP, shop.id), shop_id=shop.id, now=NOW)
    process_cancellations(session, billing_config, gateway=None, today=date(2026, 4, 20))
    notes = session.query(Invoice).filter_by(kind=DocumentKind.CREDIT_NOTE).all()
    credited = {line.credited_line_id for note in notes for line in note.lines}
    second_lines = {
        line.id
        for inv in session.query(Invoice).all()
        for line in inv.lines
        if line.booking_id == second.id and line.credited_line_id is None
    }
    assert credited == second_lines
    assert sum(n.total for n in notes) == second.total_yen


def test_invoiced_weeks_of_many_bookings_matches_one_by_one(
    session, make_shop, hold, billing_config
) -> None:
    shop = make_shop()
    long = hold(shop, first_week=date(2026, 5, 4), weeks=12)
    short = hold(shop, first_week=date(2026, 5, 11), weeks=2)
    never = hold(shop, first_week=date(2026, 5, 4), weeks=3)
    for booking in (long, short):
        accept_invoice(session, billing_config, booking.id, shop_id=shop.id, now=NOW)
    many = invoiced_weeks_of(session, [long.id, short.id, never.id])
    assert many[long.id] == invoiced_weeks(session, long.id)
    assert sorted(many[long.id]) == [date(2026, 5, d) for d in (4, 11, 18, 25)]
    assert sorted(many[short.id]) == [date(2026, 5, 11), date(2026, 5, 18)]
    assert never.id not in many and invoiced_weeks(session, never.id) == {}
