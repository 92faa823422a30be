"""Straight-line revenue recognition over each booking's service days, into Tokyo months.

A line's taxable amount is earned evenly over the days of its booked weeks (equal per week, so
equal per day). The amount earned by the end of month M is floor(amount × days elapsed / total
days); a month's revenue is the difference from the month before, so the months always add up
to the line exactly. Credit-note lines are recognised the same way with the opposite sign,
which takes back the revenue of the weeks they credit.

`recognise_revenue` is idempotent: it posts only the difference between what each line should
have earned by `through_date` and what the ledger already holds, so reruns post nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from billing import ledger
from billing.models import DocumentKind, Invoice, InvoiceLine, LedgerAccount, LedgerEntry
from billing.money import cumulative_share


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def month_end(first: date) -> date:
    return next_month(first) - timedelta(days=1)


def schedule(amount: int, start: date, end: date, through: date) -> dict[date, int]:
    """Revenue per month (keyed by the month's first day) earned from `start` to `through`.

    `start`..`end` are inclusive service days. Months with nothing earned are omitted.
    """
    if end < start:
        raise ValueError("service period ends before it starts")
    total_days = (end - start).days + 1
    result: dict[date, int] = {}
    earned_before = 0
    month = month_start(start)
    last = min(through, end)
    while month <= last:
        cutoff = min(month_end(month), last)
        earned = cumulative_share(amount, (cutoff - start).days + 1, total_days)
        if earned != earned_before:
            result[month] = earned - earned_before
        earned_before = earned
        month = next_month(month)
    return result


@dataclass(frozen=True)
class RecognitionResult:
    transactions: int
    legs: int
    amount: int  # net revenue posted by this run


def _lock(session: Session) -> None:
    # One recognition run at a time; a concurrent rerun would otherwise post twice.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('billing.recognise_revenue'))"))


def recognised_so_far(session: Session) -> dict[tuple[int, date], int]:
    """Revenue already recognised per (invoice line, month), as positive revenue."""
    rows = session.execute(
        select(LedgerEntry.invoice_line_id, LedgerEntry.revenue_month, func.sum(LedgerEntry.amount))
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerAccount.code == ledger.AD_REVENUE, LedgerEntry.invoice_line_id.is_not(None))
        .group_by(LedgerEntry.invoice_line_id, LedgerEntry.revenue_month)
    ).all()
    return {(int(line), month): -int(total) for line, month, total in rows}


def recognise_revenue(session: Session, through_date: date) -> RecognitionResult:
    """Move earned revenue from deferred revenue to ad revenue for every day up to `through_date`."""
    _lock(session)
    done = recognised_so_far(session)
    done_months: dict[int, set[date]] = defaultdict(set)
    for line_id, month in done:
        done_months[line_id].add(month)
    lines = session.execute(
        select(InvoiceLine, Invoice.kind)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLine.service_start.is_not(None), InvoiceLine.service_start <= through_date)
    ).all()
    by_month: dict[date, list[ledger.Leg]] = defaultdict(list)
    net = 0
    for line, kind in lines:
        assert line.service_start is not None and line.service_end is not None
        sign = 1 if kind is DocumentKind.INVOICE else -1
        earned = schedule(line.taxable, line.service_start, line.service_end, through_date)
        months = set(earned) | done_months[line.id]
        for month in sorted(months):
            delta = sign * earned.get(month, 0) - done.get((line.id, month), 0)
            if delta == 0:
                continue
            net += delta
            attrs = {"booking_id": line.booking_id, "invoice_line_id": line.id}
            by_month[month].append(ledger.Leg(ledger.DEFERRED_REVENUE, delta, **attrs))
            by_month[month].append(
                ledger.Leg(ledger.AD_REVENUE, -delta, revenue_month=month, **attrs)
            )
    legs_posted = 0
    for month in sorted(by_month):
        legs = by_month[month]
        ledger.post(
            session,
            kind="recognition",
            description=f"広告収入の計上 {month:%Y-%m}(〜{through_date.isoformat()})",
            posted_on=min(month_end(month), through_date),
            legs=legs,
        )
        legs_posted += len(legs)
    return RecognitionResult(len(by_month), legs_posted, net)
