"""`billing check`: prove the ledger balances and agrees with invoices, payments and refunds.

Each check is independent and reports what it compared, so a failure says where to look.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from billing import ledger
from billing.models import (
    DocumentKind,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from billing.payments import LIVE_REFUND, STRIPE_METHODS
from billing.tax import RoundingMode, tax_included_in


@dataclass
class CheckResult:
    name: str
    checked: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class CheckReport:
    results: list[CheckResult]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def lines(self) -> list[str]:
        out = []
        for r in self.results:
            out.append(f"{'OK  ' if r.ok else 'FAIL'} {r.name}: {r.checked} checked")
            out += [f"     - {p}" for p in r.problems[:20]]
            if len(r.problems) > 20:
                out.append(f"     … and {len(r.problems) - 20} more")
        return out


def _transactions_balance(session: Session) -> CheckResult:
    rows = session.execute(
        select(LedgerTransaction.id, func.coalesce(func.sum(LedgerEntry.amount), 0), func.count())
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id, isouter=True)
        .group_by(LedgerTransaction.id)
    ).all()
    result = CheckResult("every transaction's legs sum to zero", len(rows))
    for tid, total, legs in rows:
        if total != 0 or legs < 2:
            result.problems.append(f"transaction {tid}: {legs} legs summing to {total}")
    grand = session.execute(select(func.coalesce(func.sum(LedgerEntry.amount), 0))).scalar_one()
    if grand != 0:
        result.problems.append(f"the whole ledger sums to {grand}, not zero")
    return result


def _invoices(session: Session) -> CheckResult:
    invoices = session.execute(select(Invoice)).scalars().all()
    result = CheckResult("invoice lines, tax per rate and totals agree", len(invoices))
    for inv in invoices:
        lines_total = sum(line.amount for line in inv.lines)
        if lines_total != inv.total or sum(t.total for t in inv.tax_totals) != inv.total:
            result.problems.append(f"{inv.number}: lines {lines_total} ≠ total {inv.total}")
        if sum(t.tax for t in inv.tax_totals) != inv.tax:
            result.problems.append(f"{inv.number}: tax per rate does not add up to {inv.tax}")
        if sum(line.taxable for line in inv.lines) != inv.taxable:
            result.problems.append(f"{inv.number}: line taxable amounts ≠ {inv.taxable}")
        if inv.kind is DocumentKind.INVOICE:
            for t in inv.tax_totals:
                expected = tax_included_in(t.total, t.rate_percent, RoundingMode(inv.rounding_mode))
                if expected != t.tax:
                    result.problems.append(
                        f"{inv.number}: tax at {t.rate_percent}% is {t.tax}, expected {expected}"
                    )
    return result


def _numbering(session: Session) -> CheckResult:
    rows = session.execute(
        select(
            Invoice.series, Invoice.fiscal_year, func.count(), func.max(Invoice.sequence)
        ).group_by(Invoice.series, Invoice.fiscal_year)
    ).all()
    counters = {
        (c.series, c.fiscal_year): c.next_number
        for c in session.execute(select(InvoiceCounter)).scalars()
    }
    result = CheckResult("invoice numbers are gapless per series and fiscal year", len(rows))
    for series, year, count, highest in rows:
        if count != highest or counters.get((series, year)) != highest + 1:
            result.problems.append(
                f"{series} FY{year}: {count} documents, highest {highest}, "
                f"counter {counters.get((series, year))}"
            )
    return result


def _account_totals(session: Session) -> dict[str, int]:
    return ledger.balances(session)


def _receivables(session: Session) -> CheckResult:
    expected: dict[int, int] = defaultdict(int)
    for shop_id, kind, total in session.execute(
        select(Invoice.shop_id, Invoice.kind, func.sum(Invoice.total)).group_by(
            Invoice.shop_id, Invoice.kind
        )
    ):
        expected[shop_id] += total if kind is DocumentKind.INVOICE else -total
    for shop_id, total in session.execute(
        select(Payment.shop_id, func.sum(Payment.amount))
        .where(Payment.status == PaymentStatus.SUCCEEDED)
        .group_by(Payment.shop_id)
    ):
        expected[shop_id] -= total
    for shop_id, total in session.execute(
        select(Payment.shop_id, func.sum(Refund.amount))
        .join(Payment, Payment.id == Refund.payment_id)
        .where(Refund.status.in_(_POSTED_REFUND))
        .group_by(Payment.shop_id)
    ):
        expected[shop_id] += total
    actual = {
        int(shop): int(total)
        for shop, total in session.execute(
            select(LedgerAccount.shop_id, func.coalesce(func.sum(LedgerEntry.amount), 0))
            .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id, isouter=True)
            .where(LedgerAccount.shop_id.is_not(None))
            .group_by(LedgerAccount.shop_id)
        )
    }
    shops = set(expected) | set(actual)
    result = CheckResult(
        "receivable per shop = invoices − credits − payments + refunds", len(shops)
    )
    for shop in sorted(shops):
        if expected.get(shop, 0) != actual.get(shop, 0):
            result.problems.append(
                f"shop {shop}: ledger {actual.get(shop, 0)}, documents {expected.get(shop, 0)}"
            )
    return result


# Stripe refunds are posted when Stripe confirms them; bank refunds when they are recorded.
_POSTED_REFUND = (RefundStatus.PENDING_PAYOUT, RefundStatus.SUCCEEDED)


def _sum(session: Session, query: Select[tuple[Any]]) -> int:
    return int(session.execute(query).scalar_one() or 0)


def _control_accounts(session: Session) -> CheckResult:
    balances = _account_totals(session)
    inv_tax = _sum(
        session, select(func.sum(Invoice.tax)).where(Invoice.kind == DocumentKind.INVOICE)
    )
    cn_tax = _sum(
        session, select(func.sum(Invoice.tax)).where(Invoice.kind == DocumentKind.CREDIT_NOTE)
    )
    inv_taxable = _sum(
        session, select(func.sum(Invoice.taxable)).where(Invoice.kind == DocumentKind.INVOICE)
    )
    cn_taxable = _sum(
        session, select(func.sum(Invoice.taxable)).where(Invoice.kind == DocumentKind.CREDIT_NOTE)
    )
    succeeded = select(func.sum(Payment.amount)).where(Payment.status == PaymentStatus.SUCCEEDED)
    bank_in = _sum(session, succeeded.where(Payment.method.not_in(STRIPE_METHODS)))
    stripe_in = _sum(session, succeeded.where(Payment.method.in_(STRIPE_METHODS)))
    fees = _sum(
        session,
        select(func.sum(Payment.fee)).where(Payment.status == PaymentStatus.SUCCEEDED),
    )
    refunds = select(func.sum(Refund.amount)).join(Payment, Payment.id == Refund.payment_id)
    stripe_refunded = _sum(
        session,
        refunds.where(Refund.status == RefundStatus.SUCCEEDED, Payment.method.in_(STRIPE_METHODS)),
    )
    bank_refunds = refunds.where(Payment.method.not_in(STRIPE_METHODS))
    awaiting_payout = _sum(
        session, bank_refunds.where(Refund.status == RefundStatus.PENDING_PAYOUT)
    )
    paid_out = _sum(session, bank_refunds.where(Refund.status == RefundStatus.SUCCEEDED))
    comparisons = [
        ("consumption tax payable", -balances.get(ledger.TAX_PAYABLE, 0), inv_tax - cn_tax),
        (
            "deferred + recognised revenue",
            -balances.get(ledger.DEFERRED_REVENUE, 0) - balances.get(ledger.AD_REVENUE, 0),
            inv_taxable - cn_taxable,
        ),
        ("bank", balances.get(ledger.BANK, 0), bank_in - paid_out),
        (
            "Stripe clearing",
            balances.get(ledger.STRIPE_CLEARING, 0),
            stripe_in - fees - stripe_refunded,
        ),
        ("Stripe fees", balances.get(ledger.STRIPE_FEES, 0), fees),
        ("refunds awaiting payout", -balances.get(ledger.REFUNDS_PAYABLE, 0), awaiting_payout),
    ]
    result = CheckResult("control accounts agree with documents", len(comparisons))
    for name, in_ledger, from_documents in comparisons:
        if in_ledger != from_documents:
            result.problems.append(f"{name}: ledger {in_ledger}, documents {from_documents}")
    return result


def _caps(session: Session) -> CheckResult:
    payments = session.execute(select(Payment)).scalars().all()
    result = CheckResult("no refund exceeds its payment; no invoice over-credited", len(payments))
    refunded: dict[int, int] = defaultdict(int)
    for payment_id, total in session.execute(
        select(Refund.payment_id, func.sum(Refund.amount))
        .where(Refund.status.in_(LIVE_REFUND))
        .group_by(Refund.payment_id)
    ):
        refunded[payment_id] = int(total)
    for payment in payments:
        if refunded[payment.id] > (
            payment.amount if payment.status is PaymentStatus.SUCCEEDED else 0
        ):
            result.problems.append(
                f"payment {payment.id}: refunded {refunded[payment.id]} of {payment.amount}"
            )
    over = session.execute(
        select(InvoiceLine.credited_line_id, func.sum(InvoiceLine.amount))
        .where(InvoiceLine.credited_line_id.is_not(None))
        .group_by(InvoiceLine.credited_line_id)
    ).all()
    originals = {
        line.id: line.amount
        for line in session.execute(
            select(InvoiceLine).where(InvoiceLine.id.in_([lid for lid, _ in over]))
        ).scalars()
    }
    for line_id, credited in over:
        if credited > originals.get(line_id, 0):
            result.problems.append(
                f"invoice line {line_id}: credited {credited} of {originals.get(line_id)}"
            )
    return result


def check_ledger(session: Session) -> CheckReport:
    """Run every check; the report says what was compared and every discrepancy found."""
    return CheckReport(
        [
            _transactions_balance(session),
            _invoices(session),
            _numbering(session),
            _receivables(session),
            _control_accounts(session),
            _caps(session),
        ]
    )
