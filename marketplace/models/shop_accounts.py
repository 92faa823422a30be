"""People who log in for a shop, and the API tokens a shop's software uses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigIntId, UTCDateTime, utcnow
from marketplace.lifecycle import ShopUserRole
from marketplace.models._columns import Timestamps, enum_column


class ShopUser(Timestamps, Base):
    __tablename__ = "shop_users"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), nullable=False)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[ShopUserRole] = mapped_column(
        enum_column(ShopUserRole, "shop_user_role"), default=ShopUserRole.OWNER, nullable=False
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Every signed-in session carries the version it started under; raising it (logout, a new
    # password, suspension, closing) ends all of them at once (portal_plugin.security.sessions).
    session_version: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", nullable=False
    )

    __table_args__ = (Index("ix_shop_users_shop_id", "shop_id"),)


class ShopApiToken(Base):
    """Only a SHA-256 of the token is stored; the secret is shown once when it is created."""

    __tablename__ = "shop_api_tokens"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), nullable=False)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("shop_users.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    # The first characters of the token, so a shop can tell its tokens apart.
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_shop_api_tokens_shop_id", "shop_id"),)
