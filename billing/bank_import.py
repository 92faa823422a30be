"""Bank statement CSV import and matching transfers to invoices.

The CSV is validated completely before anything is written: one bad cell refuses the whole
file, naming its row and column. Each transfer is then matched:
1. by the invoice reference (eight digits typed before the payer name, or in the memo);
2. otherwise by exact amount and payer name (kana, normalised) against open invoices.
A reference whose amount differs from what is owed, several candidates, or no candidate at all
sends the transfer to the finance review queue; nothing is accepted silently.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.errors import BillingError
from billing.kana import normalise_kana, references_in
from billing.models import (
    BankStatementImport,
    BankTransaction,
    BankTransactionStatus,
    DocumentKind,
    Invoice,
)
from billing.payments import invoice_position, record_bank_transfer
from marketplace.models import Shop

COLUMNS = ("取引日", "入金額", "振込依頼人名", "摘要")
ENGLISH_COLUMNS = ("date", "amount", "payer_name", "memo")
MAX_AMOUNT = 100_000_000
MAX_ROWS = 20_000


@dataclass(frozen=True)
class CsvProblem:
    row: int  # 1-based line number in the file, header = 1
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.row}行目「{self.column}」: {self.message}"


class BankStatementInvalid(BillingError):
    code = "invalid_statement"
    status = 422

    def __init__(self, problems: list[CsvProblem]) -> None:
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:5])
        if len(problems) > 5:
            super().__init__(
                "銀行明細を取り込めません(何も登録していません): {problems} ほか{more}件",
                problems=shown,
                more=len(problems) - 5,
            )
        else:
            super().__init__(
                "銀行明細を取り込めません(何も登録していません): {problems}", problems=shown
            )


class StatementAlreadyImported(BillingError):
    code = "already_imported"


@dataclass(frozen=True)
class StatementRow:
    row: int
    value_date: date
    amount: int
    payer_name: str
    memo: str


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BankStatementInvalid([CsvProblem(1, "ファイル", "UTF-8 でも Shift_JIS でもありません")])


def _date(raw: str) -> date | None:
    match = re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", raw.strip())
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def parse_statement(data: bytes) -> list[StatementRow]:
    """Parse and validate the whole file; raise BankStatementInvalid listing every problem."""
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        header = tuple(cell.strip() for cell in next(reader))
    except StopIteration:
        raise BankStatementInvalid([CsvProblem(1, "見出し", "ファイルが空です")]) from None
    except csv.Error as exc:
        raise BankStatementInvalid(
            [CsvProblem(1, "見出し", f"CSV として読めません ({exc})")]
        ) from None
    if header not in (COLUMNS, ENGLISH_COLUMNS):
        raise BankStatementInvalid(
            [CsvProblem(1, "見出し", f"列は {','.join(COLUMNS)} の順にしてください")]
        )
    problems: list[CsvProblem] = []
    rows: list[StatementRow] = []
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                problems.append(CsvProblem(number, "行数", f"{MAX_ROWS}行を超えています"))
                break
            if len(cells) != len(COLUMNS):
                problems.append(
                    CsvProblem(number, "列数", f"{len(COLUMNS)}列のはずが{len(cells)}列です")
                )
                continue
            raw_date, raw_amount, payer, memo = (cell.strip() for cell in cells)
            value_date = _date(raw_date)
            if value_date is None:
                problems.append(
                    CsvProblem(
                        number, COLUMNS[0], f"YYYY-MM-DD の日付ではありません(値: {raw_date!r})"
                    )
                )
            amount_text = raw_amount.replace(",", "")
            amount = int(amount_text) if re.fullmatch(r"[0-9]{1,12}", amount_text) else None
            if amount is None or not 0 < amount <= MAX_AMOUNT:
                problems.append(
                    CsvProblem(
                        number, COLUMNS[1], f"1円以上の整数の円ではありません(値: {raw_amount!r})"
                    )
                )
            if not payer or len(payer) > 120:
                problems.append(CsvProblem(number, COLUMNS[2], "空か、120文字を超えています"))
            if len(memo) > 64:
                problems.append(CsvProblem(number, COLUMNS[3], "64文字を超えています"))
            if value_date is not None and amount is not None and payer and not problems:
                rows.append(StatementRow(number, value_date, amount, payer, memo))
    except csv.Error as exc:
        problems.append(CsvProblem(reader.line_num, "ファイル", f"CSV として読めません ({exc})"))
    if problems:
        raise BankStatementInvalid(problems)
    if not rows:
        raise BankStatementInvalid([CsvProblem(2, "明細", "入金の行がありません")])
    return rows


@dataclass(frozen=True)
class ImportResult:
    import_id: int
    rows: int
    matched: int
    review: int


def import_statement(
    session: Session, data: bytes, *, filename: str, staff_id: int | None
) -> ImportResult:
    """Validate, store and match a statement, all in the caller's transaction."""
    rows = parse_statement(data)
    digest = hashlib.sha256(data).hexdigest()
    if session.execute(
        select(BankStatementImport.id).where(BankStatementImport.file_sha256 == digest)
    ).scalar():
        raise StatementAlreadyImported("この明細ファイルは取り込み済みです")
    statement = BankStatementImport(
        file_sha256=digest, filename=filename[:200], row_count=len(rows), imported_by=staff_id
    )
    session.add(statement)
    session.flush()
    matched = 0
    for row in rows:
        transaction = BankTransaction(
            import_id=statement.id,
            row_number=row.row,
            value_date=row.value_date,
            amount=row.amount,
            payer_name=row.payer_name,
            payer_name_normalised=normalise_kana(row.payer_name)[:120],
            reference=row.memo,
            status=BankTransactionStatus.REVIEW,
        )
        session.add(transaction)
        session.flush()
        matched += match_transaction(session, transaction)
    return ImportResult(statement.id, len(rows), matched, len(rows) - matched)


