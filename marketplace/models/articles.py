"""Municipal articles pushed or imported from the host portal's CMS."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigIntId, JSONDocument, UTCDateTime
from marketplace.models._columns import Timestamps, enum_column
from marketplace.vocab import ArticlePriority


class Article(Timestamps, Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    summary: Mapped[str] = mapped_column(Text, default="", nullable=False)
    url: Mapped[str] = mapped_column(String(500), nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    tags: Mapped[list[str]] = mapped_column(JSONDocument, default=list, nullable=False)
    priority: Mapped[ArticlePriority] = mapped_column(
        enum_column(ArticlePriority, "priority"), default=ArticlePriority.NORMAL, nullable=False
    )
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("expires_at IS NULL OR expires_at > published_at", name="expiry_order"),
        Index("ix_articles_published_at", "published_at"),
    )
