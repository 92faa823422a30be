"""Imported bank statements and the transfers on them, matched or waiting for review."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigIntId, UTCDateTime, utcnow
from marketplace.models._columns import Timestamps, enum_column


class BankTransactionStatus(enum.StrEnum):
    MATCHED = "matched"  # matched automatically and recorded as a payment
    REVIEW = "review"  # waiting for finance
    RESOLVED = "resolved"  # finance assigned it to an invoice
    DISMISSED = "dismissed"  # finance decided it is not ours to record (noted why)


class BankStatementImport(Base):
    __tablename__ = "bank_statement_imports"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    file_sha256: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    row_count: Mapped[int] = mapped_column(Integer, nullable=False)
    imported_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class BankTransaction(Timestamps, Base):
    __tablename__ = "bank_transactions"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("bank_statement_imports.id"), nullable=False)
    row_number: Mapped[int] = mapped_column(Integer, nullable=False)
    value_date: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[int] = mapped_column(Integer, nullable=False)
    payer_name: Mapped[str] = mapped_column(String(120), nullable=False)
    payer_name_normalised: Mapped[str] = mapped_column(String(120), nullable=False)
    reference: Mapped[str] = mapped_column(String(64), default="", nullable=False)
    status: Mapped[BankTransactionStatus] = mapped_column(
        enum_column(BankTransactionStatus, "bank_transaction_status"), nullable=False
    )
    review_reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))

    __table_args__ = (
        UniqueConstraint("import_id", "row_number"),
        Index("ix_bank_transactions_status", "status"),
    )
