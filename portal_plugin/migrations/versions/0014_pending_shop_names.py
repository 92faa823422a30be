"""pending shop names: a shop that advertises renames itself only after staff review

Revision ID: 0014_pending_shop_names
Revises: 0013_login_failures
Create Date: 2026-12-04 15:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0014_pending_shop_names"
down_revision: str | None = "0013_login_failures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shops") as batch:
        batch.add_column(sa.Column("pending_business_name", sa.String(120), nullable=True))
        batch.add_column(sa.Column("pending_business_name_kana", sa.String(120), nullable=True))
        batch.add_column(
            sa.Column(
                "name_change_requested_at",
                marketplace.db.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("name_change_requested_at")
        batch.drop_column("pending_business_name_kana")
        batch.drop_column("pending_business_name")
