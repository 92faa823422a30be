from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from fractions import Fraction

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import ledger
from billing.bookings import accept_invoice
from billing.config import BillingConfig
from billing.make_goods import make_good_booking, run_make_goods
from billing.models import DocumentKind, Invoice, Refund, RefundStatus
from billing.payments import invoice_position, record_bank_transfer
from billing.rendering import invoice_body_html, invoice_view
from marketplace.audit import SYSTEM
from marketplace.bookings.controls import pause_booking, resume_booking
from marketplace.calendar import start_of_tokyo_day
from marketplace.delivery.models import DeliveryRollup, EligibleSlotRollup
from marketplace.lifecycle import BookingStatus
from marketplace.models import AuditEntry, Booking, Placement, Shop
from tests.support.billing_world import NOW

AFTER = date(2026, 6, 1)  # the day after a 4-week booking from 5/4 ends


def spread(total: int, hours: int) -> list[int]:
    return [total // hours + (1 if h < total % hours else 0) for h in range(hours)]


def hour_rows(
    session: Session, booking: Booking, hour: datetime, impressions: int, slots: int
) -> None:
    """One hour's real rollup rows: eligible slots, and impressions (every offer was seen)."""
    if slots:
        session.add(
            EligibleSlotRollup(
                hour_start=hour,
                booking_id=booking.id,
                placement_id=booking.placement_id,
                slots=slots,
            )
        )
    session.add(
        DeliveryRollup(
            hour_start=hour,
            booking_id=booking.id,
            placement_id=booking.placement_id,
            age_band="30-39",
            household="couple",
            district="tsuruga",
            offers=impressions,
            impressions=impressions,
            invalid_impressions=3,  # never counted
            clicks=impressions // 50,
            invalid_clicks=0,
            unit_price_yen=booking.unit_price_yen,
        )
    )


def rollups(
    session: Session,
    booking: Booking,
    impressions: int,
    hours: int = 4,
    late: bool = False,
    slots: int | None = None,
) -> None:
    """`impressions` (and `slots` eligible slots) spread over a few hours of the period."""
    for h, (count, eligible) in enumerate(
        zip(spread(impressions, hours), spread(slots or 0, hours), strict=True)
    ):
        hour = start_of_tokyo_day(booking.first_week) + timedelta(
            days=3 * h, hours=20 if late else 10
        )
        hour_rows(session, booking, hour, count, eligible)
    session.flush()


@pytest.fixture
def completed(
    session: Session, make_shop: Callable[..., Shop], hold: Callable[..., Booking],
    billing_config: BillingConfig,
) -> Callable[..., tuple[Booking, Invoice]]:  # fmt: skip
    """A 4-week booking of 1 of 4 shares, confirmed by invoice, run, and completed."""

    def make(
        impressions: int, others: int, paid: int | None = None, first_week: date = date(2026, 5, 4)
    ) -> tuple[Booking, Invoice]:
        shop = make_shop()
        booking = hold(shop, weeks=4, first_week=first_week)
        invoice = accept_invoice(session, billing_config, booking.id, shop_id=shop.id, now=NOW)
        if paid:
            record_bank_transfer(
                session, invoice, paid, reference=f"bank:{booking.id}", value_date=date(2026, 4, 21)
            )
        other = hold(make_shop(), weeks=4, shares=3, first_week=first_week)
        # The placement is sold out and both bookings untargeted: every slot is eligible
        # for both.
        slots = impressions + others
        rollups(session, booking, impressions, slots=slots)
        rollups(session, other, others, slots=slots)
        booking.status = BookingStatus.COMPLETED
        session.flush()
        return booking, invoice

    return make


def credit_notes(session: Session, invoice: Invoice) -> list[Invoice]:
    return list(
        session.scalars(
            select(Invoice).where(
                Invoice.original_invoice_id == invoice.id,
                Invoice.kind == DocumentKind.CREDIT_NOTE,
            )
        )
    )


def test_under_delivery_is_credited_and_refunded_by_bank_once(
    session: Session,
    billing_config: BillingConfig,
    completed: Callable[..., tuple[Booking, Invoice]],
) -> None:
    booking, invoice = completed(impressions=150, others=850, paid=44_000)
    assert invoice.total == booking.total_yen == 44_000
    done, unmeasured = run_make_goods(session, billing_config, through=AFTER, gateway=None)
    assert unmeasured == []
    [result] = done
    assert (result.share_bought, result.share_delivered) == (Fraction(1, 4), Fraction(15, 100))
    assert (result.credit_yen, result.refund_yen) == (17_600, 17_600)
    [note] = credit_notes(session, invoice)
    assert note.total == 17_600 and note.number in result.credit_notes
    assert "配信不足" in note.reason
    refund = session.scalars(select(Refund)).one()
    assert (refund.amount, refund.status) == (17_600, RefundStatus.PENDING_PAYOUT)
    assert ledger.balance(session, ledger.REFUNDS_PAYABLE) == -17_600
    position = invoice_position(session, invoice.id)
    assert (position.paid, position.refunded, position.outstanding) == (44_000, 17_600, 0)
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "booking_make_good"))
    assert [a.subject_id for a in audit] == [booking.id]

    # Idempotent: a second run (or a second day) credits nothing more.
    assert run_make_goods(session, billing_config, through=AFTER, gateway=None) == ([], [])
    assert run_make_goods(
        session, billing_config, through=AFTER + timedelta(days=9), gateway=None
    ) == ([], [])
    assert len(credit_notes(session, invoice)) == 1


