"""Delivery's tables: offers, impressions, clicks, slot opportunities and hourly rollups.

Offers, impressions and clicks are keyed by the offer's one-time id, so writing the same event
twice (a spool replay, a retried batch) never counts it twice. No foreign keys point at bookings
from the raw event tables: events are written in batches and replayed from a spool, and a raw
event must never be refused because of what happened to its booking since.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigIntId, UTCDateTime

OFFER_ID_LENGTH = 32


class AdOffer(Base):
    """One ad shown in one feed: the decision, with the audience segment it was made for."""

    __tablename__ = "ad_offers"

    id: Mapped[str] = mapped_column(String(OFFER_ID_LENGTH), primary_key=True)
    booking_id: Mapped[int] = mapped_column(BigIntId, nullable=False)
    placement_id: Mapped[int] = mapped_column(BigIntId, nullable=False)
    creative_version_id: Mapped[int] = mapped_column(BigIntId, nullable=False)
    shop_id: Mapped[int] = mapped_column(BigIntId, nullable=False)
    # A keyed hash of the resident's pseudonymous id (frequency caps), None when anonymous.
    resident_key: Mapped[str | None] = mapped_column(String(64))
    age_band: Mapped[str] = mapped_column(String(16), nullable=False)
    household: Mapped[str] = mapped_column(String(32), nullable=False)
    district: Mapped[str] = mapped_column(String(32), nullable=False)
    personalized: Mapped[bool] = mapped_column(Boolean, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    worker_id: Mapped[str] = mapped_column(String(32), nullable=False)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        Index("ix_ad_offers_booking_id", "booking_id"),
        Index("ix_ad_offers_offered_at", "offered_at"),
    )


class AdImpression(Base):
    __tablename__ = "ad_impressions"

    offer_id: Mapped[str] = mapped_column(String(OFFER_ID_LENGTH), primary_key=True)
    booking_id: Mapped[int] = mapped_column(BigIntId, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    valid: Mapped[bool] = mapped_column(Boolean, nullable=False)
    invalid_reason: Mapped[str | None] = mapped_column(String(32))
    ip_prefix: Mapped[str | None] = mapped_column(String(48))

    __table_args__ = (Index("ix_ad_impressions_booking_time", "booking_id", "occurred_at"),)


class AdClick(Base):
    __tablename__ = "ad_clicks"

    offer_id: Mapped[str] = mapped_column(String(OFFER_ID_LENGTH), primary_key=True)
    booking_id: Mapped[int] = mapped_column(BigIntId, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    valid: Mapped[bool] = mapped_column(Boolean, nullable=False)
    invalid_reason: Mapped[str | None] = mapped_column(String(32))
    ip_prefix: Mapped[str | None] = mapped_column(String(48))

    __table_args__ = (Index("ix_ad_clicks_booking_time", "booking_id", "occurred_at"),)


class SlotOpportunity(Base):
    """Ad slots offered per placement and hour by one batch of one worker (pacing's denominator).

    Keyed by the batch id, so a replayed batch is counted once.
    """

    __tablename__ = "slot_opportunities"

    batch_id: Mapped[str] = mapped_column(String(OFFER_ID_LENGTH), primary_key=True)
    placement_id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    hour_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    worker_id: Mapped[str] = mapped_column(String(32), nullable=False)
    slots: Mapped[int] = mapped_column(Integer, nullable=False)


class DeliveryRollup(Base):
    """Hourly totals per booking, placement and audience segment, with the unit price in force."""

    __tablename__ = "delivery_rollups"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    hour_start: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    booking_id: Mapped[int] = mapped_column(BigIntId, nullable=False)
    placement_id: Mapped[int] = mapped_column(BigIntId, nullable=False)
    age_band: Mapped[str] = mapped_column(String(16), nullable=False)
    household: Mapped[str] = mapped_column(String(32), nullable=False)
    district: Mapped[str] = mapped_column(String(32), nullable=False)
    offers: Mapped[int] = mapped_column(Integer, nullable=False)
    impressions: Mapped[int] = mapped_column(Integer, nullable=False)
    invalid_impressions: Mapped[int] = mapped_column(Integer, nullable=False)
    clicks: Mapped[int] = mapped_column(Integer, nullable=False)
    invalid_clicks: Mapped[int] = mapped_column(Integer, nullable=False)
    # Price per share per week (yen, tax included) when the hour was first rolled up.
    unit_price_yen: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (
        UniqueConstraint(
            "hour_start", "booking_id", "placement_id", "age_band", "household", "district"
        ),
        Index("ix_delivery_rollups_booking_id", "booking_id"),
    )
