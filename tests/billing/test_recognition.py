from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from billing import ledger
from billing.recognition import recognise_revenue, schedule
from billing.refunds import credit_and_refund
from billing.reports import recognised_revenue_by_booking, recognised_revenue_by_month


def test_schedule_splits_weeks_across_months_by_days() -> None:
    # Four weeks from Mon 2026-04-27 to Sun 2026-05-24: 4 days in April, 24 in May.
    months = schedule(28_000, date(2026, 4, 27), date(2026, 5, 24), date(2026, 12, 31))
    assert months == {date(2026, 4, 1): 4_000, date(2026, 5, 1): 24_000}
    partial = schedule(28_000, date(2026, 4, 27), date(2026, 5, 24), date(2026, 5, 3))
    assert partial == {date(2026, 4, 1): 4_000, date(2026, 5, 1): 3_000}


@given(
    st.integers(0, 5_000_000),
    st.dates(date(2025, 1, 1), date(2027, 12, 31)),
    st.integers(1, 52),
    st.dates(date(2025, 1, 1), date(2029, 1, 1)),
)
def test_schedule_never_exceeds_and_completes(amount, start, weeks, through) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    end = start + timedelta(weeks=weeks) - timedelta(days=1)
    months = schedule(amount, start, end, through)
    assert all(v >= 0 for v in months.values())
    assert sum(months.values()) <= amount
    if through >= end:
        assert sum(months.values()) == amount


def test_recognition_is_idempotent_and_reported_by_fiscal_month(
    session, make_shop, make_booking, billing_config, invoice_booking
) -> None:
    shop = make_shop()
    booking = make_booking(shop, first_week=date(2026, 3, 23), weeks=4)  # 3/23 – 4/19
    invoice_booking(booking, date(2026, 3, 20), 30_800)
    first = recognise_revenue(session, date(2026, 3, 31))
    assert first.amount == 28_000 * 9 // 28
    assert recognise_revenue(session, date(2026, 3, 31)).amount == 0
    recognise_revenue(session, date(2026, 6, 30))
    assert ledger.balance(session, ledger.DEFERRED_REVENUE) == 0
    assert ledger.balance(session, ledger.AD_REVENUE) == -28_000
    fy2025 = recognised_revenue_by_month(session, 2025)
    fy2026 = recognised_revenue_by_month(session, 2026)
    assert fy2025[-1].month == date(2026, 3, 1) and fy2025[-1].amount == 9_000
    assert fy2026[0].month == date(2026, 4, 1) and fy2026[0].amount == 19_000
    assert [(r.booking_id, r.amount) for r in recognised_revenue_by_booking(session, 2026)] == [
        (booking.id, 19_000)
    ]


def test_cancelled_weeks_take_their_revenue_back(
    session, make_shop, make_booking, billing_config, invoice_booking
) -> None:
    shop = make_shop()
    booking = make_booking(shop, first_week=date(2026, 5, 4), weeks=4)
    invoice = invoice_booking(booking, date(2026, 5, 1), 44_000)
    recognise_revenue(session, date(2026, 5, 10))
    # Cancel the last two weeks before they start.
    note, refunds = credit_and_refund(
        session,
        billing_config,
        invoice_id=invoice.id,
        amount=22_000,
        reason="キャンセル",
        issue_date=date(2026, 5, 10),
        service_period=(date(2026, 5, 18), date(2026, 5, 31)),
    )
    assert refunds == []  # nothing was paid yet: the credit just reduces what is owed
    recognise_revenue(session, date(2026, 6, 30))
    assert ledger.balance(session, ledger.AD_REVENUE) == -20_000
    assert ledger.balance(session, ledger.DEFERRED_REVENUE) == 0
    assert ledger.balance(session, ledger.receivable(shop.id)) == 22_000
    assert note.total == 22_000
