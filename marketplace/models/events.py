"""Residents' interactions with municipal articles: the recommender's training signal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigIntId, UTCDateTime
from marketplace.models._columns import enum_column
from marketplace.vocab import InteractionKind


class InteractionEvent(Base):
    __tablename__ = "interaction_events"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    # Cascade so that forgetting a resident removes their history too.
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), nullable=False
    )
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[InteractionKind] = mapped_column(
        enum_column(InteractionKind, "interaction_kind"), nullable=False
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        Index("ix_interaction_events_occurred_at", "occurred_at"),
        Index("ix_interaction_events_resident_id", "resident_id"),
        Index("ix_interaction_events_article_id", "article_id"),
    )
