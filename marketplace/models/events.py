"""Residents' interactions with municipal articles: the recommender's training signal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigIntId, UTCDateTime
from marketplace.models._columns import enum_column
from marketplace.personal_data import Basis, Retention, resident_column, resident_table
from marketplace.vocab import InteractionKind


class InteractionEvent(Base):
    __tablename__ = "interaction_events"

    id: Mapped[int] = mapped_column(
        BigIntId, primary_key=True, info=resident_column("記録の番号", Basis.CONSENT)
    )
    # Cascade so that forgetting a resident removes their history too.
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"),
        nullable=False,
        info=resident_column("誰の記録か（登録情報の番号）", Basis.CONSENT),
    )
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"),
        nullable=False,
        info=resident_column("読んだ市のお知らせ記事", Basis.CONSENT),
    )
    kind: Mapped[InteractionKind] = mapped_column(
        enum_column(InteractionKind, "interaction_kind"),
        nullable=False,
        info=resident_column("見た（表示）か、開いた（クリック）か", Basis.CONSENT),
    )
    occurred_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), nullable=False, info=resident_column("日時", Basis.CONSENT)
    )

    __table_args__ = (
        Index("ix_interaction_events_occurred_at", "occurred_at"),
        Index("ix_interaction_events_resident_id", "resident_id"),
        Index("ix_interaction_events_article_id", "article_id"),
        resident_table(
            "記事を見た・開いた記録",
            "記事のおすすめと、好みに合わせた広告の順番を学ぶため",
            Retention.RAW_EVENTS,
        ),
    )
