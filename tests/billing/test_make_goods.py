from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from fractions import Fraction

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import ledger
from billing.bookings import accept_invoice
from billing.config import BillingConfig
from billing.make_goods import make_good_credit, run_make_goods
from billing.models import DocumentKind, Invoice, Refund, RefundStatus
from billing.payments import invoice_position, record_bank_transfer
from marketplace.calendar import start_of_tokyo_day
from marketplace.delivery.models import DeliveryRollup
from marketplace.lifecycle import BookingStatus
from marketplace.models import AuditEntry, Booking, Shop
from tests.billing.conftest import NOW

AFTER = date(2026, 6, 1)  # the day after a 4-week booking from 5/4 ends


def test_credit_is_proportional_beyond_the_tolerance() -> None:
    quarter = Fraction(1, 4)
    assert make_good_credit(quarter, Fraction(24, 100), 44_000) == 0  # 4% short: on target
    assert make_good_credit(quarter, quarter * Fraction(95, 100), 44_000) == 0  # the edge
    assert make_good_credit(quarter, Fraction(15, 100), 44_000) == 17_600  # 40% short
    assert make_good_credit(quarter, Fraction(0), 44_000) == 44_000
    assert make_good_credit(quarter, Fraction(1, 3), 44_000) == 0  # over-delivery


def rollups(
    session: Session, booking: Booking, impressions: int, hours: int = 4, late: bool = False
) -> None:
    """Real rollup rows: `impressions` spread over a few hours of the booking's period."""
    per_hour = [impressions // hours + (1 if h < impressions % hours else 0) for h in range(hours)]
    for h, count in enumerate(per_hour):
        session.add(
            DeliveryRollup(
                hour_start=start_of_tokyo_day(booking.first_week)
                + timedelta(days=3 * h, hours=20 if late else 10),
                booking_id=booking.id,
                placement_id=booking.placement_id,
                age_band="30-39",
                household="couple",
                district="tsuruga",
                offers=count + 5,
                impressions=count,
                invalid_impressions=3,  # never counted
                clicks=count // 50,
                invalid_clicks=0,
                unit_price_yen=booking.unit_price_yen,
            )
        )
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
        rollups(session, booking, impressions)
        rollups(session, other, others)
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


def test_within_tolerance_nothing_is_credited(
    session: Session,
    billing_config: BillingConfig,
    completed: Callable[..., tuple[Booking, Invoice]],
) -> None:
    _, invoice = completed(impressions=241, others=759, paid=44_000)  # 24.1% of 25%
    [result] = run_make_goods(session, billing_config, through=AFTER, gateway=None)[0]
    assert result.credit_yen == 0 and result.outcome == "配信不足なし"
    assert credit_notes(session, invoice) == []
    assert run_make_goods(session, billing_config, through=AFTER, gateway=None) == ([], [])


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
    rollups(session, booking, 100, late=True)  # late rollups arrive: handled next run
    other = session.scalars(
        select(Booking).where(Booking.id != booking.id).order_by(Booking.id.desc())
    ).first()
    assert other is not None
    rollups(session, other, 300, late=True)
    [result] = run_make_goods(session, billing_config, through=AFTER, gateway=None)[0]
    assert result.share_delivered == Fraction(1, 4) and result.credit_yen == 0
