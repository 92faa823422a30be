"""Billing for bookings: invoices per booking (monthly for long ones), month-end, cancellations.

Weeks are priced evenly: the booking's tax-included total is split over its weeks by largest
remainder, so the invoices of a booking always add up to its total. A short booking, or one paid
by card, gets one invoice; a long one paid by invoice gets one invoice per month, for the weeks
that start in that month, issued at the previous month end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.config import BillingConfig
from billing.invoices import LineDraft, credited_so_far, issue_invoice
from billing.models import (
    DocumentKind,
    Invoice,
    InvoiceLine,
    PaymentMethod,
    ProcessedMarketplaceEvent,
)
from billing.money import allocate
from billing.recognition import month_end, month_start, next_month
from billing.refunds import RefundGateway, credit_and_refund
from marketplace.audit import Actor
from marketplace.bookings.services import confirm_booking
from marketplace.calendar import tokyo_date
from marketplace.db import utcnow
from marketplace.lifecycle import SOLD_STATUSES, BookingStatus, MarketplaceEventKind
from marketplace.models import Booking, MarketplaceEvent, Placement

INVOICEABLE = SOLD_STATUSES | {BookingStatus.LIVE, BookingStatus.COMPLETED}


def week_amounts(booking: Booking) -> list[tuple[date, int]]:
    weeks = [booking.first_week + timedelta(weeks=i) for i in range(booking.weeks)]
    return list(zip(weeks, allocate(booking.total_yen, [1] * booking.weeks), strict=True))


def invoiced_weeks(session: Session, booking_id: int) -> dict[date, int]:
    """Week → invoice line id, for every week of the booking already invoiced."""
    return invoiced_weeks_of(session, [booking_id]).get(booking_id, {})


def invoiced_weeks_of(session: Session, booking_ids: Sequence[int]) -> dict[int, dict[date, int]]:
    """Booking → (week → invoice line id) for many bookings, in one query per 500 bookings."""
    result: dict[int, dict[date, int]] = {}
    for i in range(0, len(booking_ids), 500):
        rows = session.execute(
            select(
                InvoiceLine.id,
                InvoiceLine.booking_id,
                InvoiceLine.service_start,
                InvoiceLine.service_end,
            )
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(
                InvoiceLine.booking_id.in_(booking_ids[i : i + 500]),
                Invoice.kind == DocumentKind.INVOICE,
            )
            .order_by(InvoiceLine.id)
        ).tuples()
        for line_id, booking_id, start, end in rows:
            if booking_id is None or start is None or end is None:
                continue
            weeks = result.setdefault(booking_id, {})
            week = start
            while week <= end:
                weeks[week] = line_id
                week += timedelta(weeks=1)
    return result


def _line(booking: Booking, placement: Placement, weeks: Sequence[tuple[date, int]]) -> LineDraft:
    first, last = weeks[0][0], weeks[-1][0]
    return LineDraft(
        description=(
            f"{placement.name} {first:%Y/%m/%d}〜{last + timedelta(days=6):%Y/%m/%d}"
            f"({len(weeks)}週 × {booking.shares}枠)"
        ),
        amount=sum(amount for _, amount in weeks),
        quantity=len(weeks) * booking.shares,
        booking_id=booking.id,
        service_start=first,
        service_end=last + timedelta(days=6),
    )


def due_lines(
    session: Session,
    booking: Booking,
    through: date | None,
    done: dict[date, int] | None = None,
) -> list[LineDraft]:
    """The line for the booking's weeks not invoiced yet that start by `through` (all if None).

    `done` is the booking's invoiced weeks when the caller has already read them."""
    if done is None:
        done = invoiced_weeks(session, booking.id)
    due = [
        (week, amount)
        for week, amount in week_amounts(booking)
        if week not in done and (through is None or week <= through) and amount > 0
    ]
    if not due:
        return []
    return [_line(booking, session.get_one(Placement, booking.placement_id), due)]


def invoice_due_weeks(
    session: Session,
    config: BillingConfig,
    booking: Booking,
    *,
    method: PaymentMethod,
    issue_date: date,
    through: date | None,
) -> Invoice | None:
    """Invoice the booking's not yet invoiced weeks starting on or before `through` (all if None)."""
    lines = due_lines(session, booking, through)
    if not lines:
        return None
    return issue_invoice(
        session,
        config,
        shop_id=booking.shop_id,
        lines=lines,
        issue_date=issue_date,
        payment_method=method,
        booking_id=booking.id,
    )


def is_long(config: BillingConfig, booking: Booking) -> bool:
    return booking.weeks > config.monthly_after_weeks


