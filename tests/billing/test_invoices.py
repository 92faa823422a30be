from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from billing import ledger
from billing.config import BillingConfig
from billing.errors import (
    BankAccountNotConfigured,
    CreditExceedsInvoice,
    InvoiceAlreadyIssued,
    IssuerNotConfigured,
)
from billing.invoices import CreditDraft, LineDraft, issue_credit_note, issue_invoice
from billing.models import DocumentKind, Invoice
from billing.tax import RoundingMode
from tests.support.billing_world import ISSUER_NAME, ISSUER_NUMBER


def _weeks_line(amount: int, booking_id: int | None = None) -> LineDraft:
    return LineDraft(
        "フィード内カード 2026-05-04〜2026-05-31 (4週 × 1枠)",
        amount,
        quantity=4,
        booking_id=booking_id,
        service_start=date(2026, 5, 4),
        service_end=date(2026, 5, 31),
    )


def test_issue_invoice_snapshots_issuer_and_recipient(
    session, make_shop, make_booking, billing_config
) -> None:
    shop = make_shop(invoice_registration_number="T7123456789012")
    booking = make_booking(shop)
    invoice = issue_invoice(
        session,
        billing_config,
        shop_id=shop.id,
        lines=[_weeks_line(44_000, booking.id)],
        issue_date=date(2026, 5, 1),
        booking_id=booking.id,
    )
    assert invoice.number == "INV-2026-000001"
    assert invoice.payment_reference == "26000001"
    assert (invoice.issuer_name, invoice.issuer_registration_number) == (
        ISSUER_NAME,
        ISSUER_NUMBER,
    )
    assert invoice.recipient_name == shop.business_name
    assert invoice.recipient_registration_number == "T7123456789012"
    assert (invoice.total, invoice.taxable, invoice.tax) == (44_000, 40_000, 4_000)
    # 30 days after 1 May is Sunday 31 May: payable on the next business day.
    assert invoice.due_date == date(2026, 6, 1)
    assert ledger.balance(session, ledger.receivable(shop.id)) == 44_000
    assert ledger.balance(session, ledger.DEFERRED_REVENUE) == -40_000
    assert ledger.balance(session, ledger.TAX_PAYABLE) == -4_000


def test_tax_is_computed_once_over_all_lines(session, make_shop, billing_config) -> None:
    shop = make_shop()
    invoice = issue_invoice(
        session,
        billing_config,
        shop_id=shop.id,
        lines=[LineDraft(f"明細{i}", 105) for i in range(3)],
        issue_date=date(2026, 5, 1),
    )
    assert invoice.tax == 28  # not 27, which per-line rounding would give
    assert [t.tax for t in invoice.tax_totals] == [28]
    assert sum(line.taxable for line in invoice.lines) == invoice.taxable


def test_numbers_are_sequential_per_fiscal_year(session, make_shop, billing_config) -> None:
    shop = make_shop()
    numbers = [
        issue_invoice(
            session, billing_config, shop_id=shop.id, lines=[LineDraft("広告", 1_100)], issue_date=d
        ).number
        for d in (date(2026, 3, 31), date(2026, 4, 1), date(2026, 4, 2), date(2027, 3, 31))
    ]
    assert numbers == [
        "INV-2025-000001",
        "INV-2026-000001",
        "INV-2026-000002",
        "INV-2026-000003",
    ]


def test_a_rolled_back_invoice_leaves_no_gap(
    session, make_shop, billing_config, simple_invoice
) -> None:
    shop = make_shop()
    first = simple_invoice(shop, 1_100)
    savepoint = session.begin_nested()
    simple_invoice(shop, 2_200)
    savepoint.rollback()
    third = simple_invoice(shop, 3_300)
    assert (first.sequence, third.sequence) == (1, 2)


def test_issuing_needs_a_configured_issuer(session, make_shop) -> None:
    shop = make_shop()
    with pytest.raises(IssuerNotConfigured, match="INVOICE_ISSUER_NAME"):
        issue_invoice(
            session,
            BillingConfig(),
            shop_id=shop.id,
            lines=[LineDraft("広告", 1_100)],
            issue_date=date(2026, 5, 1),
        )
    bad = BillingConfig(issuer_name="市", issuer_registration_number="T1000012050002")
    with pytest.raises(IssuerNotConfigured, match="登録番号"):
        bad.issuer()


def test_issuing_needs_a_bank_account_to_pay_into(session, make_shop, billing_config) -> None:
    shop = make_shop()
    no_account = BillingConfig(
        issuer_name=billing_config.issuer_name,
        issuer_registration_number=billing_config.issuer_registration_number,
    )
    with pytest.raises(BankAccountNotConfigured, match="INVOICE_BANK_ACCOUNT"):
        issue_invoice(
            session,
            no_account,
            shop_id=shop.id,
            lines=[LineDraft("広告", 1_100)],
            issue_date=date(2026, 5, 1),
        )
    assert session.query(Invoice).filter_by(shop_id=shop.id).count() == 0
    # No number was taken: the next invoice issued is still the first of the year.
    issued = issue_invoice(
        session,
        billing_config,
        shop_id=shop.id,
        lines=[LineDraft("広告", 1_100)],
        issue_date=date(2026, 5, 1),
    )
    assert issued.sequence == 1


