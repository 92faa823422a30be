"""Residents as the plugin knows them: a pseudonym and coarse profile attributes, never a name."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigIntId, JSONDocument, UTCDateTime
from marketplace.models._columns import Timestamps, enum_column
from marketplace.vocab import AgeBand, Household, Language


class Resident(Timestamps, Base):
    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    # The host portal's pseudonymous id; the plugin never sees names or addresses.
    external_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    age_band: Mapped[AgeBand | None] = mapped_column(enum_column(AgeBand, "age_band"))
    household: Mapped[Household | None] = mapped_column(enum_column(Household, "household"))
    district: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[Language] = mapped_column(
        enum_column(Language, "language"), default=Language.JA, nullable=False
    )
    interests: Mapped[list[str]] = mapped_column(JSONDocument, default=list, nullable=False)
    gadgets: Mapped[list[str]] = mapped_column(JSONDocument, default=list, nullable=False)
    personalization_consent: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    consent_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_residents_segment", "age_band", "household"),)
