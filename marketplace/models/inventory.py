"""Placements (ad slots) with their rate card, and the per-week inventory that cannot oversell.

Capacity is enforced by the database: each placement×week row carries `sold_shares` and
`held_shares` with a CHECK that their sum never exceeds `total_shares`. Holds are also kept as
rows with an expiry; whoever locks a week's row next purges its expired holds first, so an
expired hold frees its shares without any background job.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigIntId, JSONDocument, UTCDateTime
from marketplace.lifecycle import PlacementKind
from marketplace.models._columns import Timestamps, enum_column


class Placement(Timestamps, Base):
    __tablename__ = "placements"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    kind: Mapped[PlacementKind] = mapped_column(
        enum_column(PlacementKind, "placement_kind"), nullable=False
    )
    # For in-feed cards: the card appears after this many articles.
    feed_position: Mapped[int | None] = mapped_column(Integer)
    # Creative rules.
    image_width: Mapped[int] = mapped_column(Integer, nullable=False)
    image_height: Mapped[int] = mapped_column(Integer, nullable=False)
    max_image_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    headline_max_chars: Mapped[int] = mapped_column(Integer, nullable=False)
    body_max_chars: Mapped[int] = mapped_column(Integer, nullable=False)
    # Rate card: rotation shares per week, prices per share per week, tax included (yen).
    shares_per_week: Mapped[int] = mapped_column(Integer, nullable=False)
    price_per_share_week_yen: Mapped[int] = mapped_column(Integer, nullable=False)
    out_of_city_price_per_share_week_yen: Mapped[int] = mapped_column(Integer, nullable=False)
    # [{"min_weeks": 13, "percent": 20}, ...]: the highest threshold reached applies.
    term_discounts: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONDocument, default=list, nullable=False
    )
    # {"age_band": 10, "district": 15, ...}: percent added per targeted dimension.
    targeting_surcharges: Mapped[dict[str, Any]] = mapped_column(
        JSONDocument, default=dict, nullable=False
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    __table_args__ = (
        CheckConstraint("shares_per_week >= 1", name="shares_positive"),
        CheckConstraint("price_per_share_week_yen >= 0", name="price_nonnegative"),
        CheckConstraint("out_of_city_price_per_share_week_yen >= 0", name="out_price_nonnegative"),
        CheckConstraint("image_width > 0 AND image_height > 0", name="image_size_positive"),
        CheckConstraint("max_image_bytes > 0", name="max_bytes_positive"),
        CheckConstraint(
            "headline_max_chars > 0 AND body_max_chars >= 0", name="text_limits_positive"
        ),
    )


class InventoryWeek(Base):
    __tablename__ = "inventory_weeks"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    placement_id: Mapped[int] = mapped_column(
        ForeignKey("placements.id", ondelete="CASCADE"), nullable=False
    )
    week_start: Mapped[date] = mapped_column(Date, nullable=False)
    total_shares: Mapped[int] = mapped_column(Integer, nullable=False)
    sold_shares: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    held_shares: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    __table_args__ = (
        UniqueConstraint("placement_id", "week_start"),
        CheckConstraint("total_shares >= 0", name="total_nonnegative"),
        CheckConstraint("sold_shares >= 0 AND held_shares >= 0", name="counts_nonnegative"),
        CheckConstraint("sold_shares + held_shares <= total_shares", name="no_oversell"),
    )


class InventoryHold(Base):
    """Shares of one week reserved by one held booking until `expires_at`."""

    __tablename__ = "inventory_holds"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False
    )
    placement_id: Mapped[int] = mapped_column(BigIntId, nullable=False)
    week_start: Mapped[date] = mapped_column(Date, nullable=False)
    shares: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        UniqueConstraint("booking_id", "week_start"),
        ForeignKeyConstraint(
            ["placement_id", "week_start"],
            ["inventory_weeks.placement_id", "inventory_weeks.week_start"],
            ondelete="CASCADE",
        ),
        CheckConstraint("shares >= 1", name="shares_positive"),
        Index("ix_inventory_holds_week", "placement_id", "week_start"),
    )
