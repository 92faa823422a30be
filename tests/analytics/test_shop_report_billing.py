"""A shop's report shows the numbers billed: invoices minus credit notes, make-goods included."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics.shop_report_source import load_shop_report
from billing.bookings import run_month_end
from billing.make_goods import run_make_goods
from billing.models import DocumentKind, Invoice
from marketplace.calendar import TOKYO
from marketplace.lifecycle import BookingStatus
from tests.support.analytics_world import CONFIG, Viewer, book, deliver, shop

MONDAY = date(2026, 6, 1)


def issued(session: Session, booking_id: int, kind: DocumentKind) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(Invoice.total), 0)).where(
            Invoice.booking_id == booking_id, Invoice.kind == kind
        )
    )
    return int(total or 0)


def viewers(prefix: str, count: int) -> list[Viewer]:
    return [(f"{prefix}{n:04d}", "30-39", "couple", "tsuruga") for n in range(count)]


def test_report_equals_invoices_minus_the_make_good_credit(session: Session) -> None:
    owner = shop(session)
    booking = book(session, owner, MONDAY, weeks=1, shares=1)  # 1 of 4 shares
    other = book(session, shop(session, "会津塗"), MONDAY, weeks=1, shares=3)
    evening = datetime.combine(MONDAY, time(19), tzinfo=TOKYO)
    # Sold out, both untargeted: each booking was eligible for all 200 slots.
    deliver(session, booking, viewers("a", 30), evening, slots=200)
    deliver(session, other, viewers("b", 170), evening + timedelta(days=2), slots=200)
    booking.status = BookingStatus.COMPLETED
    session.flush()

    done, _ = run_make_goods(session, CONFIG, through=MONDAY + timedelta(days=6), gateway=None)
    [made_good] = [r for r in done if r.booking_id == booking.id]
    assert made_good.credit_yen > 0  # 15% delivered of 25% bought
    report = load_shop_report(session, booking.id, shop_id=owner.id)

    invoiced = issued(session, booking.id, DocumentKind.INVOICE)
    credited = issued(session, booking.id, DocumentKind.CREDIT_NOTE)
    assert (invoiced, credited) == (booking.total_yen, made_good.credit_yen)
    assert report.booking.billed_yen == invoiced - credited
    # The share on the report is the share billing measured for the make-good.
    assert report.booking.share_bought == float(made_good.share_bought)
    assert report.share_delivered == float(made_good.share_delivered or 0) == 30 / 200


def test_report_equals_every_monthly_invoice_of_a_long_booking(session: Session) -> None:
    owner = shop(session)
    booking = book(session, owner, MONDAY, weeks=8)  # 6/1 – 7/26, invoiced month by month
    first = issued(session, booking.id, DocumentKind.INVOICE)
    assert 0 < first < booking.total_yen
    assert load_shop_report(session, booking.id).booking.billed_yen == first
    run_month_end(session, CONFIG, date(2026, 6, 30))
    assert issued(session, booking.id, DocumentKind.INVOICE) == booking.total_yen
    assert load_shop_report(session, booking.id).booking.billed_yen == booking.total_yen
