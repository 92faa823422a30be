from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from billing import ledger
from billing.check import check_ledger
from billing.errors import LedgerImmutable, UnbalancedTransaction
from billing.models import LedgerEntry


def test_unbalanced_transactions_are_refused_in_code(session) -> None:
    with pytest.raises(UnbalancedTransaction, match="sum to 1"):
        ledger.post(
            session,
            kind="test",
            description="x",
            posted_on=date(2026, 5, 1),
            legs=[ledger.Leg(ledger.BANK, 100), ledger.Leg(ledger.AD_REVENUE, -99)],
        )
    with pytest.raises(UnbalancedTransaction):
        ledger.post(
            session,
            kind="test",
            description="x",
            posted_on=date(2026, 5, 1),
            legs=[ledger.Leg(ledger.BANK, 0), ledger.Leg(ledger.AD_REVENUE, 0)],
        )


def test_keyed_posts_are_idempotent_and_reversals_mirror(session) -> None:
    legs = [ledger.Leg(ledger.BANK, 500), ledger.Leg(ledger.REFUNDS_PAYABLE, -500)]
    first = ledger.post(
        session, kind="t", description="x", posted_on=date(2026, 5, 1), legs=legs, key="k1"
    )
    again = ledger.post(
        session, kind="t", description="x", posted_on=date(2026, 5, 1), legs=legs, key="k1"
    )
    assert first.id == again.id
    assert ledger.balance(session, ledger.BANK) == 500
    reversal = ledger.reverse(session, first.id, reason="誤り", posted_on=date(2026, 5, 2))
    assert reversal.reverses_id == first.id
    assert ledger.balance(session, ledger.BANK) == 0
    assert check_ledger(session).ok


def test_entries_cannot_be_edited(session) -> None:
    tx = ledger.post(
        session,
        kind="t",
        description="x",
        posted_on=date(2026, 5, 1),
        legs=[ledger.Leg(ledger.BANK, 1), ledger.Leg(ledger.REFUNDS_PAYABLE, -1)],
    )
    entry = session.get(LedgerEntry, tx.entries[0].id)
    savepoint = session.begin_nested()
    entry.amount = 2
    with pytest.raises(LedgerImmutable):
        session.flush()
    savepoint.rollback()


@pytest.mark.postgres
def test_postgres_refuses_an_unbalanced_transaction_at_commit(session, engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the deferred balance trigger exists on PostgreSQL only")
    savepoint = session.begin_nested()
    tx = ledger.post(
        session,
        kind="t",
        description="x",
        posted_on=date(2026, 5, 1),
        legs=[ledger.Leg(ledger.BANK, 10), ledger.Leg(ledger.REFUNDS_PAYABLE, -10)],
    )
    # Bypass the code's own check, as a buggy script with raw SQL would.
    session.execute(
        text(
            "INSERT INTO ledger_entries (transaction_id, account_id, amount) "
            "SELECT :t, account_id, 5 FROM ledger_entries WHERE transaction_id = :t LIMIT 1"
        ),
        {"t": tx.id},
    )
    with pytest.raises(DBAPIError, match="does not balance"):
        session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
    savepoint.rollback()


def test_check_reports_a_tampered_ledger(session, make_shop, engine) -> None:
    shop = make_shop()
    ledger.post(
        session,
        kind="t",
        description="x",
        posted_on=date(2026, 5, 1),
        legs=[ledger.Leg(ledger.receivable(shop.id), 100), ledger.Leg(ledger.BANK, -100)],
    )
    report = check_ledger(session)
    assert not report.ok
    text_report = "\n".join(report.lines())
    assert f"shop {shop.id}: ledger 100, documents 0" in text_report
    assert "bank: ledger -100, documents 0" in text_report
    # Put it right with a reversing entry so the suite's own check passes.
    tx = ledger.find_by_key(session, "none")
    assert tx is None
    last = session.execute(text("SELECT max(id) FROM ledger_transactions")).scalar_one()
    ledger.reverse(session, last, reason="テスト", posted_on=date(2026, 5, 1))
    assert check_ledger(session).ok