def _open_invoice_by_reference(session: Session, reference: str) -> Invoice | None:
    return session.execute(
        select(Invoice).where(
            Invoice.payment_reference == reference, Invoice.kind == DocumentKind.INVOICE
        )
    ).scalar_one_or_none()


def match_transaction(session: Session, transaction: BankTransaction) -> bool:
    """Try to match one transfer; returns True if it was recorded as a payment."""
    for reference in references_in(transaction.payer_name, transaction.reference):
        invoice = _open_invoice_by_reference(session, reference)
        if invoice is None:
            continue
        owed = invoice_position(session, invoice.id).outstanding
        if owed != transaction.amount:
            return _review(
                transaction,
                f"参照番号 {reference}({invoice.number})の未入金額 {max(owed, 0):,}円 と"
                f"入金額 {transaction.amount:,}円 が一致しません",
                invoice.id,
            )
        return _accept(session, transaction, invoice)
    candidates = []
    shop_ids = [
        shop.id
        for shop in session.execute(select(Shop).where(Shop.business_name_kana != "")).scalars()
        if normalise_kana(shop.business_name_kana) == transaction.payer_name_normalised
    ]
    if shop_ids:
        for invoice in session.execute(
            select(Invoice)
            .where(Invoice.shop_id.in_(shop_ids), Invoice.kind == DocumentKind.INVOICE)
            .order_by(Invoice.id)
        ).scalars():
            if invoice_position(session, invoice.id).outstanding == transaction.amount:
                candidates.append(invoice)
    if len(candidates) == 1:
        return _accept(session, transaction, candidates[0])
    if len(candidates) > 1:
        numbers = "、".join(c.number for c in candidates[:5])
        return _review(transaction, f"金額と名義が一致する請求書が複数あります({numbers})")
    if shop_ids:
        return _review(transaction, "名義は一致しますが、金額が一致する未入金の請求書がありません")
    return _review(transaction, "参照番号も名義も一致する請求書がありません")


def _accept(session: Session, transaction: BankTransaction, invoice: Invoice) -> bool:
    payment = record_bank_transfer(
        session,
        invoice,
        transaction.amount,
        reference=f"bank:{transaction.id}",
        value_date=transaction.value_date,
    )
    transaction.status = BankTransactionStatus.MATCHED
    transaction.invoice_id = invoice.id
    transaction.payment_id = payment.id
    transaction.review_reason = ""
    session.flush()
    return True


def _review(transaction: BankTransaction, reason: str, invoice_id: int | None = None) -> bool:
    transaction.status = BankTransactionStatus.REVIEW
    transaction.review_reason = reason
    transaction.invoice_id = invoice_id
    return False


def resolve_to_invoice(session: Session, transaction_id: int, invoice_number: str) -> None:
    """Finance assigns a reviewed transfer to an invoice (never for more than is owed)."""
    transaction = _reviewable(session, transaction_id)
    invoice = session.execute(
        select(Invoice).where(
            Invoice.number == invoice_number.strip(), Invoice.kind == DocumentKind.INVOICE
        )
    ).scalar_one_or_none()
    if invoice is None:
        raise BillingError("請求書 {number} が見つかりません", number=invoice_number)
    _accept(session, transaction, invoice)
    transaction.status = BankTransactionStatus.RESOLVED
    session.flush()


def dismiss(session: Session, transaction_id: int, note: str) -> None:
    """Finance decides a transfer is not a payment to record (e.g. returned to the sender)."""
    if not note.strip():
        raise BillingError("対応内容のメモを入力してください")
    transaction = _reviewable(session, transaction_id)
    transaction.status = BankTransactionStatus.DISMISSED
    transaction.review_reason = f"{transaction.review_reason} / 対応: {note.strip()}"[:2000]
    session.flush()


def _reviewable(session: Session, transaction_id: int) -> BankTransaction:
    transaction = session.get(BankTransaction, transaction_id)
    if transaction is None or transaction.status is not BankTransactionStatus.REVIEW:
        raise BillingError("確認待ちの入金ではありません")
    return transaction


def review_queue(session: Session) -> list[BankTransaction]:
    return list(
        session.execute(
            select(BankTransaction)
            .where(BankTransaction.status == BankTransactionStatus.REVIEW)
            .order_by(BankTransaction.value_date, BankTransaction.id)
        ).scalars()
    )
