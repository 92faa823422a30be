"""Analytics tables: citizen services, their running costs with full history, allocation rules,
and the audience reach snapshots that shop reports use for k-anonymity."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigIntId, JSONDocument, UTCDateTime, utcnow
from marketplace.delivery.models import DeliveryRollup
from marketplace.models._columns import Timestamps

# month == 0 records a whole fiscal year's cost; 1..12 a calendar month inside that fiscal year.
ANNUAL = 0


class CitizenService(Timestamps, Base):
    """A free service for residents whose running cost the city pays (除雪車ナビ, …)."""

    __tablename__ = "citizen_services"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)


class ServiceCost(Timestamps, Base):
    """The current running cost of one service for one fiscal year or one month of it."""

    __tablename__ = "service_costs"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("citizen_services.id", ondelete="RESTRICT"), nullable=False
    )
    fiscal_year: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    month: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=ANNUAL)
    amount_yen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    updated_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )

    __table_args__ = (
        UniqueConstraint("service_id", "fiscal_year", "month"),
        CheckConstraint("amount_yen >= 0", name="amount_not_negative"),
        CheckConstraint("month BETWEEN 0 AND 12", name="month_range"),
        CheckConstraint("fiscal_year BETWEEN 2000 AND 2100", name="fiscal_year_range"),
    )


class ServiceCostChange(Base):
    """Append-only history: every create or edit of a cost, with who and when."""

    __tablename__ = "service_cost_changes"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    cost_id: Mapped[int] = mapped_column(
        ForeignKey("service_costs.id", ondelete="RESTRICT"), nullable=False
    )
    old_amount_yen: Mapped[int | None] = mapped_column(BigInteger)
    new_amount_yen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Nullable so that seeds and CLI imports can record themselves as the system.
    changed_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    changed_by_name: Mapped[str] = mapped_column(String(80), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    note: Mapped[str] = mapped_column(String(200), default="", nullable=False)

    __table_args__ = (Index("ix_service_cost_changes_cost_id", "cost_id"),)


class AllocationRule(Base):
    """How ad revenue is shared among services; append-only, the newest row is in force."""

    __tablename__ = "allocation_rules"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    # Service codes, highest priority first (used by the priority method, kept for both).
    priority_order: Mapped[list[str]] = mapped_column(JSONDocument, default=list, nullable=False)
    changed_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    changed_by_name: Mapped[str] = mapped_column(String(80), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    __table_args__ = (
        CheckConstraint("method IN ('proportional', 'priority')", name="method_known"),
    )


class AudienceReach(Base):
    """Distinct residents reached by one booking in one audience cell (e.g. age band 30-39).

    Counted from raw impression events before retention deletes them, so that k-anonymity
    decisions stay possible for old bookings. Holds counts only, never a resident id.
    """

    __tablename__ = "audience_reach"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False
    )
    dimension: Mapped[str] = mapped_column(String(16), nullable=False)
    value: Mapped[str] = mapped_column(String(32), nullable=False)
    residents: Mapped[int] = mapped_column(Integer, nullable=False)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    __table_args__ = (
        UniqueConstraint("booking_id", "dimension", "value"),
        CheckConstraint("residents >= 0", name="residents_not_negative"),
        CheckConstraint(
            "dimension IN ('total', 'age_band', 'household', 'district')", name="dimension_known"
        ),
    )


# Shop reports compare a booking with its whole placement over the booking's days; without
# this index that is a range scan over every placement's rollups.
# On PostgreSQL it covers the summed columns, so the scan is index-only.
PLACEMENT_HOUR_INDEX = Index(
    "ix_delivery_rollups_placement_hour",
    DeliveryRollup.placement_id,
    DeliveryRollup.hour_start,
    postgresql_include=["age_band", "household", "district", "impressions", "clicks"],
)
# The same for one booking's own figures (delivery's booking index does not cover them).
BOOKING_COVER_INDEX = Index(
    "ix_delivery_rollups_booking_cover",
    DeliveryRollup.booking_id,
    postgresql_include=["hour_start", "age_band", "household", "district", "impressions", "clicks"],
)
