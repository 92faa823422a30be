"""Qualified invoices and credit notes. Rows are written once, at issue, and never changed."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, BigIntId, UTCDateTime, utcnow
from marketplace.models._columns import enum_column


class DocumentKind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class PaymentMethod(enum.StrEnum):
    BANK_TRANSFER = "bank_transfer"
    CARD = "card"
    KONBINI = "konbini"
    CUSTOMER_BALANCE = "customer_balance"


class InvoiceCounter(Base):
    """The next number per series and fiscal year; locked while a number is taken."""

    __tablename__ = "billing_invoice_counters"

    series: Mapped[str] = mapped_column(String(8), primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    next_number: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (CheckConstraint("next_number >= 1", name="positive"),)


class Invoice(Base):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    kind: Mapped[DocumentKind] = mapped_column(
        enum_column(DocumentKind, "document_kind"), nullable=False
    )
    series: Mapped[str] = mapped_column(String(8), nullable=False)
    fiscal_year: Mapped[int] = mapped_column(Integer, nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    number: Mapped[str] = mapped_column(String(24), unique=True, nullable=False)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), nullable=False)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    original_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    issue_date: Mapped[date] = mapped_column(Date, nullable=False)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    issuer_name: Mapped[str] = mapped_column(String(120), nullable=False)
    issuer_registration_number: Mapped[str] = mapped_column(String(14), nullable=False)
    recipient_name: Mapped[str] = mapped_column(String(120), nullable=False)
    recipient_registration_number: Mapped[str | None] = mapped_column(String(14))
    rounding_mode: Mapped[str] = mapped_column(String(8), nullable=False)
    total: Mapped[int] = mapped_column(Integer, nullable=False)
    taxable: Mapped[int] = mapped_column(Integer, nullable=False)
    tax: Mapped[int] = mapped_column(Integer, nullable=False)
    # Printed on the invoice; shops put it in the transfer's name field so it can be matched.
    payment_reference: Mapped[str | None] = mapped_column(String(16), unique=True)
    payment_method: Mapped[PaymentMethod] = mapped_column(
        enum_column(PaymentMethod, "payment_method"), nullable=False
    )
    reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.position", lazy="selectin"
    )
    tax_totals: Mapped[list[InvoiceTaxTotal]] = relationship(
        order_by="InvoiceTaxTotal.rate_percent.desc()", lazy="selectin"
    )

    __table_args__ = (
        UniqueConstraint("series", "fiscal_year", "sequence"),
        CheckConstraint("total = taxable + tax", name="total_is_taxable_plus_tax"),
        CheckConstraint("total >= 0 AND tax >= 0 AND taxable >= 0", name="non_negative"),
        CheckConstraint(
            "(kind = 'credit_note') = (original_invoice_id IS NOT NULL)", name="credit_has_original"
        ),
        Index("ix_invoices_shop_id", "shop_id"),
        Index("ix_invoices_booking_id", "booking_id"),
        Index("ix_invoices_original_invoice_id", "original_invoice_id"),
    )

    @property
    def is_credit_note(self) -> bool:
        return self.kind is DocumentKind.CREDIT_NOTE


class InvoiceTaxTotal(Base):
    """Total, taxable amount and tax for one rate on one invoice (tax rounded once here)."""

    __tablename__ = "invoice_tax_totals"

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), primary_key=True)
    rate_percent: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    total: Mapped[int] = mapped_column(Integer, nullable=False)
    taxable: Mapped[int] = mapped_column(Integer, nullable=False)
    tax: Mapped[int] = mapped_column(Integer, nullable=False)


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    description: Mapped[str] = mapped_column(String(200), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    amount: Mapped[int] = mapped_column(Integer, nullable=False)  # tax included
    tax_rate_percent: Mapped[int] = mapped_column(Integer, nullable=False)
    # The line's share of its rate's taxable amount (largest remainder), for revenue
    # recognition only; the invoice shows tax per rate, never per line.
    taxable: Mapped[int] = mapped_column(Integer, nullable=False)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    service_start: Mapped[date | None] = mapped_column(Date)
    service_end: Mapped[date | None] = mapped_column(Date)
    credited_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_lines.id"))

    invoice: Mapped[Invoice] = relationship(back_populates="lines")

    __table_args__ = (
        UniqueConstraint("invoice_id", "position"),
        CheckConstraint("amount >= 0 AND taxable >= 0 AND taxable <= amount", name="amounts"),
        CheckConstraint("quantity > 0", name="positive_quantity"),
        CheckConstraint(
            "service_start IS NULL OR service_end >= service_start", name="service_order"
        ),
        Index("ix_invoice_lines_booking_id", "booking_id"),
        Index("ix_invoice_lines_credited_line_id", "credited_line_id"),
    )