def test_any_under_delivery_is_credited_at_the_booking_price(
    session: Session,
    billing_config: BillingConfig,
    completed: Callable[..., tuple[Booking, Invoice]],
) -> None:
    _, invoice = completed(impressions=241, others=759, paid=44_000)  # 24.1% of 25%
    [result] = run_make_goods(session, billing_config, through=AFTER, gateway=None)[0]
    # 250 owed, 241 delivered: 9/250 of ¥44,000 = ¥1,584.
    assert result.credit_yen == 1_584
    [note] = credit_notes(session, invoice)
    assert note.total == 1_584


def test_on_or_over_target_nothing_is_credited(
    session: Session,
    billing_config: BillingConfig,
    completed: Callable[..., tuple[Booking, Invoice]],
) -> None:
    _, invoice = completed(impressions=260, others=740, paid=44_000)  # 26% of 25%
    [result] = run_make_goods(session, billing_config, through=AFTER, gateway=None)[0]
    assert result.credit_yen == 0 and result.outcome == "配信不足なし"
    assert credit_notes(session, invoice) == []
    assert run_make_goods(session, billing_config, through=AFTER, gateway=None) == ([], [])


def test_a_placement_bought_whole_that_got_92_5_percent_is_credited_7_5_percent(
    session: Session,
    billing_config: BillingConfig,
    make_shop: Callable[..., Shop],
    hold: Callable[..., Booking],
) -> None:
    """Issue 20's reproduction: measured over the placement's impressions (unfilled slots left
    out), a booking alone on its placement always got "100%" and was credited ¥0."""
    shop = make_shop()
    booking = hold(shop, weeks=4, shares=4)  # the whole placement
    invoice = accept_invoice(session, billing_config, booking.id, shop_id=shop.id, now=NOW)
    rollups(session, booking, 925, slots=1_000)  # 75 slots went unfilled
    booking.status = BookingStatus.COMPLETED
    session.flush()
    result = make_good_booking(session, billing_config, booking, today=AFTER, gateway=None)
    assert result is not None
    assert result.share_delivered == Fraction(925, 1_000)
    assert invoice.total == 176_000
    assert result.credit_yen == 176_000 * 75 // 1_000 == 13_200


def test_a_booking_paused_for_a_day_is_credited_the_day(
    session: Session,
    billing_config: BillingConfig,
    make_shop: Callable[..., Shop],
    hold: Callable[..., Booking],
    placement: Placement,
) -> None:
    """Issue 20's reproduction: 10% bought, paused one day of seven, 8.57% delivered. Measured
    over the placement's impressions the pause made it look like 17.6%, credited ¥0."""
    placement.shares_per_week = 10
    session.flush()
    shop = make_shop()
    booking = hold(shop, weeks=1, shares=1)  # 10%
    other = hold(make_shop(), weeks=1, shares=4)  # 40%, on pace
    invoice = accept_invoice(session, billing_config, booking.id, shop_id=shop.id, now=NOW)
    first = start_of_tokyo_day(booking.first_week)
    for day in range(7):
        hour = first + timedelta(days=day, hours=12)
        paused = day == 2
        for each, shown in ((booking, 0 if paused else 100), (other, 400)):
            # The paused day's slots were bought too: the booking was eligible for them.
            hour_rows(session, each, hour, shown, slots=1_000)
    booking.status = BookingStatus.COMPLETED
    session.flush()
    result = make_good_booking(session, billing_config, booking, today=AFTER, gateway=None)
    assert result is not None
    assert result.share_delivered == Fraction(600, 7_000)  # 8.57% of 10%
    assert invoice.total == 11_000
    assert result.credit_yen == 11_000 * 100 // 700 == 1_571


