"""session versions: shop and staff accounts can end all their sessions at once

Revision ID: 0010_session_versions
Revises: 0009_eligible_slots
Create Date: 2026-12-04 11:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_session_versions"
down_revision: str | None = "0009_eligible_slots"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("shop_users", "staff_users")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("session_version", sa.Integer(), server_default="0", nullable=False)
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("session_version")
