"""ad offers by resident: the resident's own page (/me) and forgetting find their records by key

Revision ID: 0012_offers_by_resident
Revises: 0011_job_runs
Create Date: 2026-12-04 15:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012_offers_by_resident"
down_revision: str | None = "0011_job_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_ad_offers_resident_key", "ad_offers", ["resident_key"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ad_offers_resident_key", table_name="ad_offers")