def test_refund_never_exceeds_what_was_paid(
    session: Session,
    billing_config: BillingConfig,
    completed: Callable[..., tuple[Booking, Invoice]],
) -> None:
    _, unpaid = completed(impressions=0, others=1_000)
    _, partly = completed(impressions=150, others=850, paid=30_000, first_week=date(2026, 6, 1))
    done, _ = run_make_goods(session, billing_config, through=date(2026, 7, 1), gateway=None)
    by_invoice = {r.booking_id: r for r in done}
    assert len(by_invoice) == 2
    # Nothing paid: the whole booking is credited (it got nothing) and nothing is refunded.
    assert invoice_position(session, unpaid.id).outstanding == 0
    # ¥30,000 paid of ¥44,000, ¥17,600 credited: ¥26,400 was owed, so ¥3,600 goes back.
    position = invoice_position(session, partly.id)
    assert (position.paid, position.refunded, position.outstanding) == (30_000, 3_600, 0)
    assert sorted(r.refund_yen for r in done) == [0, 3_600]


def test_unmeasurable_or_unfinished_bookings_wait(
    session: Session,
    billing_config: BillingConfig,
    completed: Callable[..., tuple[Booking, Invoice]],
) -> None:
    booking, invoice = completed(impressions=0, others=0, paid=44_000)
    before = date(2026, 5, 30)  # the booking's last day is 5/31
    assert run_make_goods(session, billing_config, through=before, gateway=None) == ([], [])
    assert run_make_goods(session, billing_config, through=AFTER, gateway=None) == (
        [],
        [booking.id],
    )
    assert credit_notes(session, invoice) == []
    rollups(session, booking, 100, late=True, slots=400)  # late rollups: handled next run
    other = session.scalars(
        select(Booking).where(Booking.id != booking.id).order_by(Booking.id.desc())
    ).first()
    assert other is not None
    rollups(session, other, 300, late=True, slots=400)
    [result] = run_make_goods(session, billing_config, through=AFTER, gateway=None)[0]
    assert result.share_delivered == Fraction(1, 4) and result.credit_yen == 0


def test_the_credit_note_names_the_cause_as_the_booking_page_does(
    session: Session,
    billing_config: BillingConfig,
    make_shop: Callable[..., Shop],
    hold: Callable[..., Booking],
    placement: Placement,
) -> None:
    """Paused by staff for one day of seven: the credit note says so, in its printed reason."""
    placement.shares_per_week = 10
    session.flush()
    shop = make_shop()
    booking = hold(shop, weeks=1, shares=1)
    other = hold(make_shop(), weeks=1, shares=4)
    invoice = accept_invoice(session, billing_config, booking.id, shop_id=shop.id, now=NOW)
    first = start_of_tokyo_day(booking.first_week)
    for day in range(7):
        hour = first + timedelta(days=day, hours=12)
        for each, shown in ((booking, 0 if day == 2 else 100), (other, 400)):
            hour_rows(session, each, hour, shown, slots=1_000)
    booking.status = BookingStatus.LIVE
    pause_booking(session, booking.id, SYSTEM, "苦情の確認", now=first + timedelta(days=2))
    resume_booking(session, booking.id, SYSTEM, now=first + timedelta(days=3))
    booking.status = BookingStatus.COMPLETED
    session.flush()
    [result], _ = run_make_goods(session, billing_config, through=AFTER, gateway=None)
    assert result.credit_yen == 1_571
    [note] = credit_notes(session, invoice)
    assert note.reason.endswith("不足の原因: 市の職員による一時停止)")
    printed = invoice_body_html(invoice_view(session, billing_config, note))
    assert "不足の原因: 市の職員による一時停止" in printed
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "booking_make_good")
    ).one()
    assert entry.details["causes"] == ["paused"]
    # Handled once: a second run credits nothing more.
    done, _ = run_make_goods(session, billing_config, through=AFTER, gateway=None)
    assert done == [] and len(credit_notes(session, invoice)) == 1


def test_a_shortfall_the_records_cannot_explain_says_so_on_the_credit_note(
    session: Session,
    billing_config: BillingConfig,
    completed: Callable[..., tuple[Booking, Invoice]],
) -> None:
    booking, invoice = completed(impressions=150, others=850)
    make_good_booking(session, billing_config, booking, today=AFTER, gateway=None)
    [note] = credit_notes(session, invoice)
    assert "不足の原因: 理由を確認中" in note.reason
