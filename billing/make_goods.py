"""Make-goods: a completed booking that got less than it was owed is credited and refunded.

Delivery is the one measure (`marketplace/delivery/measure.py`, docs/delivery.md): the
booking's valid impressions against its share of the slots it was eligible for, read from the
delivery rollups by `measure_booking`, exactly as the shop's report and booking page read it.
Any shortfall is credited, priced at what the booking was billed (``credit_yen``: the
undelivered part of what was owed, rounded down), on the booking's invoice lines, and whatever
the shop has then overpaid is refunded through the original payment method (bank transfers are
recorded for finance to pay out). A credit never exceeds what is still uncredited on the
booking's invoices, and a refund never exceeds what was paid.

Each booking is handled once: its ``booking_confirmed`` outbox event is recorded as handled by
billing, under that table's primary key, in the same transaction as the credit note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.config import BillingConfig
from billing.invoices import credited_so_far
from billing.models import DocumentKind, Invoice, InvoiceLine, ProcessedMarketplaceEvent
from billing.money import allocate
from billing.refunds import RefundGateway, credit_and_refund
from marketplace.audit import SYSTEM, record
from marketplace.delivery.layout import HostLayout
from marketplace.delivery.measure import DeliveryMeasure
from marketplace.delivery.measured import booking_period
from marketplace.delivery.shortfall import describe
from marketplace.delivery.shortfall_reading import delivery_progress
from marketplace.lifecycle import BookingStatus, MarketplaceEventKind
from marketplace.models import Booking, MarketplaceEvent

PREFIX = "make-good: "
# Every make-good credit note's reason reads 「予約 N の配信不足の補償(…)」.
REASON_MARK = "の配信不足の補償("


@dataclass(frozen=True)
class MakeGood:
    booking_id: int
    share_bought: Fraction
    share_delivered: Fraction | None
    credit_yen: int
    refund_yen: int
    credit_notes: tuple[str, ...]
    outcome: str
    measure: DeliveryMeasure | None = None


def _booking_lines(session: Session, booking_id: int) -> list[tuple[InvoiceLine, int]]:
    """The booking's invoice lines with what is still uncredited on each."""
    lines = list(
        session.scalars(
            select(InvoiceLine)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(InvoiceLine.booking_id == booking_id, Invoice.kind == DocumentKind.INVOICE)
            .order_by(InvoiceLine.id)
        )
    )
    credited = credited_so_far(session, [line.id for line in lines])
    return [(line, line.amount - credited.get(line.id, (0, 0))[0]) for line in lines]


def make_good_booking(
    session: Session,
    config: BillingConfig,
    booking: Booking,
    *,
    today: date,
    gateway: RefundGateway | None,
    cap: int = HostLayout.frequency_cap,
) -> MakeGood | None:
    """Measure one completed booking and credit its shortfall; None if it cannot be measured.

    The credit note names the cause of the shortfall as the shop's booking page does
    (`shortfall_reading.delivery_progress`: pauses, disaster mode, review, outage, reach).
    """
    _, end = booking_period(booking)
    progress = delivery_progress(session, booking, end, cap=cap)
    measure = progress.measure
    bought, delivered = measure.share_bought, measure.share_delivered
    if delivered is None:  # no eligible slot recorded at all: finance decides
        return None
    lines = _booking_lines(session, booking.id)
    credit = measure.credit_yen(sum(rest for _, rest in lines))
    notes: list[str] = []
    refunded = 0
    if credit > 0:
        reason = (
            f"予約 {booking.id} {REASON_MARK}購入シェア {float(bought):.1%}、"
            f"配信シェア {float(delivered):.1%}、不足の原因: {describe(progress.causes)})"
        )
        for (line, _), part in zip(
            lines, allocate(credit, [rest for _, rest in lines]), strict=True
        ):
            if part <= 0:
                continue
            note, refunds = credit_and_refund(
                session,
                config,
                invoice_id=line.invoice_id,
                amount=part,
                reason=reason,
                issue_date=today,
                gateway=gateway,
                line_ids=[line.id],
            )
            notes.append(note.number)
            refunded += sum(r.amount for r in refunds)
        record(
            session,
            SYSTEM,
            "booking_make_good",
            "booking",
            booking.id,
            shop_id=booking.shop_id,
            reason=reason,
            causes=[cause.value for cause in progress.causes],
            credit_yen=credit,
            refund_yen=refunded,
            credit_notes=notes,
        )
    outcome = (
        f"返金伝票 {'、'.join(notes)}(¥{credit:,}、返金 ¥{refunded:,})" if notes else "配信不足なし"
    )
    return MakeGood(booking.id, bought, delivered, credit, refunded, tuple(notes), outcome, measure)


def run_make_goods(
    session: Session,
    config: BillingConfig,
    *,
    through: date,
    gateway: RefundGateway | None,
    today: date | None = None,
    cap: int = HostLayout.frequency_cap,
) -> tuple[list[MakeGood], list[int]]:
    """Handle every completed booking whose period ended by `through` and is not handled yet.

    Returns the make-goods handled now and the ids of bookings that could not be measured (no
    eligible slot recorded during their period); those are tried again next run.
    Idempotent: a booking is handled at most once.
    """
    handled = select(ProcessedMarketplaceEvent.event_id)
    rows = session.execute(
        select(Booking, MarketplaceEvent.id)
        .join(MarketplaceEvent, MarketplaceEvent.booking_id == Booking.id)
        .where(
            Booking.status == BookingStatus.COMPLETED,
            Booking.last_week <= through - timedelta(days=6),
            MarketplaceEvent.kind == MarketplaceEventKind.BOOKING_CONFIRMED,
            MarketplaceEvent.id.not_in(handled),
        )
        .order_by(Booking.id)
    ).tuples()
    done: list[MakeGood] = []
    unmeasured: list[int] = []
    for booking, event_id in rows.all():
        result = make_good_booking(
            session, config, booking, today=today or through, gateway=gateway, cap=cap
        )
        if result is None:
            unmeasured.append(booking.id)
            continue
        session.add(ProcessedMarketplaceEvent(event_id=event_id, outcome=PREFIX + result.outcome))
        session.flush()
        done.append(result)
    return done, unmeasured


def make_good_credits(
    session: Session, first_day: date, last_day: date
) -> list[tuple[int, date, int]]:
    """Make-goods credited per placement and credit-note issue day in [first_day, last_day]:
    (placement id, issue date, yen, tax included)."""
    rows = session.execute(
        select(Booking.placement_id, Invoice.issue_date, func.sum(InvoiceLine.amount))
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .join(Booking, Booking.id == InvoiceLine.booking_id)
        .where(
            Invoice.kind == DocumentKind.CREDIT_NOTE,
            Invoice.reason.contains(REASON_MARK, autoescape=True),
            Invoice.issue_date >= first_day,
            Invoice.issue_date <= last_day,
        )
        .group_by(Booking.placement_id, Invoice.issue_date)
        .order_by(Booking.placement_id, Invoice.issue_date)
    ).tuples()
    return [(placement, day, int(amount or 0)) for placement, day, amount in rows]
