"""Make-goods: a completed booking that got less than its share is credited and refunded.

A booking bought ``shares / shares_per_week`` of its placement's impressions. What it got is
its valid impressions over all valid impressions of the placement during the booking's
period, both from the delivery rollups: the same rows and the same period as the shop's
report. Delivery within 5% (relative) of the share bought is on target; below that, the
shortfall is credited in proportion (``make_good_amount``) on the booking's invoice lines,
and whatever the shop has then overpaid is refunded through the original payment method
(bank transfers are recorded for finance to pay out). A refund never exceeds what was paid.

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
from billing.refunds import RefundGateway, credit_and_refund, make_good_amount
from marketplace.audit import SYSTEM, record
from marketplace.calendar import start_of_tokyo_day
from marketplace.delivery.models import DeliveryRollup
from marketplace.lifecycle import BookingStatus, MarketplaceEventKind
from marketplace.models import Booking, MarketplaceEvent, Placement

TOLERANCE = Fraction(5, 100)
PREFIX = "make-good: "


def make_good_credit(bought: Fraction, delivered: Fraction, billed: int) -> int:
    """The credit for a booking: nothing within the tolerance, else the proportional shortfall."""
    if delivered >= bought * (1 - TOLERANCE):
        return 0
    return make_good_amount(bought, delivered, billed)


@dataclass(frozen=True)
class Delivery:
    impressions: int
    placement_impressions: int

    @property
    def share(self) -> Fraction | None:
        if self.placement_impressions <= 0:
            return None
        return Fraction(self.impressions, self.placement_impressions)


@dataclass(frozen=True)
class MakeGood:
    booking_id: int
    share_bought: Fraction
    share_delivered: Fraction | None
    credit_yen: int
    refund_yen: int
    credit_notes: tuple[str, ...]
    outcome: str


def measure_delivery(session: Session, booking: Booking) -> Delivery:
    """Valid impressions of the booking and of its placement over the booking's period."""
    start = start_of_tokyo_day(booking.first_week)
    end = start_of_tokyo_day(booking.last_week + timedelta(weeks=1))
    period = (DeliveryRollup.hour_start >= start, DeliveryRollup.hour_start < end)
    total = func.coalesce(func.sum(DeliveryRollup.impressions), 0)
    own = session.scalar(select(total).where(DeliveryRollup.booking_id == booking.id, *period))
    placement = session.scalar(
        select(total).where(DeliveryRollup.placement_id == booking.placement_id, *period)
    )
    return Delivery(int(own or 0), int(placement or 0))


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
) -> MakeGood | None:
    """Measure one completed booking and credit its shortfall; None if it cannot be measured."""
    placement = session.get_one(Placement, booking.placement_id)
    bought = Fraction(booking.shares, placement.shares_per_week)
    delivery = measure_delivery(session, booking)
    delivered = delivery.share
    if delivered is None:  # no delivery recorded on the placement at all: finance decides
        return None
    lines = _booking_lines(session, booking.id)
    credit = make_good_credit(bought, delivered, sum(rest for _, rest in lines))
    notes: list[str] = []
    refunded = 0
    if credit > 0:
        reason = (
            f"予約 {booking.id} の配信不足の補償(購入シェア {float(bought):.1%}、"
            f"配信シェア {float(delivered):.1%})"
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
            credit_yen=credit,
            refund_yen=refunded,
            credit_notes=notes,
        )
    outcome = (
        f"返金伝票 {'、'.join(notes)}(¥{credit:,}、返金 ¥{refunded:,})" if notes else "配信不足なし"
    )
    return MakeGood(booking.id, bought, delivered, credit, refunded, tuple(notes), outcome)


def run_make_goods(
    session: Session,
    config: BillingConfig,
    *,
    through: date,
    gateway: RefundGateway | None,
    today: date | None = None,
) -> tuple[list[MakeGood], list[int]]:
    """Handle every completed booking whose period ended by `through` and is not handled yet.

    Returns the make-goods handled now and the ids of bookings that could not be measured (no
    impression on their placement during their period); those are tried again next run.
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
            session, config, booking, today=today or through, gateway=gateway
        )
        if result is None:
            unmeasured.append(booking.id)
            continue
        session.add(ProcessedMarketplaceEvent(event_id=event_id, outcome=PREFIX + result.outcome))
        session.flush()
        done.append(result)
    return done, unmeasured
