"""Gapless invoice numbers per series and fiscal year.

The number is taken from a counter row locked with SELECT … FOR UPDATE in the same transaction
that writes the invoice: if that transaction rolls back, so does the counter, and no number is
ever skipped. Concurrent issuers wait on the lock instead of racing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing.models import InvoiceCounter

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"


def format_number(series: str, fiscal_year: int, sequence: int) -> str:
    return f"{series}-{fiscal_year}-{sequence:06d}"


def payment_reference(fiscal_year: int, sequence: int) -> str:
    """Eight digits a shop types in front of its name on a bank transfer (e.g. 26000123)."""
    return f"{fiscal_year % 100:02d}{sequence:06d}"


def _locked_counter(session: Session, series: str, fiscal_year: int) -> InvoiceCounter | None:
    return session.execute(
        select(InvoiceCounter)
        .where(InvoiceCounter.series == series, InvoiceCounter.fiscal_year == fiscal_year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def take_number(session: Session, series: str, fiscal_year: int) -> int:
    """Reserve the next sequence number; the caller must write its document in this transaction."""
    counter = _locked_counter(session, series, fiscal_year)
    if counter is None:
        try:
            with session.begin_nested():
                session.add(InvoiceCounter(series=series, fiscal_year=fiscal_year, next_number=1))
        except IntegrityError:
            pass  # another transaction created it first; lock theirs
        counter = _locked_counter(session, series, fiscal_year)
        assert counter is not None
    number = counter.next_number
    counter.next_number = number + 1
    session.flush()
    return number
