"""The city's own house ads (自主広告), shown in ad slots no shop's booking filled.

Their counts are kept apart from the shops' delivery tables: a house ad is never a shop's
delivery, never billed and never in a shop's report. Only aggregate counts per house ad, place
and hour are kept (no resident, no address).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigIntId, UTCDateTime
from marketplace.models._columns import Timestamps


class HouseAd(Timestamps, Base):
    __tablename__ = "house_ads"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    headline: Mapped[str] = mapped_column(String(60), nullable=False)
    body: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # https://… or a path on the portal's own site, such as /marketplace/shop/signup.
    link_url: Mapped[str] = mapped_column(String(500), nullable=False)
    in_feed: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    side: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )

    __table_args__ = (
        CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="schedule_order"),
        CheckConstraint("in_feed OR side", name="shown_somewhere"),
    )


class HouseAdCount(Base):
    """How often a house ad was placed (`shown`) and seen (`views`, its pixel loaded) in one
    hour and place, as counted by one worker between two flushes (`batch_id`): rows are only
    ever added, and a report sums them."""

    __tablename__ = "house_ad_counts"

    batch_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    house_ad_id: Mapped[int] = mapped_column(
        ForeignKey("house_ads.id", ondelete="CASCADE"), primary_key=True
    )
    surface: Mapped[str] = mapped_column(String(16), primary_key=True)  # "feed" | "side"
    hour_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    shown: Mapped[int] = mapped_column(Integer, nullable=False)
    views: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (Index("ix_house_ad_counts_house_ad_hour", "house_ad_id", "hour_start"),)
