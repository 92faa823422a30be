"""Outside events billing has acted on, each once: Stripe webhooks and marketplace outbox rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigIntId, UTCDateTime, utcnow


class StripeEvent(Base):
    """Each Stripe event id once: stored in the same transaction as the event's effect."""

    __tablename__ = "stripe_events"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    type: Mapped[str] = mapped_column(String(80), nullable=False)
    object_id: Mapped[str | None] = mapped_column(String(120))
    outcome: Mapped[str] = mapped_column(String(32), nullable=False)
    detail: Mapped[str] = mapped_column(Text, default="", nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class ProcessedMarketplaceEvent(Base):
    """A marketplace outbox event (e.g. booking_cancelled) that billing has handled."""

    __tablename__ = "billing_processed_marketplace_events"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("marketplace_events.id"), primary_key=True, autoincrement=False
    )
    outcome: Mapped[str] = mapped_column(Text, default="", nullable=False)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
