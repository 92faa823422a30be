"""Property: whatever sequence of invoices, payments, cancellations and refunds happens, the
ledger balances and agrees with the documents, and no refund exceeds what was paid."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import ledger
from billing.check import check_ledger
from billing.invoices import credit_remaining
from billing.models import Invoice, RefundStatus
from billing.payments import invoice_position, record_bank_transfer
from billing.recognition import recognise_revenue
from billing.refunds import credit_and_refund, mark_paid_out

operation = st.one_of(
    st.tuples(st.just("book"), st.integers(0, 2), st.integers(1, 60_000), st.integers(1, 12)),
    st.tuples(st.just("pay"), st.integers(0, 50), st.floats(0.1, 1.0)),
    st.tuples(st.just("cancel"), st.integers(0, 50), st.floats(0.05, 1.0)),
    st.tuples(st.just("payout"), st.integers(0, 50)),
    st.tuples(st.just("recognise"), st.integers(0, 200)),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(operation, min_size=1, max_size=25))
def test_ledger_balances_over_random_histories(
    session, make_shop, make_booking, billing_config, invoice_booking, ops
) -> None:  # type: ignore[no-untyped-def]
    savepoint = session.begin_nested()
    shops = [make_shop() for _ in range(3)]
    invoices: list[Invoice] = []
    refunds = []
    today = date(2026, 4, 1)
    for op in ops:
        kind = op[0]
        if kind == "book":
            shop = shops[op[1]]
            weeks = op[3]
            start = today + timedelta(days=7 - today.weekday())
            booking = make_booking(shop, first_week=start, weeks=weeks, total_yen=op[2])
            invoices.append(invoice_booking(booking, today))
        elif kind == "pay" and invoices:
            invoice = invoices[op[1] % len(invoices)]
            owed = invoice_position(session, invoice.id).outstanding
            amount = max(1, int(owed * op[2]))
            if owed > 0:
                record_bank_transfer(
                    session,
                    invoice,
                    min(amount, owed),
                    reference=f"t{len(ops)}-{id(op)}-{amount}-{invoice.id}-{today}",
                    value_date=today,
                )
        elif kind == "cancel" and invoices:
            invoice = invoices[op[1] % len(invoices)]
            remaining = credit_remaining(session, invoice)
            amount = int(remaining * op[2])
            if amount > 0:
                _, new = credit_and_refund(
                    session,
                    billing_config,
                    invoice_id=invoice.id,
                    amount=amount,
                    reason="キャンセル",
                    issue_date=today,
                    service_period=(today, today + timedelta(weeks=12)),
                )
                refunds += new
        elif kind == "payout":
            pending = [r for r in refunds if r.status is RefundStatus.PENDING_PAYOUT]
            if pending:
                mark_paid_out(session, pending[op[1] % len(pending)].id, today)
        elif kind == "recognise":
            today += timedelta(days=op[1])
            recognise_revenue(session, today)
        report = check_ledger(session)
        assert report.ok, "\n".join(report.lines())
    for invoice in invoices:
        position = invoice_position(session, invoice.id)
        assert position.refunded <= position.paid
        assert position.outstanding >= 0  # every overpayment from a credit was refunded
    assert sum(ledger.balance(session, ledger.receivable(s.id)) for s in shops) == sum(
        invoice_position(session, i.id).outstanding for i in invoices
    )
    savepoint.rollback()
