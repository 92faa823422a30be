"""Delivery's tables: offers, impressions, clicks, slot opportunities, eligible slots and hourly
rollups.

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
from marketplace.personal_data import Basis, Retention, resident_column, resident_table

# Delivery's records of residents are held without consent, to run and measure the service.
_col = resident_column

OFFER_ID_LENGTH = 32


class AdOffer(Base):
    """One ad shown in one feed: the decision, with the audience segment it was made for."""

    __tablename__ = "ad_offers"

    id: Mapped[str] = mapped_column(
        String(OFFER_ID_LENGTH), primary_key=True, info=_col("表示ごとの使い捨ての番号")
    )
    booking_id: Mapped[int] = mapped_column(BigIntId, nullable=False, info=_col("広告の申込"))
    placement_id: Mapped[int] = mapped_column(BigIntId, nullable=False, info=_col("広告枠"))
    creative_version_id: Mapped[int] = mapped_column(
        BigIntId, nullable=False, info=_col("表示した広告の版")
    )
    shop_id: Mapped[int] = mapped_column(BigIntId, nullable=False, info=_col("広告を出したお店"))
    # A keyed hash of the resident's pseudonymous id (frequency caps), None when anonymous.
    resident_key: Mapped[str | None] = mapped_column(
        String(64), info=_col("仮名IDから作った鍵付きハッシュ（表示回数の上限のため）")
    )
    age_band: Mapped[str] = mapped_column(
        String(16),
        nullable=False,
        info=_col("広告を選んだときの年代（同意がなければ「不明」）", Basis.CONSENT),
    )
    household: Mapped[str] = mapped_column(
        String(32),
        nullable=False,
        info=_col("広告を選んだときの世帯構成（同意がなければ「不明」）", Basis.CONSENT),
    )
    district: Mapped[str] = mapped_column(
        String(32),
        nullable=False,
        info=_col("広告を選んだときの地区（同意がなければ「不明」）", Basis.CONSENT),
    )
    personalized: Mapped[bool] = mapped_column(
        Boolean, nullable=False, info=_col("好みに合わせて選んだか")
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, info=_col("フィード内の位置"))
    worker_id: Mapped[str] = mapped_column(
        String(32), nullable=False, info=_col("配信したサーバーの番号")
    )
    offered_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), nullable=False, info=_col("表示した日時")
    )

    __table_args__ = (
        Index("ix_ad_offers_booking_id", "booking_id"),
        Index("ix_ad_offers_offered_at", "offered_at"),
        # A resident's own records: their page (/me) and forgetting them find them by this.
        Index("ix_ad_offers_resident_key", "resident_key"),
        resident_table(
            "広告を表示した記録",
            "広告の表示回数の計測と請求、同じ広告の出しすぎの防止",
            Retention.RAW_EVENTS,
        ),
    )


class _TrackedEvent:
    """An impression or a click of one offer (the columns both tables share)."""

    offer_id: Mapped[str] = mapped_column(
        String(OFFER_ID_LENGTH), primary_key=True, info=_col("どの表示の記録か")
    )
    booking_id: Mapped[int] = mapped_column(BigIntId, nullable=False, info=_col("広告の申込"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, info=_col("日時"))
    valid: Mapped[bool] = mapped_column(Boolean, nullable=False, info=_col("有効な記録か"))
    invalid_reason: Mapped[str | None] = mapped_column(
        String(32), info=_col("無効とした理由（ロボット、連続など）")
    )
    ip_prefix: Mapped[str | None] = mapped_column(
        String(48), info=_col("IPアドレスの上位部分（末尾を消したもの。不正防止）")
    )


class AdImpression(_TrackedEvent, Base):
    __tablename__ = "ad_impressions"
    __table_args__ = (
        Index("ix_ad_impressions_booking_time", "booking_id", "occurred_at"),
        resident_table(
            "広告が画面に表示された記録",
            "広告の表示回数の計測と請求、不正の防止",
            Retention.RAW_EVENTS,
        ),
    )


class AdClick(_TrackedEvent, Base):
    __tablename__ = "ad_clicks"
    __table_args__ = (
        Index("ix_ad_clicks_booking_time", "booking_id", "occurred_at"),
        resident_table(
            "広告を押した記録",
            "広告のクリック数の計測とお店への報告（集計のみ）、不正の防止",
            Retention.RAW_EVENTS,
        ),
    )


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


class EligibleSlot(Base):
    """Slots a booking was eligible for, per hour, counted by one batch of one worker.

    The denominator of the one delivery measure (`measure.py`, docs/delivery.md): slots of the
    booking's placement, in its live hours, whose viewer its targeting reaches and who was under
    its frequency cap. Keyed by the batch id, so a replayed batch is counted once.
    """

    __tablename__ = "eligible_slots"

    batch_id: Mapped[str] = mapped_column(String(OFFER_ID_LENGTH), primary_key=True)
    booking_id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    hour_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    worker_id: Mapped[str] = mapped_column(String(32), nullable=False)
    slots: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (Index("ix_eligible_slots_hour_booking", "hour_start", "booking_id"),)


class EligibleSlotRollup(Base):
    """A booking's eligible slots per hour, summed over workers and batches (`roll_up_hour`)."""

    __tablename__ = "eligible_slot_rollups"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    hour_start: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    booking_id: Mapped[int] = mapped_column(BigIntId, nullable=False)
    placement_id: Mapped[int] = mapped_column(BigIntId, nullable=False)
    slots: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (
        UniqueConstraint("booking_id", "hour_start"),
        Index("ix_eligible_slot_rollups_placement_hour", "placement_id", "hour_start"),
    )


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
