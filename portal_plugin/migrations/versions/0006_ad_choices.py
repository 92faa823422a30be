"""resident ad choices: hidden shops and personalised ads off (issue 17)

Revision ID: 0006_ad_choices
Revises: 0005
Create Date: 2026-12-04 06:09:51.081010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0006_ad_choices"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "resident_ad_choices",
        sa.Column("resident_key", sa.String(length=64), nullable=False),
        sa.Column("personalized_ads", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("resident_key", name=op.f("pk_resident_ad_choices")),
    )
    op.create_table(
        "resident_hidden_shops",
        sa.Column("resident_key", sa.String(length=64), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("hidden_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_key"],
            ["resident_ad_choices.resident_key"],
            name=op.f("fk_resident_hidden_shops_resident_key_resident_ad_choices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_resident_hidden_shops_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resident_key", "shop_id", name=op.f("pk_resident_hidden_shops")),
    )


def downgrade() -> None:
    op.drop_table("resident_hidden_shops")
    op.drop_table("resident_ad_choices")