@pytest.mark.parametrize(
    ("issue_date", "due_date"),
    [
        (date(2026, 11, 30), date(2027, 1, 4)),  # +30 = 30 Dec: 年末年始, then the weekend
        (date(2026, 12, 12), date(2027, 1, 12)),  # +30 = Mon 11 Jan 2027, 成人の日
        (date(2026, 6, 1), date(2026, 7, 1)),  # +30 = Wed 1 Jul, a business day
    ],
)
def test_due_dates_fall_on_a_business_day(
    session, make_shop, billing_config, issue_date: date, due_date: date
) -> None:
    invoice = issue_invoice(
        session,
        billing_config,
        shop_id=make_shop().id,
        lines=[LineDraft("広告", 1_100)],
        issue_date=issue_date,
    )
    assert invoice.due_date == due_date


def test_issued_invoices_cannot_be_changed_in_code(
    session, make_shop, billing_config, simple_invoice
) -> None:
    shop = make_shop()
    invoice = simple_invoice(shop, 1_100)
    savepoint = session.begin_nested()
    invoice.total = 1
    with pytest.raises(InvoiceAlreadyIssued):
        session.flush()
    savepoint.rollback()
    savepoint = session.begin_nested()
    session.delete(invoice.lines[0])
    with pytest.raises(InvoiceAlreadyIssued):
        session.flush()
    savepoint.rollback()


def test_issued_invoices_cannot_be_changed_in_the_database(
    session: Session, make_shop, billing_config, simple_invoice
) -> None:
    shop = make_shop()
    invoice = simple_invoice(shop, 1_100)
    for statement in (
        update(Invoice).where(Invoice.id == invoice.id).values(total=1),
        text("DELETE FROM invoice_lines WHERE invoice_id = :id").bindparams(id=invoice.id),
        text("UPDATE ledger_entries SET amount = amount * 2"),
    ):
        savepoint = session.begin_nested()
        with pytest.raises((IntegrityError, DBAPIError), match="write-once"):
            session.execute(statement)
        savepoint.rollback()


def test_credit_note_references_the_original_and_reverses_postings(
    session, make_shop, make_booking, billing_config
) -> None:
    shop = make_shop()
    booking = make_booking(shop)
    invoice = issue_invoice(
        session,
        billing_config,
        shop_id=shop.id,
        lines=[_weeks_line(44_000, booking.id)],
        issue_date=date(2026, 5, 1),
        booking_id=booking.id,
    )
    line = invoice.lines[0]
    note = issue_credit_note(
        session,
        billing_config,
        original_invoice_id=invoice.id,
        credits=[CreditDraft(line.id, 22_000, date(2026, 5, 18), date(2026, 5, 31))],
        reason="キャンセル(2週分)",
        issue_date=date(2026, 5, 10),
    )
    assert note.kind is DocumentKind.CREDIT_NOTE
    assert note.number == "CN-2026-000001"
    assert note.original_invoice_id == invoice.id
    assert note.payment_reference is None
    assert (note.total, note.taxable, note.tax) == (22_000, 20_000, 2_000)
    assert note.lines[0].credited_line_id == line.id
    assert ledger.balance(session, ledger.receivable(shop.id)) == 22_000
    with pytest.raises(CreditExceedsInvoice, match="22,000"):
        issue_credit_note(
            session,
            billing_config,
            original_invoice_id=invoice.id,
            credits=[CreditDraft(line.id, 22_001)],
            reason="過大",
            issue_date=date(2026, 5, 10),
        )


@pytest.mark.parametrize("mode", list(RoundingMode))
def test_crediting_everything_returns_exactly_the_tax(
    session, make_shop, billing_config, mode: RoundingMode
) -> None:
    config = BillingConfig(
        issuer_name=billing_config.issuer_name,
        issuer_registration_number=billing_config.issuer_registration_number,
        rounding=mode,
        bank_account=billing_config.bank_account,
    )
    shop = make_shop()
    invoice = issue_invoice(
        session,
        config,
        shop_id=shop.id,
        lines=[LineDraft("広告", 11)],
        issue_date=date(2026, 5, 1),
    )
    line_id = invoice.lines[0].id
    notes = [
        issue_credit_note(
            session,
            config,
            original_invoice_id=invoice.id,
            credits=[CreditDraft(line_id, 1)],
            reason="一部返金",
            issue_date=date(2026, 5, 2),
        )
        for _ in range(11)
    ]
    assert sum(n.tax for n in notes) == invoice.tax
    assert sum(n.taxable for n in notes) == invoice.taxable
    assert ledger.balance(session, ledger.TAX_PAYABLE) == 0
