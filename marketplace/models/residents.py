"""Residents as the plugin knows them: a pseudonym and coarse profile attributes, never a name."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigIntId, JSONDocument, UTCDateTime
from marketplace.models._columns import Timestamps, enum_column
from marketplace.personal_data import Basis, Retention, resident_column, resident_table
from marketplace.vocab import AgeBand, Household, Language


class Resident(Timestamps, Base):
    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(
        BigIntId, primary_key=True, info=resident_column("この表の中だけの番号")
    )
    # The host portal's pseudonymous id; the plugin never sees names or addresses.
    external_id: Mapped[str] = mapped_column(
        String(64),
        unique=True,
        nullable=False,
        info=resident_column("会津若松＋の仮名ID（氏名・住所は受け取りません）"),
    )
    age_band: Mapped[AgeBand | None] = mapped_column(
        enum_column(AgeBand, "age_band"), info=resident_column("年代（10歳きざみ）", Basis.CONSENT)
    )
    household: Mapped[Household | None] = mapped_column(
        enum_column(Household, "household"), info=resident_column("世帯構成", Basis.CONSENT)
    )
    district: Mapped[str | None] = mapped_column(
        String(32), info=resident_column("地区", Basis.CONSENT)
    )
    language: Mapped[Language] = mapped_column(
        enum_column(Language, "language"),
        default=Language.JA,
        nullable=False,
        info=resident_column("表示する言語"),
    )
    interests: Mapped[list[str]] = mapped_column(
        JSONDocument,
        default=list,
        nullable=False,
        info=resident_column("関心分野", Basis.CONSENT),
    )
    gadgets: Mapped[list[str]] = mapped_column(
        JSONDocument,
        default=list,
        nullable=False,
        info=resident_column("使っているガジェット", Basis.CONSENT),
    )
    personalization_consent: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        nullable=False,
        info=resident_column("「あなたに合わせたおすすめ」への同意"),
    )
    consent_updated_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), info=resident_column("同意を変えた日時")
    )

    __table_args__ = (
        Index("ix_residents_segment", "age_band", "household"),
        resident_table(
            "会津若松＋から受け取った登録情報",
            "記事のおすすめと、好みに合わせた広告を選ぶため",
            Retention.UNTIL_FORGOTTEN,
        ),
    )
