"""house ads: the city's own ads for unfilled slots, and their counts

Revision ID: 0007_house_ads
Revises: 0006_ad_choices
Create Date: 2026-12-04 07:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0007_house_ads"
down_revision: str | None = "0006_ad_choices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "house_ads",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("headline", sa.String(length=60), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link_url", sa.String(length=500), nullable=False),
        sa.Column("in_feed", sa.Boolean(), nullable=False),
        sa.Column("side", sa.Boolean(), nullable=False),
        sa.Column("starts_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("retired_at", marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "created_by_staff_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("created_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ends_at IS NULL OR ends_at > starts_at", name=op.f("ck_house_ads_schedule_order")
        ),
        sa.CheckConstraint("in_feed OR side", name=op.f("ck_house_ads_shown_somewhere")),
        sa.ForeignKeyConstraint(
            ["created_by_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_house_ads_created_by_staff_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_house_ads")),
    )
    op.create_table(
        "house_ad_counts",
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column(
            "house_ad_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("surface", sa.String(length=16), nullable=False),
        sa.Column("hour_start", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("shown", sa.Integer(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["house_ad_id"],
            ["house_ads.id"],
            name=op.f("fk_house_ad_counts_house_ad_id_house_ads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "batch_id", "house_ad_id", "surface", "hour_start", name=op.f("pk_house_ad_counts")
        ),
    )
    op.create_index(
        "ix_house_ad_counts_house_ad_hour",
        "house_ad_counts",
        ["house_ad_id", "hour_start"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_house_ad_counts_house_ad_hour", table_name="house_ad_counts")
    op.drop_table("house_ad_counts")
    op.drop_table("house_ads")