def accept_invoice(
    session: Session,
    config: BillingConfig,
    booking_id: int,
    *,
    shop_id: int,
    method: PaymentMethod = PaymentMethod.BANK_TRANSFER,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Invoice:
    """The shop accepts to pay by invoice: the hold is confirmed and the first invoice issued.

    Idempotent: accepting again returns the booking's first invoice and issues nothing.
    """
    now = now or utcnow()
    booking = confirm_booking(session, booking_id, shop_id=shop_id, actor=actor, now=now)
    today = tokyo_date(now)
    through = None
    if is_long(config, booking):
        through = month_end(month_start(max(today, booking.first_week)))
    invoice = invoice_due_weeks(
        session, config, booking, method=method, issue_date=today, through=through
    )
    if invoice is None:  # confirmed earlier and already invoiced: return the first invoice
        invoice = (
            session.execute(
                select(Invoice)
                .where(Invoice.booking_id == booking.id, Invoice.kind == DocumentKind.INVOICE)
                .order_by(Invoice.id)
            )
            .scalars()
            .first()
        )
        assert invoice is not None
    return invoice


@dataclass(frozen=True)
class MonthEndResult:
    invoices: list[Invoice]
    bookings_seen: int


def run_month_end(session: Session, config: BillingConfig, closing_day: date) -> MonthEndResult:
    """At a month's end, invoice every confirmed booking's weeks that start next month.

    Each shop gets one invoice per payment method with a line per booking, so tax is rounded
    once over the shop's month. Idempotent: weeks already invoiced are skipped.
    """
    through = month_end(next_month(month_start(closing_day)))
    bookings = (
        session.execute(
            select(Booking)
            .where(Booking.status.in_(INVOICEABLE), Booking.first_week <= through)
            .order_by(Booking.shop_id, Booking.id)
        )
        .scalars()
        .all()
    )
    methods = dict(
        session.execute(
            select(Invoice.booking_id, Invoice.payment_method)
            .where(Invoice.booking_id.is_not(None), Invoice.kind == DocumentKind.INVOICE)
            .order_by(Invoice.id.desc())  # later ids first, so the first invoice's method wins
        )
        .tuples()
        .all()
    )
    done = invoiced_weeks_of(session, [b.id for b in bookings])
    # Held here so the identity map keeps them: due_lines' session.get then never queries.
    placements = session.scalars(
        select(Placement).where(Placement.id.in_({b.placement_id for b in bookings}))
    ).all()
    grouped: dict[tuple[int, PaymentMethod], list[LineDraft]] = {}
    for booking in bookings:
        lines = due_lines(session, booking, through, done.get(booking.id, {}))
        if lines:
            method = methods.get(booking.id, PaymentMethod.BANK_TRANSFER)
            grouped.setdefault((booking.shop_id, method), []).extend(lines)
    invoices = [
        issue_invoice(
            session,
            config,
            shop_id=shop_id,
            lines=lines,
            issue_date=closing_day,
            payment_method=method,
            booking_id=lines[0].booking_id if len(lines) == 1 else None,
        )
        for (shop_id, method), lines in grouped.items()
    ]
    del placements
    return MonthEndResult(invoices, len(bookings))


def process_cancellations(
    session: Session,
    config: BillingConfig,
    *,
    gateway: RefundGateway | None,
    today: date | None = None,
) -> int:
    """Credit and refund every booking_cancelled event not handled yet; returns how many."""
    handled = select(ProcessedMarketplaceEvent.event_id)
    events = (
        session.execute(
            select(MarketplaceEvent)
            .where(
                MarketplaceEvent.kind == MarketplaceEventKind.BOOKING_CANCELLED,
                MarketplaceEvent.id.not_in(handled),
            )
            .order_by(MarketplaceEvent.id)
        )
        .scalars()
        .all()
    )
    for event in events:
        outcome = _refund_cancellation(
            session, config, event, gateway, today or tokyo_date(utcnow())
        )
        session.add(ProcessedMarketplaceEvent(event_id=event.id, outcome=outcome))
        session.flush()
    return len(events)


def _refund_cancellation(
    session: Session,
    config: BillingConfig,
    event: MarketplaceEvent,
    gateway: RefundGateway | None,
    today: date,
) -> str:
    refunded_weeks = [date.fromisoformat(w) for w in event.payload.get("refunded_weeks", [])]
    if event.refund_yen <= 0 or not refunded_weeks:
        return "返金なし"
    booking = session.get_one(Booking, event.booking_id)
    amounts = dict(week_amounts(booking))
    lines = invoiced_weeks(session, booking.id)
    by_line: dict[int, list[date]] = {}
    for week in refunded_weeks:
        if week in lines:
            by_line.setdefault(lines[week], []).append(week)
    budget = event.refund_yen  # never more than the policy says
    notes = []
    for line_id, weeks in sorted(by_line.items()):
        line = session.get_one(InvoiceLine, line_id)
        remaining = line.amount - credited_so_far(session, [line_id]).get(line_id, (0, 0))[0]
        amount = min(sum(amounts[w] for w in weeks), remaining, budget)
        if amount <= 0:
            continue
        budget -= amount
        note, _ = credit_and_refund(
            session,
            config,
            invoice_id=line.invoice_id,
            amount=amount,
            reason=f"予約 {booking.id} のキャンセル({len(weeks)}週分)",
            issue_date=today,
            service_period=(min(weeks), max(weeks) + timedelta(days=6)),
            gateway=gateway,
            line_ids=[line_id],
        )
        notes.append(note.number)
    return "返金伝票 " + "、".join(notes) if notes else "請求前の週のみ(返金なし)"
