"""Payments against invoices (or against a booking hold, for cards) and their refunds."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from billing.models.invoices import PaymentMethod
from marketplace.db import Base, BigIntId, UTCDateTime
from marketplace.models._columns import Timestamps, enum_column


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"  # created, waiting for the customer (konbini, transfer, card form)
    REQUIRES_ACTION = "requires_action"  # 3-D Secure or similar
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class RefundStatus(enum.StrEnum):
    PENDING = "pending"  # sent to Stripe, waiting for it to settle
    PENDING_PAYOUT = "pending_payout"  # bank transfer: finance still has to pay it out
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Payment(Timestamps, Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), nullable=False)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    method: Mapped[PaymentMethod] = mapped_column(
        enum_column(PaymentMethod, "payment_method"), nullable=False
    )
    amount: Mapped[int] = mapped_column(Integer, nullable=False)
    fee: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    status: Mapped[PaymentStatus] = mapped_column(
        enum_column(PaymentStatus, "payment_status"), nullable=False
    )
    # Stripe PaymentIntent id, or "bank:<transaction id>" for a matched transfer.
    provider_reference: Mapped[str | None] = mapped_column(String(120), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    client_secret: Mapped[str | None] = mapped_column(String(200))
    next_action: Mapped[str | None] = mapped_column(Text)  # e.g. konbini voucher URL
    failure_message: Mapped[str | None] = mapped_column(Text)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("amount > 0 AND fee >= 0", name="positive_amount"),
        Index("ix_payments_invoice_id", "invoice_id"),
        Index("ix_payments_shop_id", "shop_id"),
        Index("ix_payments_booking_id", "booking_id"),
    )


class Refund(Timestamps, Base):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), nullable=False)
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    amount: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[RefundStatus] = mapped_column(
        enum_column(RefundStatus, "refund_status"), nullable=False
    )
    provider_reference: Mapped[str | None] = mapped_column(String(120), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("amount > 0", name="positive_amount"),
        Index("ix_refunds_payment_id", "payment_id"),
    )
