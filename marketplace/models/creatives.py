"""Creatives and their immutable versions; only a version with status `approved` may be shown.

Every edit adds a new version. At most one version of a creative is `approved` at a time (a
partial unique index); approving a newer version supersedes the older one.

A flyer (チラシ) is a creative of kind `flyer`: it is reviewed, booked and delivered exactly as an
ad is, through its versions. A flyer version also has its pages (`FlyerPage`) and its dates:
掲載期間 (`shown_from`..`shown_until`, when it may be shown) and the optional 特売期間
(`sale_from`..`sale_until`, the sale it announces). Its `image_data` is the first page, small.
"""

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
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigIntId, JSONDocument, UTCDateTime, utcnow
from marketplace.lifecycle import CreativeKind, CreativeStatus
from marketplace.models._columns import Timestamps, enum_column


class Creative(Timestamps, Base):
    __tablename__ = "creatives"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    kind: Mapped[CreativeKind] = mapped_column(
        enum_column(CreativeKind, "creative_kind"),
        default=CreativeKind.AD,
        server_default=CreativeKind.AD.value,
        nullable=False,
    )
    archived: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    __table_args__ = (Index("ix_creatives_shop_id", "shop_id"),)


class CreativeVersion(Base):
    __tablename__ = "creative_versions"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    creative_id: Mapped[int] = mapped_column(
        ForeignKey("creatives.id", ondelete="CASCADE"), nullable=False
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    headline: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # Empty when the shop has no website: a click then opens the shop's page on the portal.
    landing_url: Mapped[str] = mapped_column(String(500), nullable=False)
    # The re-encoded image (metadata stripped), never the uploaded bytes.
    image_data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    image_content_type: Mapped[str] = mapped_column(String(32), nullable=False)
    image_width: Mapped[int] = mapped_column(Integer, nullable=False)
    image_height: Mapped[int] = mapped_column(Integer, nullable=False)
    image_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[CreativeStatus] = mapped_column(
        enum_column(CreativeStatus, "creative_status"),
        default=CreativeStatus.DRAFT,
        nullable=False,
    )
    # The automatic pre-check's findings: [{"rule": ..., "field": ..., "text": ...}, ...].
    precheck_flags: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONDocument, default=list, nullable=False
    )
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("shop_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    # Shown to the shop when a version is rejected.
    decision_reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # Flyers only (Tokyo dates, inclusive): 掲載期間 and the optional 特売期間.
    shown_from: Mapped[date | None] = mapped_column(Date)
    shown_until: Mapped[date | None] = mapped_column(Date)
    sale_from: Mapped[date | None] = mapped_column(Date)
    sale_until: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("creative_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("image_width > 0 AND image_height > 0", name="image_size_positive"),
        Index(
            "uq_creative_versions_one_approved",
            "creative_id",
            unique=True,
            sqlite_where=text("status = 'approved'"),
            postgresql_where=text("status = 'approved'"),
        ),
        Index("ix_creative_versions_status", "status"),
        CheckConstraint(
            "(shown_from IS NULL) = (shown_until IS NULL) AND shown_from <= shown_until",
            name="shown_period",
        ),
        CheckConstraint(
            "(sale_from IS NULL) = (sale_until IS NULL) AND sale_from <= sale_until",
            name="sale_period",
        ),
    )


class FlyerPage(Base):
    """One page of a flyer version, re-encoded, with the text printed on it (from the PDF)."""

    __tablename__ = "flyer_pages"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    creative_version_id: Mapped[int] = mapped_column(
        ForeignKey("creative_versions.id", ondelete="CASCADE"), nullable=False
    )
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    image_data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    image_content_type: Mapped[str] = mapped_column(String(32), nullable=False)
    image_width: Mapped[int] = mapped_column(Integer, nullable=False)
    image_height: Mapped[int] = mapped_column(Integer, nullable=False)
    image_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    text: Mapped[str] = mapped_column(Text, default="", nullable=False)

    __table_args__ = (
        UniqueConstraint("creative_version_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("image_width > 0 AND image_height > 0", name="image_size_positive"),
    )
