"""Bookings of placement shares by shops, and the outbox of booking events for billing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigIntId, JSONDocument, UTCDateTime, utcnow
from marketplace.lifecycle import BookingStatus, MarketplaceEventKind
from marketplace.models._columns import Timestamps, enum_column


class Booking(Timestamps, Base):
    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(
        ForeignKey("shops.id", ondelete="RESTRICT"), nullable=False
    )
    placement_id: Mapped[int] = mapped_column(
        ForeignKey("placements.id", ondelete="RESTRICT"), nullable=False
    )
    creative_id: Mapped[int | None] = mapped_column(ForeignKey("creatives.id", ondelete="SET NULL"))
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("shop_users.id", ondelete="SET NULL")
    )
    shares: Mapped[int] = mapped_column(Integer, nullable=False)
    # Monday (Asia/Tokyo) of the first booked week, and of the last one (inclusive).
    first_week: Mapped[date] = mapped_column(Date, nullable=False)
    last_week: Mapped[date] = mapped_column(Date, nullable=False)
    weeks: Mapped[int] = mapped_column(Integer, nullable=False)
    # Only the closed vocabularies: {"age_bands": [...], "households": [...], ...}.
    targeting: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict, nullable=False)
    status: Mapped[BookingStatus] = mapped_column(
        enum_column(BookingStatus, "booking_status"), default=BookingStatus.DRAFT, nullable=False
    )
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Price breakdown, integer yen, tax included; tax_yen is the consumption tax inside total.
    in_city_rate: Mapped[bool] = mapped_column(Boolean, nullable=False)
    unit_price_yen: Mapped[int] = mapped_column(Integer, nullable=False)
    list_price_yen: Mapped[int] = mapped_column(Integer, nullable=False)
    discount_yen: Mapped[int] = mapped_column(Integer, nullable=False)
    surcharge_yen: Mapped[int] = mapped_column(Integer, nullable=False)
    total_yen: Mapped[int] = mapped_column(Integer, nullable=False)
    tax_yen: Mapped[int] = mapped_column(Integer, nullable=False)
    idempotency_key: Mapped[str] = mapped_column(String(64), nullable=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_reason: Mapped[str] = mapped_column(Text, default="", nullable=False)

    __table_args__ = (
        UniqueConstraint("shop_id", "idempotency_key"),
        CheckConstraint("shares >= 1", name="shares_positive"),
        CheckConstraint("weeks >= 1", name="weeks_positive"),
        CheckConstraint("last_week >= first_week", name="week_order"),
        CheckConstraint(
            "list_price_yen >= 0 AND discount_yen >= 0 AND surcharge_yen >= 0 "
            "AND total_yen >= 0 AND tax_yen >= 0 AND tax_yen <= total_yen",
            name="amounts_valid",
        ),
        CheckConstraint("status <> 'held' OR hold_expires_at IS NOT NULL", name="held_has_expiry"),
        Index("ix_bookings_shop_id", "shop_id"),
        Index("ix_bookings_placement_weeks", "placement_id", "first_week", "last_week"),
        Index("ix_bookings_status", "status"),
    )


class MarketplaceEvent(Base):
    """Append-only outbox of booking events; billing refunds against `booking_cancelled`."""

    __tablename__ = "marketplace_events"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    kind: Mapped[MarketplaceEventKind] = mapped_column(
        enum_column(MarketplaceEventKind, "marketplace_event_kind"), nullable=False
    )
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="RESTRICT"), nullable=False
    )
    shop_id: Mapped[int] = mapped_column(
        ForeignKey("shops.id", ondelete="RESTRICT"), nullable=False
    )
    # For cancellations: the amount (tax included) the policy says to refund.
    refund_yen: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    __table_args__ = (
        CheckConstraint("refund_yen >= 0", name="refund_nonnegative"),
        Index("ix_marketplace_events_booking_id", "booking_id"),
        Index("ix_marketplace_events_kind", "kind", "id"),
    )
