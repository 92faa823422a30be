"""login failures: the login throttle counts per account and per address in the database

Revision ID: 0013_login_failures
Revises: 0012_offers_by_resident
Create Date: 2026-12-04 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0013_login_failures"
down_revision: str | None = "0012_offers_by_resident"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("realm", sa.String(length=8), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "realm IN ('shop', 'staff')", name=op.f("ck_login_failures_known_realm")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_account", "login_failures", ["realm", "account", "at"])
    op.create_index("ix_login_failures_address", "login_failures", ["realm", "address", "at"])
    op.create_index("ix_login_failures_at", "login_failures", ["at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_at", table_name="login_failures")
    op.drop_index("ix_login_failures_address", table_name="login_failures")
    op.drop_index("ix_login_failures_account", table_name="login_failures")
    op.drop_table("login_failures")
