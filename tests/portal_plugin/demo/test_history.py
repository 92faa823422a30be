from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.dashboard import load_dashboard, load_offset_report
from billing.check import check_ledger
from billing.config import BillingConfig
from billing.models import DocumentKind, Invoice
from billing.payments import invoice_position
from billing.reports import recognised_revenue_by_month
from marketplace.accounts.registration_number import make_invoice_registration_number
from marketplace.lifecycle import BookingStatus
from marketplace.models import Booking
from portal_plugin.demo.history import seed_history

TODAY = date(2026, 11, 26)


@pytest.fixture
def config() -> BillingConfig:
    return BillingConfig(
        issuer_name="会津若松市",
        issuer_registration_number=make_invoice_registration_number("000020072028"),
        bank_account="東邦銀行 会津支店 普通 1234567 アイヅワカマツシ",
    )


@pytest.mark.slow
def test_two_years_of_history_agree_with_the_books(session: Session, config: BillingConfig) -> None:
    summary = seed_history(session, config, today=TODAY, shops=25, seed=3)
    assert summary.bookings > 80 and summary.invoices > summary.bookings  # long ones monthly
    assert summary.credit_notes >= 1 and summary.payments > summary.bookings // 2
    assert seed_history(session, config, today=TODAY).skipped
    assert check_ledger(session).ok
    report = load_offset_report(session, 2025)
    ledger_total = sum(m.amount for m in recognised_revenue_by_month(session, 2025))
    assert report.revenue_recognised == ledger_total > 0
    assert report.running_costs == 20_400_000
    assert 0 < report.offset_ratio < 1  # type: ignore[operator]
    dashboard = load_dashboard(session, 2026, TODAY)
    assert dashboard.report.months["revenue"].iloc[8:].sum() == 0  # December onwards not yet earned
    assert dashboard.forecast.total >= dashboard.report.revenue_recognised
    assert not dashboard.sellthrough.empty and not dashboard.by_category.empty
    assert sum(dashboard.advertiser_counts.values()) > 0
    assert (dashboard.receivables["outstanding"] > 0).all()
    # The bulk receivables query agrees with billing's own position of every invoice.
    owed = {
        invoice.number: invoice_position(session, invoice.id).outstanding
        for invoice in session.scalars(select(Invoice).where(Invoice.kind == DocumentKind.INVOICE))
    }
    listed = dict(
        zip(
            dashboard.receivables["invoice_number"],
            dashboard.receivables["outstanding"],
            strict=True,
        )
    )
    assert listed == {number: amount for number, amount in owed.items() if amount > 0}
    assert dashboard.years["fiscal_year"].tolist() == [2024, 2025, 2026]
    for table in dashboard.tables():
        assert table.headers and len(table.headers) == len(table.columns)
    # Every booking carries its shop's approved creative: passed weeks are completed, current
    # ones live, later ones scheduled; none is left waiting for a review that never comes.
    bookings = session.scalars(select(Booking)).all()
    assert all(b.creative_id is not None for b in bookings)
    statuses = {b.id: (b.first_week, b.last_week, b.status) for b in bookings}
    assert BookingStatus.IN_REVIEW not in {status for _, _, status in statuses.values()}
    monday = TODAY - timedelta(days=TODAY.weekday())
    for first, last, status in statuses.values():
        if status is BookingStatus.CANCELLED:
            continue
        if last < monday:
            assert status is BookingStatus.COMPLETED
        elif first <= TODAY:
            assert status is BookingStatus.LIVE
        else:
            assert status is BookingStatus.SCHEDULED
