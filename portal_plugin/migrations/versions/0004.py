"""billing: invoices, credit notes, payments, refunds, bank imports, Stripe events, ledger

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 09:25:00.640156
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Write-once invoices and an append-only, balanced ledger, enforced by the database too.
# Frozen here (not imported) so that later code changes cannot rewrite this migration.
TRIGGERS = {
    "postgresql": [
        "CREATE OR REPLACE FUNCTION billing_refuse_change() RETURNS trigger AS $$\nBEGIN\n  RAISE EXCEPTION '% rows are write-once (% refused)', TG_TABLE_NAME, TG_OP\n    USING ERRCODE = 'integrity_constraint_violation';\nEND $$ LANGUAGE plpgsql",
        "CREATE OR REPLACE FUNCTION billing_check_balance() RETURNS trigger AS $$\nDECLARE total numeric;\nBEGIN\n  SELECT COALESCE(SUM(amount), 0) INTO total FROM ledger_entries\n    WHERE transaction_id = NEW.transaction_id;\n  IF total <> 0 THEN\n    RAISE EXCEPTION 'ledger transaction % does not balance (legs sum to %)',\n      NEW.transaction_id, total USING ERRCODE = 'check_violation';\n  END IF;\n  RETURN NULL;\nEND $$ LANGUAGE plpgsql",
        "CREATE CONSTRAINT TRIGGER ledger_entries_balance AFTER INSERT ON ledger_entries\n  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION billing_check_balance()",
        "CREATE TRIGGER invoices_write_once BEFORE UPDATE OR DELETE ON invoices FOR EACH ROW EXECUTE FUNCTION billing_refuse_change()",
        "CREATE TRIGGER invoice_lines_write_once BEFORE UPDATE OR DELETE ON invoice_lines FOR EACH ROW EXECUTE FUNCTION billing_refuse_change()",
        "CREATE TRIGGER invoice_tax_totals_write_once BEFORE UPDATE OR DELETE ON invoice_tax_totals FOR EACH ROW EXECUTE FUNCTION billing_refuse_change()",
        "CREATE TRIGGER ledger_transactions_write_once BEFORE UPDATE OR DELETE ON ledger_transactions FOR EACH ROW EXECUTE FUNCTION billing_refuse_change()",
        "CREATE TRIGGER ledger_entries_write_once BEFORE UPDATE OR DELETE ON ledger_entries FOR EACH ROW EXECUTE FUNCTION billing_refuse_change()",
    ],
    "sqlite": [
        "CREATE TRIGGER invoices_no_update BEFORE UPDATE ON invoices BEGIN SELECT RAISE(ABORT, 'invoices rows are write-once'); END",
        "CREATE TRIGGER invoices_no_delete BEFORE DELETE ON invoices BEGIN SELECT RAISE(ABORT, 'invoices rows are write-once'); END",
        "CREATE TRIGGER invoice_lines_no_update BEFORE UPDATE ON invoice_lines BEGIN SELECT RAISE(ABORT, 'invoice_lines rows are write-once'); END",
        "CREATE TRIGGER invoice_lines_no_delete BEFORE DELETE ON invoice_lines BEGIN SELECT RAISE(ABORT, 'invoice_lines rows are write-once'); END",
        "CREATE TRIGGER invoice_tax_totals_no_update BEFORE UPDATE ON invoice_tax_totals BEGIN SELECT RAISE(ABORT, 'invoice_tax_totals rows are write-once'); END",
        "CREATE TRIGGER invoice_tax_totals_no_delete BEFORE DELETE ON invoice_tax_totals BEGIN SELECT RAISE(ABORT, 'invoice_tax_totals rows are write-once'); END",
        "CREATE TRIGGER ledger_transactions_no_update BEFORE UPDATE ON ledger_transactions BEGIN SELECT RAISE(ABORT, 'ledger_transactions rows are write-once'); END",
        "CREATE TRIGGER ledger_transactions_no_delete BEFORE DELETE ON ledger_transactions BEGIN SELECT RAISE(ABORT, 'ledger_transactions rows are write-once'); END",
        "CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger_entries rows are write-once'); END",
        "CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger_entries rows are write-once'); END",
    ],
}
DROP_TRIGGERS = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS ledger_entries_balance ON ledger_entries",
        "DROP TRIGGER IF EXISTS invoices_write_once ON invoices",
        "DROP TRIGGER IF EXISTS invoice_lines_write_once ON invoice_lines",
        "DROP TRIGGER IF EXISTS invoice_tax_totals_write_once ON invoice_tax_totals",
        "DROP TRIGGER IF EXISTS ledger_transactions_write_once ON ledger_transactions",
        "DROP TRIGGER IF EXISTS ledger_entries_write_once ON ledger_entries",
        "DROP FUNCTION IF EXISTS billing_check_balance()",
        "DROP FUNCTION IF EXISTS billing_refuse_change()",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS invoices_no_update ",
        "DROP TRIGGER IF EXISTS invoices_no_delete ",
        "DROP TRIGGER IF EXISTS invoice_lines_no_update ",
        "DROP TRIGGER IF EXISTS invoice_lines_no_delete ",
        "DROP TRIGGER IF EXISTS invoice_tax_totals_no_update ",
        "DROP TRIGGER IF EXISTS invoice_tax_totals_no_delete ",
        "DROP TRIGGER IF EXISTS ledger_transactions_no_update ",
        "DROP TRIGGER IF EXISTS ledger_transactions_no_delete ",
        "DROP TRIGGER IF EXISTS ledger_entries_no_update ",
        "DROP TRIGGER IF EXISTS ledger_entries_no_delete ",
    ],
}


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "billing_invoice_counters",
        sa.Column("series", sa.String(length=8), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("next_number", sa.Integer(), nullable=False),
        sa.CheckConstraint("next_number >= 1", name=op.f("ck_billing_invoice_counters_positive")),
        sa.PrimaryKeyConstraint("series", "fiscal_year", name=op.f("pk_billing_invoice_counters")),
    )
    op.create_table(
        "stripe_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.String(length=120), nullable=False),
        sa.Column("type", sa.String(length=80), nullable=False),
        sa.Column("object_id", sa.String(length=120), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("received_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_stripe_events_event_id")),
    )
    op.create_table(
        "bank_statement_imports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column(
            "imported_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("imported_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["imported_by"],
            ["staff_users.id"],
            name=op.f("fk_bank_statement_imports_imported_by_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_statement_imports")),
        sa.UniqueConstraint("file_sha256", name=op.f("uq_bank_statement_imports_file_sha256")),
    )
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "asset",
                "liability",
                "revenue",
                "expense",
                name="account_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_ledger_accounts_shop_id_shops")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        sa.UniqueConstraint("code", name=op.f("uq_ledger_accounts_code")),
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "invoice",
                "credit_note",
                name="document_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("series", sa.String(length=8), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "booking_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "original_invoice_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("issuer_name", sa.String(length=120), nullable=False),
        sa.Column("issuer_registration_number", sa.String(length=14), nullable=False),
        sa.Column("recipient_name", sa.String(length=120), nullable=False),
        sa.Column("recipient_registration_number", sa.String(length=14), nullable=True),
        sa.Column("rounding_mode", sa.String(length=8), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("taxable", sa.Integer(), nullable=False),
        sa.Column("tax", sa.Integer(), nullable=False),
        sa.Column("payment_reference", sa.String(length=16), nullable=True),
        sa.Column(
            "payment_method",
            sa.Enum(
                "bank_transfer",
                "card",
                "konbini",
                "customer_balance",
                name="payment_method",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("issued_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'credit_note') = (original_invoice_id IS NOT NULL)",
            name=op.f("ck_invoices_credit_has_original"),
        ),
        sa.CheckConstraint(
            "total = taxable + tax", name=op.f("ck_invoices_total_is_taxable_plus_tax")
        ),
        sa.CheckConstraint(
            "total >= 0 AND tax >= 0 AND taxable >= 0", name=op.f("ck_invoices_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_invoices_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["original_invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoices_original_invoice_id_invoices"),
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_invoices_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
        sa.UniqueConstraint("payment_reference", name=op.f("uq_invoices_payment_reference")),
        sa.UniqueConstraint(
            "series",
            "fiscal_year",
            "sequence",
            name=op.f("uq_invoices_series_fiscal_year_sequence"),
        ),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index("ix_invoices_booking_id", ["booking_id"], unique=False)
        batch_op.create_index(
            "ix_invoices_original_invoice_id", ["original_invoice_id"], unique=False
        )
        batch_op.create_index("ix_invoices_shop_id", ["shop_id"], unique=False)

    op.create_table(
        "billing_processed_marketplace_events",
        sa.Column(
            "event_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("processed_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["marketplace_events.id"],
            name=op.f("fk_billing_processed_marketplace_events_event_id_marketplace_events"),
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_billing_processed_marketplace_events")),
    )
    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("tax_rate_percent", sa.Integer(), nullable=False),
        sa.Column("taxable", sa.Integer(), nullable=False),
        sa.Column(
            "booking_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("service_start", sa.Date(), nullable=True),
        sa.Column("service_end", sa.Date(), nullable=True),
        sa.Column(
            "credited_line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.CheckConstraint(
            "amount >= 0 AND taxable >= 0 AND taxable <= amount",
            name=op.f("ck_invoice_lines_amounts"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_invoice_lines_positive_quantity")),
        sa.CheckConstraint(
            "service_start IS NULL OR service_end >= service_start",
            name=op.f("ck_invoice_lines_service_order"),
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_invoice_lines_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["credited_line_id"],
            ["invoice_lines.id"],
            name=op.f("fk_invoice_lines_credited_line_id_invoice_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_lines_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
        sa.UniqueConstraint(
            "invoice_id", "position", name=op.f("uq_invoice_lines_invoice_id_position")
        ),
    )
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.create_index("ix_invoice_lines_booking_id", ["booking_id"], unique=False)
        batch_op.create_index(
            "ix_invoice_lines_credited_line_id", ["credited_line_id"], unique=False
        )

    op.create_table(
        "invoice_tax_totals",
        sa.Column(
            "invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("rate_percent", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("taxable", sa.Integer(), nullable=False),
        sa.Column("tax", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_tax_totals_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("invoice_id", "rate_percent", name=op.f("pk_invoice_tax_totals")),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "booking_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "method",
            sa.Enum(
                "bank_transfer",
                "card",
                "konbini",
                "customer_balance",
                name="payment_method",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("fee", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "requires_action",
                "processing",
                "succeeded",
                "failed",
                "canceled",
                name="payment_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("provider_reference", sa.String(length=120), nullable=True),
        sa.Column("idempotency_key", sa.String(length=120), nullable=True),
        sa.Column("client_secret", sa.String(length=200), nullable=True),
        sa.Column("next_action", sa.Text(), nullable=True),
        sa.Column("failure_message", sa.Text(), nullable=True),
        sa.Column("succeeded_at", marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0 AND fee >= 0", name=op.f("ck_payments_positive_amount")),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_payments_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_payments_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_payments_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payments_idempotency_key")),
        sa.UniqueConstraint("provider_reference", name=op.f("uq_payments_provider_reference")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index("ix_payments_booking_id", ["booking_id"], unique=False)
        batch_op.create_index("ix_payments_invoice_id", ["invoice_id"], unique=False)
        batch_op.create_index("ix_payments_shop_id", ["shop_id"], unique=False)

    op.create_table(
        "bank_transactions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "import_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("payer_name", sa.String(length=120), nullable=False),
        sa.Column("payer_name_normalised", sa.String(length=120), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "matched",
                "review",
                "resolved",
                "dismissed",
                name="bank_transaction_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("review_reason", sa.Text(), nullable=False),
        sa.Column(
            "invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["bank_statement_imports.id"],
            name=op.f("fk_bank_transactions_import_id_bank_statement_imports"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_bank_transactions_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_bank_transactions_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_transactions")),
        sa.UniqueConstraint(
            "import_id", "row_number", name=op.f("uq_bank_transactions_import_id_row_number")
        ),
    )
    with op.batch_alter_table("bank_transactions", schema=None) as batch_op:
        batch_op.create_index("ix_bank_transactions_status", ["status"], unique=False)

    op.create_table(
        "refunds",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "credit_note_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "pending_payout",
                "succeeded",
                "failed",
                name="refund_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("provider_reference", sa.String(length=120), nullable=True),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("completed_at", marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refunds_positive_amount")),
        sa.ForeignKeyConstraint(
            ["credit_note_id"], ["invoices.id"], name=op.f("fk_refunds_credit_note_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_refunds_idempotency_key")),
        sa.UniqueConstraint("provider_reference", name=op.f("uq_refunds_provider_reference")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index("ix_refunds_payment_id", ["payment_id"], unique=False)

    op.create_table(
        "ledger_transactions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("posted_on", sa.Date(), nullable=False),
        sa.Column("created_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=True),
        sa.Column(
            "invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("refund_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column(
            "reverses_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_ledger_transactions_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_ledger_transactions_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refunds.id"], name=op.f("fk_ledger_transactions_refund_id_refunds")
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_ledger_transactions_reverses_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transactions")),
        sa.UniqueConstraint("key", name=op.f("uq_ledger_transactions_key")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_ledger_transactions_reverses_id")),
    )
    with op.batch_alter_table("ledger_transactions", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_transactions_invoice_id", ["invoice_id"], unique=False)
        batch_op.create_index("ix_ledger_transactions_payment_id", ["payment_id"], unique=False)
        batch_op.create_index("ix_ledger_transactions_posted_on", ["posted_on"], unique=False)

    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column(
            "invoice_line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("revenue_month", sa.Date(), nullable=True),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_ledger_entries_non_zero")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_entries_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_line_id"],
            ["invoice_lines.id"],
            name=op.f("fk_ledger_entries_invoice_line_id_invoice_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_ledger_entries_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_entries_account_id", ["account_id"], unique=False)
        batch_op.create_index(
            "ix_ledger_entries_invoice_line_id", ["invoice_line_id"], unique=False
        )
        batch_op.create_index("ix_ledger_entries_revenue_month", ["revenue_month"], unique=False)
        batch_op.create_index("ix_ledger_entries_transaction_id", ["transaction_id"], unique=False)

    # ### end Alembic commands ###
    for statement in TRIGGERS.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_TRIGGERS.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_transaction_id")
        batch_op.drop_index("ix_ledger_entries_revenue_month")
        batch_op.drop_index("ix_ledger_entries_invoice_line_id")
        batch_op.drop_index("ix_ledger_entries_account_id")

    op.drop_table("ledger_entries")
    with op.batch_alter_table("ledger_transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_transactions_posted_on")
        batch_op.drop_index("ix_ledger_transactions_payment_id")
        batch_op.drop_index("ix_ledger_transactions_invoice_id")

    op.drop_table("ledger_transactions")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index("ix_refunds_payment_id")

    op.drop_table("refunds")
    with op.batch_alter_table("bank_transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_transactions_status")

    op.drop_table("bank_transactions")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_shop_id")
        batch_op.drop_index("ix_payments_invoice_id")
        batch_op.drop_index("ix_payments_booking_id")

    op.drop_table("payments")
    op.drop_table("invoice_tax_totals")
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_lines_credited_line_id")
        batch_op.drop_index("ix_invoice_lines_booking_id")

    op.drop_table("invoice_lines")
    op.drop_table("billing_processed_marketplace_events")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_shop_id")
        batch_op.drop_index("ix_invoices_original_invoice_id")
        batch_op.drop_index("ix_invoices_booking_id")

    op.drop_table("invoices")
    op.drop_table("ledger_accounts")
    op.drop_table("bank_statement_imports")
    op.drop_table("stripe_events")
    op.drop_table("billing_invoice_counters")
    # ### end Alembic commands ###
