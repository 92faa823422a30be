"""Failed logins, kept for a day: what the login throttle counts per account and per address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigIntId, UTCDateTime


class LoginFailure(Base):
    """One login that did not succeed (or has not yet: a row is written before the password is
    checked and removed when it matches, so attempts in flight count against the limits too)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    # Shop and staff logins are counted apart: one cannot lock the other out.
    realm: Mapped[str] = mapped_column(String(8))
    # A digest of the normalised email address tried, whether or not it has an account.
    account: Mapped[str] = mapped_column(String(64))
    # The client address (IPv6 by its /64 network, which one subscriber usually holds whole).
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("realm IN ('shop', 'staff')", name="known_realm"),
        Index("ix_login_failures_account", "realm", "account", "at"),
        Index("ix_login_failures_address", "realm", "address", "at"),
        Index("ix_login_failures_at", "at"),
    )
