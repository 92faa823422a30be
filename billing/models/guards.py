"""Write-once rules enforced in code (every Session) and, by migration 0004, in the database.

Issued invoices, their lines and tax totals, and ledger rows are never updated or deleted:
invoices are corrected with credit notes, ledger transactions with reversing entries.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from billing.errors import InvoiceAlreadyIssued, LedgerImmutable

_installed = False

WRITE_ONCE_INVOICE_TABLES = ("invoices", "invoice_lines", "invoice_tax_totals")
APPEND_ONLY_LEDGER_TABLES = ("ledger_transactions", "ledger_entries")


def _check(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table in WRITE_ONCE_INVOICE_TABLES:
            if obj in session.deleted or session.is_modified(obj, include_collections=False):
                raise InvoiceAlreadyIssued(
                    "発行済みの請求書は変更できません。訂正は返金伝票(クレジットノート)で行ってください。"
                )
        elif table in APPEND_ONLY_LEDGER_TABLES and (
            obj in session.deleted or session.is_modified(obj, include_collections=False)
        ):
            raise LedgerImmutable("仕訳は追記のみです。訂正は反対仕訳で行ってください。")


def install_guards() -> None:
    global _installed
    if not _installed:
        event.listen(Session, "before_flush", _check)
        _installed = True


def postgres_ddl() -> list[str]:
    """Triggers for PostgreSQL: write-once tables, and a deferred balance check per transaction."""
    statements = [
        """CREATE OR REPLACE FUNCTION billing_refuse_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% rows are write-once (% refused)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'integrity_constraint_violation';
END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE FUNCTION billing_check_balance() RETURNS trigger AS $$
DECLARE total numeric;
BEGIN
  SELECT COALESCE(SUM(amount), 0) INTO total FROM ledger_entries
    WHERE transaction_id = NEW.transaction_id;
  IF total <> 0 THEN
    RAISE EXCEPTION 'ledger transaction % does not balance (legs sum to %)',
      NEW.transaction_id, total USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
        """CREATE CONSTRAINT TRIGGER ledger_entries_balance AFTER INSERT ON ledger_entries
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION billing_check_balance()""",
    ]
    for table in (*WRITE_ONCE_INVOICE_TABLES, *APPEND_ONLY_LEDGER_TABLES):
        statements.append(
            f"CREATE TRIGGER {table}_write_once BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION billing_refuse_change()"
        )
    return statements


def sqlite_ddl() -> list[str]:
    statements = []
    for table in (*WRITE_ONCE_INVOICE_TABLES, *APPEND_ONLY_LEDGER_TABLES):
        for op in ("UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} rows are write-once'); END"
            )
    return statements


def drop_ddl(dialect: str) -> list[str]:
    tables = (*WRITE_ONCE_INVOICE_TABLES, *APPEND_ONLY_LEDGER_TABLES)
    if dialect == "postgresql":
        return [
            "DROP TRIGGER IF EXISTS ledger_entries_balance ON ledger_entries",
            *[f"DROP TRIGGER IF EXISTS {t}_write_once ON {t}" for t in tables],
            "DROP FUNCTION IF EXISTS billing_check_balance()",
            "DROP FUNCTION IF EXISTS billing_refuse_change()",
        ]
    return [f"DROP TRIGGER IF EXISTS {t}_no_{op} " for t in tables for op in ("update", "delete")]
