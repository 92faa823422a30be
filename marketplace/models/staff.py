"""City staff accounts: reviewers, finance staff and administrators."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigIntId, UTCDateTime
from marketplace.models._columns import Timestamps, enum_column
from marketplace.vocab import StaffRole


class StaffUser(Timestamps, Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(80), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[StaffRole] = mapped_column(enum_column(StaffRole, "staff_role"), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Every signed-in session carries the version it started under; raising it (logout, a new
    # password, suspension, closing) ends all of them at once (portal_plugin.security.sessions).
    session_version: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", nullable=False
    )
