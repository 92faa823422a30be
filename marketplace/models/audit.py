"""The append-only audit log of staff decisions and other consequential actions.

The migration adds triggers that refuse UPDATE and DELETE on this table on both backends.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigIntId, JSONDocument, UTCDateTime, utcnow
from marketplace.lifecycle import ActorKind
from marketplace.models._columns import enum_column


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    actor_kind: Mapped[ActorKind] = mapped_column(
        enum_column(ActorKind, "actor_kind"), nullable=False
    )
    # No foreign keys: the log must outlive the rows it talks about.
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    subject_type: Mapped[str] = mapped_column(String(32), nullable=False)
    subject_id: Mapped[int | None] = mapped_column(BigInteger)
    shop_id: Mapped[int | None] = mapped_column(BigInteger)
    creative_version_id: Mapped[int | None] = mapped_column(BigInteger)
    rule: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict, nullable=False)

    __table_args__ = (
        Index("ix_audit_log_occurred_at", "occurred_at"),
        Index("ix_audit_log_subject", "subject_type", "subject_id"),
    )


class PortalSettings(Base):
    """One row (id = 1) of portal-wide switches, starting with disaster mode."""

    __tablename__ = "portal_settings"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    disaster_mode: Mapped[bool] = mapped_column(default=False, nullable=False)
    disaster_message: Mapped[str] = mapped_column(Text, default="", nullable=False)
    disaster_mode_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disaster_mode_changed_by_staff_id: Mapped[int | None] = mapped_column(BigInteger)
