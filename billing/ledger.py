"""Posting to the double-entry ledger. Amounts are signed yen: debit > 0, credit < 0.

Every transaction's legs sum to zero (checked here, and on PostgreSQL by a deferred constraint
trigger at commit). Rows are append-only; a mistake is undone by `reverse`, which posts the
same legs with opposite signs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing.errors import UnbalancedTransaction
from billing.models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction

DEFERRED_REVENUE = "deferred_revenue"
AD_REVENUE = "ad_revenue"
TAX_PAYABLE = "tax_payable"
BANK = "bank"
STRIPE_CLEARING = "stripe_clearing"
STRIPE_FEES = "stripe_fees"
REFUNDS_PAYABLE = "refunds_payable"
RECEIVABLE_PREFIX = "receivable:"

FIXED_ACCOUNTS: dict[str, tuple[str, AccountKind]] = {
    DEFERRED_REVENUE: ("前受収益(広告)", AccountKind.LIABILITY),
    AD_REVENUE: ("広告収入", AccountKind.REVENUE),
    TAX_PAYABLE: ("仮受消費税", AccountKind.LIABILITY),
    BANK: ("普通預金", AccountKind.ASSET),
    STRIPE_CLEARING: ("Stripe 決済仮勘定", AccountKind.ASSET),
    STRIPE_FEES: ("支払手数料(Stripe)", AccountKind.EXPENSE),
    REFUNDS_PAYABLE: ("返金未払金", AccountKind.LIABILITY),
}


def receivable(shop_id: int) -> str:
    return f"{RECEIVABLE_PREFIX}{shop_id}"


@dataclass(frozen=True)
class Leg:
    account: str
    amount: int
    booking_id: int | None = None
    invoice_line_id: int | None = None
    revenue_month: date | None = None


def check_balanced(legs: Sequence[Leg]) -> None:
    """Raise UnbalancedTransaction unless there are two or more non-zero legs summing to zero."""
    if len(legs) < 2:
        raise UnbalancedTransaction("a transaction needs at least two legs")
    for leg in legs:
        if isinstance(leg.amount, bool) or not isinstance(leg.amount, int) or leg.amount == 0:
            raise UnbalancedTransaction(
                "leg on {account} has invalid amount {amount!r}",
                account=leg.account,
                amount=leg.amount,
            )
    total = sum(leg.amount for leg in legs)
    if total != 0:
        raise UnbalancedTransaction("legs sum to {total}, not zero", total=total)


def account_id(session: Session, code: str) -> int:
    """The id of account `code`, created on first use (receivables per shop, fixed accounts)."""
    found = session.execute(select(LedgerAccount.id).where(LedgerAccount.code == code)).scalar()
    if found is not None:
        return int(found)
    if code.startswith(RECEIVABLE_PREFIX):
        shop_id = int(code.removeprefix(RECEIVABLE_PREFIX))
        name, kind, shop = f"売掛金(店舗 {shop_id})", AccountKind.ASSET, shop_id
    elif code in FIXED_ACCOUNTS:
        (name, kind), shop = FIXED_ACCOUNTS[code], None
    else:
        raise ValueError(f"unknown ledger account {code!r}")
    try:
        with session.begin_nested():
            account = LedgerAccount(code=code, name=name, kind=kind, shop_id=shop)
            session.add(account)
            session.flush()
            return account.id
    except IntegrityError:  # created concurrently by another transaction
        return int(
            session.execute(select(LedgerAccount.id).where(LedgerAccount.code == code)).scalar_one()
        )


def account_ids(session: Session, codes: set[str]) -> dict[str, int]:
    """Ids of several accounts in one query, creating the missing ones."""
    found = dict(
        session.execute(
            select(LedgerAccount.code, LedgerAccount.id).where(LedgerAccount.code.in_(codes))
        )
        .tuples()
        .all()
    )
    for code in codes - found.keys():
        found[code] = account_id(session, code)
    return found


def find_by_key(session: Session, key: str) -> LedgerTransaction | None:
    return session.execute(
        select(LedgerTransaction).where(LedgerTransaction.key == key)
    ).scalar_one_or_none()


def post(
    session: Session,
    *,
    kind: str,
    description: str,
    posted_on: date,
    legs: Sequence[Leg],
    key: str | None = None,
    invoice_id: int | None = None,
    payment_id: int | None = None,
    refund_id: int | None = None,
    booking_id: int | None = None,
    reverses_id: int | None = None,
) -> LedgerTransaction:
    """Append one balanced transaction. With `key`, a second post of the same key is a no-op."""
    check_balanced(legs)
    if key is not None:
        existing = find_by_key(session, key)
        if existing is not None:
            return existing
    transaction = LedgerTransaction(
        kind=kind,
        description=description[:200],
        posted_on=posted_on,
        key=key,
        invoice_id=invoice_id,
        payment_id=payment_id,
        refund_id=refund_id,
        booking_id=booking_id,
        reverses_id=reverses_id,
    )
    session.add(transaction)
    session.flush()
    ids = account_ids(session, {leg.account for leg in legs})
    session.add_all(
        LedgerEntry(
            transaction_id=transaction.id,
            account_id=ids[leg.account],
            amount=leg.amount,
            booking_id=leg.booking_id,
            invoice_line_id=leg.invoice_line_id,
            revenue_month=leg.revenue_month,
        )
        for leg in legs
    )
    session.flush()
    return transaction


def reverse(
    session: Session, transaction_id: int, *, reason: str, posted_on: date
) -> LedgerTransaction:
    """Post the mirror image of a transaction; each transaction can be reversed once."""
    original = session.get(LedgerTransaction, transaction_id)
    if original is None:
        raise ValueError(f"no ledger transaction {transaction_id}")
    codes = dict(session.execute(select(LedgerAccount.id, LedgerAccount.code)).tuples().all())
    legs = [
        Leg(
            codes[entry.account_id],
            -entry.amount,
            booking_id=entry.booking_id,
            invoice_line_id=entry.invoice_line_id,
            revenue_month=entry.revenue_month,
        )
        for entry in original.entries
    ]
    return post(
        session,
        kind=f"reversal:{original.kind}"[:32],
        description=f"取消: {original.description} ({reason})",
        posted_on=posted_on,
        legs=legs,
        key=f"reverse:{original.id}",
        invoice_id=original.invoice_id,
        payment_id=original.payment_id,
        refund_id=original.refund_id,
        booking_id=original.booking_id,
        reverses_id=original.id,
    )


def balance(session: Session, code: str) -> int:
    """Signed balance of one account (debit positive)."""
    total = session.execute(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerAccount.code == code)
    ).scalar_one()
    return int(total)


def balances(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(LedgerAccount.code, func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id, isouter=True)
        .group_by(LedgerAccount.code)
    ).all()
    return {code: int(total) for code, total in rows}
