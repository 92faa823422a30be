"""The double-entry ledger: accounts, transactions and their legs (debit > 0, credit < 0)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, BigIntId, UTCDateTime, utcnow
from marketplace.models._columns import enum_column


class AccountKind(enum.StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    REVENUE = "revenue"
    EXPENSE = "expense"


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    kind: Mapped[AccountKind] = mapped_column(
        enum_column(AccountKind, "account_kind"), nullable=False
    )
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id"))


class LedgerTransaction(Base):
    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    description: Mapped[str] = mapped_column(String(200), nullable=False)
    posted_on: Mapped[date] = mapped_column(Date, nullable=False)  # Tokyo date
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    # Makes postings idempotent: a rerun of the same job finds the same key and stops.
    key: Mapped[str | None] = mapped_column(String(160), unique=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"))
    booking_id: Mapped[int | None] = mapped_column(Integer)
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_transactions.id"), unique=True
    )

    entries: Mapped[list[LedgerEntry]] = relationship(
        back_populates="transaction", lazy="selectin", order_by="LedgerEntry.id"
    )

    __table_args__ = (
        Index("ix_ledger_transactions_invoice_id", "invoice_id"),
        Index("ix_ledger_transactions_payment_id", "payment_id"),
        Index("ix_ledger_transactions_posted_on", "posted_on"),
    )


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_transactions.id"), nullable=False
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    booking_id: Mapped[int | None] = mapped_column(Integer)
    invoice_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_lines.id"))
    # First day of the Tokyo month that revenue recognition assigned this leg to.
    revenue_month: Mapped[date | None] = mapped_column(Date)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")

    __table_args__ = (
        CheckConstraint("amount <> 0", name="non_zero"),
        Index("ix_ledger_entries_transaction_id", "transaction_id"),
        Index("ix_ledger_entries_account_id", "account_id"),
        Index("ix_ledger_entries_invoice_line_id", "invoice_line_id"),
        Index("ix_ledger_entries_revenue_month", "revenue_month"),
    )
