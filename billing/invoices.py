"""Issuing qualified invoices and credit notes, and posting them to the ledger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing import ledger
from billing.config import BillingConfig
from billing.errors import BillingError, CreditExceedsInvoice, InvoiceNotFound
from billing.models import DocumentKind, Invoice, InvoiceLine, InvoiceTaxTotal, PaymentMethod
from billing.money import allocate, check_yen
from billing.numbering import (
    CREDIT_NOTE_SERIES,
    INVOICE_SERIES,
    format_number,
    payment_reference,
    take_number,
)
from billing.tax import STANDARD_RATE, RoundingMode, TaxLine, split_tax_included, tax_included_in
from marketplace.business_days import next_business_day
from marketplace.calendar import fiscal_year
from marketplace.models import Shop


@dataclass(frozen=True)
class LineDraft:
    description: str
    amount: int  # tax included
    quantity: int = 1
    tax_rate_percent: int = STANDARD_RATE
    booking_id: int | None = None
    service_start: date | None = None
    service_end: date | None = None


@dataclass(frozen=True)
class CreditDraft:
    """Credit `amount` (tax included) of an original line, for the service days it covers."""

    original_line_id: int
    amount: int
    service_start: date | None = None
    service_end: date | None = None


def _line_taxables(drafts: Sequence[LineDraft], taxable_by_rate: dict[int, int]) -> list[int]:
    # Each rate's taxable amount is spread over its lines by largest remainder, so the lines'
    # shares add up exactly to the once-rounded figure on the invoice.
    result = [0] * len(drafts)
    for rate, taxable in taxable_by_rate.items():
        indexes = [i for i, d in enumerate(drafts) if d.tax_rate_percent == rate]
        weights = [drafts[i].amount for i in indexes]
        shares = allocate(taxable, weights) if sum(weights) else [0] * len(indexes)
        for index, share in zip(indexes, shares, strict=True):
            result[index] = share
    return result


def _validate(drafts: Sequence[LineDraft]) -> None:
    if not drafts:
        raise BillingError("請求書には明細が1行以上必要です")
    for draft in drafts:
        check_yen(draft.amount, field="明細金額")
        if not draft.description.strip():
            raise BillingError("明細の内容が空です")
        if (draft.service_start is None) != (draft.service_end is None):
            raise BillingError("役務提供期間は開始日と終了日の両方が必要です")
        if draft.service_start and draft.service_end and draft.service_end < draft.service_start:
            raise BillingError("役務提供期間の終了日が開始日より前です")


def _write_document(
    session: Session,
    *,
    kind: DocumentKind,
    shop: Shop,
    drafts: Sequence[LineDraft],
    taxes: dict[int, tuple[int, int, int]],  # rate → (total, taxable, tax)
    config: BillingConfig,
    issue_date: date,
    payment_method: PaymentMethod,
    booking_id: int | None,
    due_date: date | None,
    original_invoice_id: int | None = None,
    credited_line_ids: Sequence[int | None] | None = None,
    reason: str = "",
) -> Invoice:
    issuer = config.issuer()
    if kind is DocumentKind.INVOICE:
        config.payment_account()
    year = fiscal_year(issue_date)
    series = INVOICE_SERIES if kind is DocumentKind.INVOICE else CREDIT_NOTE_SERIES
    sequence = take_number(session, series, year)
    starts = [d.service_start for d in drafts if d.service_start]
    ends = [d.service_end for d in drafts if d.service_end]
    invoice = Invoice(
        kind=kind,
        series=series,
        fiscal_year=year,
        sequence=sequence,
        number=format_number(series, year, sequence),
        shop_id=shop.id,
        booking_id=booking_id,
        original_invoice_id=original_invoice_id,
        issue_date=issue_date,
        period_start=min(starts) if starts else None,
        period_end=max(ends) if ends else None,
        due_date=due_date,
        issuer_name=issuer.name,
        issuer_registration_number=issuer.registration_number,
        recipient_name=shop.business_name,
        recipient_registration_number=shop.invoice_registration_number,
        rounding_mode=config.rounding.value,
        total=sum(t[0] for t in taxes.values()),
        taxable=sum(t[1] for t in taxes.values()),
        tax=sum(t[2] for t in taxes.values()),
        payment_reference=payment_reference(year, sequence)
        if kind is DocumentKind.INVOICE
        else None,
        payment_method=payment_method,
        reason=reason,
    )
    session.add(invoice)
    session.flush()
    session.add_all(
        InvoiceTaxTotal(invoice_id=invoice.id, rate_percent=rate, total=t, taxable=tb, tax=tx)
        for rate, (t, tb, tx) in taxes.items()
    )
    line_taxables = _line_taxables(drafts, {rate: t[1] for rate, t in taxes.items()})
    lines = []
    for position, (draft, taxable) in enumerate(zip(drafts, line_taxables, strict=True), 1):
        line = InvoiceLine(
            invoice_id=invoice.id,
            position=position,
            description=draft.description[:200],
            quantity=draft.quantity,
            amount=draft.amount,
            tax_rate_percent=draft.tax_rate_percent,
            taxable=taxable,
            booking_id=draft.booking_id,
            service_start=draft.service_start,
            service_end=draft.service_end,
            credited_line_id=credited_line_ids[position - 1] if credited_line_ids else None,
        )
        lines.append(line)
    session.add_all(lines)
    session.flush()
    session.refresh(invoice)
    _post(session, invoice, lines)
    return invoice


def _post(session: Session, invoice: Invoice, lines: Sequence[InvoiceLine]) -> None:
    # Invoice: receivable up, deferred revenue and tax payable up. A credit note mirrors it.
    sign = 1 if invoice.kind is DocumentKind.INVOICE else -1
    legs = [ledger.Leg(ledger.receivable(invoice.shop_id), sign * invoice.total)]
    legs += [
        ledger.Leg(
            ledger.DEFERRED_REVENUE,
            -sign * line.taxable,
            booking_id=line.booking_id,
            invoice_line_id=line.id,
        )
        for line in lines
        if line.taxable
    ]
    if invoice.tax:
        legs.append(ledger.Leg(ledger.TAX_PAYABLE, -sign * invoice.tax))
    label = "請求書" if sign == 1 else "返金伝票"
    ledger.post(
        session,
        kind=invoice.kind.value,
        description=f"{label} {invoice.number} {invoice.recipient_name}",
        posted_on=invoice.issue_date,
        legs=legs,
        key=f"document:{invoice.id}",
        invoice_id=invoice.id,
        booking_id=invoice.booking_id,
    )


def issue_invoice(
    session: Session,
    config: BillingConfig,
    *,
    shop_id: int,
    lines: Sequence[LineDraft],
    issue_date: date,
    payment_method: PaymentMethod = PaymentMethod.BANK_TRANSFER,
    booking_id: int | None = None,
    due_date: date | None = None,
) -> Invoice:
    """Issue a qualified invoice; the tax is computed once per rate over the whole invoice."""
    _validate(lines)
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise BillingError("店舗 {shop_id} が見つかりません", shop_id=shop_id)
    breakdown = split_tax_included(
        (TaxLine(d.amount, d.tax_rate_percent) for d in lines), config.rounding
    )
    if breakdown.total <= 0:
        raise BillingError("請求金額が0円の請求書は発行できません")
    return _write_document(
        session,
        kind=DocumentKind.INVOICE,
        shop=shop,
        drafts=lines,
        taxes={r.rate_percent: (r.total, r.taxable, r.tax) for r in breakdown.rates},
        config=config,
        issue_date=issue_date,
        payment_method=payment_method,
        booking_id=booking_id,
        due_date=due_date or next_business_day(issue_date + timedelta(days=config.due_days)),
    )


def credited_so_far(session: Session, line_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Per original line: (tax-included amount, taxable amount) already credited."""
    rows = session.execute(
        select(
            InvoiceLine.credited_line_id,
            func.sum(InvoiceLine.amount),
            func.sum(InvoiceLine.taxable),
        )
        .where(InvoiceLine.credited_line_id.in_(line_ids))
        .group_by(InvoiceLine.credited_line_id)
    ).all()
    return {int(lid): (int(a), int(t)) for lid, a, t in rows}


def credit_remaining(session: Session, invoice: Invoice) -> int:
    """What can still be credited on an invoice (tax included)."""
    credited = credited_so_far(session, [line.id for line in invoice.lines])
    return sum(line.amount - credited.get(line.id, (0, 0))[0] for line in invoice.lines)


def issue_credit_note(
    session: Session,
    config: BillingConfig,
    *,
    original_invoice_id: int,
    credits: Sequence[CreditDraft],
    reason: str,
    issue_date: date,
) -> Invoice:
    """Issue a credit note (返還インボイス) against lines of an issued invoice.

    The tax per rate is rounded once on the credit note; it never credits more than remains on
    a line, and crediting what remains of a rate returns exactly the tax that remains.
    """
    original = session.get(Invoice, original_invoice_id)
    if original is None or original.kind is not DocumentKind.INVOICE:
        raise InvoiceNotFound(
            "請求書 {invoice_id} が見つかりません", invoice_id=original_invoice_id
        )
    if not credits:
        raise BillingError("返金伝票には明細が1行以上必要です")
    by_id = {line.id: line for line in original.lines}
    credited = credited_so_far(session, list(by_id))
    drafts: list[LineDraft] = []
    requested: dict[int, int] = {}
    for credit in credits:
        line = by_id.get(credit.original_line_id)
        if line is None:
            raise BillingError(
                "明細 {line_id} はこの請求書にありません", line_id=credit.original_line_id
            )
        check_yen(credit.amount, field="返金額")
        requested[line.id] = requested.get(line.id, 0) + credit.amount
        if (
            credit.amount <= 0
            or requested[line.id] + credited.get(line.id, (0, 0))[0] > line.amount
        ):
            raise CreditExceedsInvoice(
                "明細「{line}」の返金額が請求額の残り({remaining:,}円)を超えています",
                line=line.description,
                remaining=line.amount - credited.get(line.id, (0, 0))[0],
            )
        drafts.append(
            LineDraft(
                description=f"返金: {line.description}"[:200],
                amount=credit.amount,
                tax_rate_percent=line.tax_rate_percent,
                booking_id=line.booking_id,
                service_start=credit.service_start,
                service_end=credit.service_end,
            )
        )
    _validate(drafts)
    taxes = _credit_taxes(session, original, drafts, credited, config.rounding)
    shop = session.get(Shop, original.shop_id)
    assert shop is not None
    return _write_document(
        session,
        kind=DocumentKind.CREDIT_NOTE,
        shop=shop,
        drafts=drafts,
        taxes=taxes,
        config=config,
        issue_date=issue_date,
        payment_method=original.payment_method,
        booking_id=original.booking_id,
        due_date=None,
        original_invoice_id=original.id,
        credited_line_ids=[c.original_line_id for c in credits],
        reason=reason.strip()[:500],
    )


def _credit_taxes(
    session: Session,
    original: Invoice,
    drafts: Sequence[LineDraft],
    credited: dict[int, tuple[int, int]],
    mode: RoundingMode,
) -> dict[int, tuple[int, int, int]]:
    taxes: dict[int, tuple[int, int, int]] = {}
    for summary in original.tax_totals:
        rate = summary.rate_percent
        total = sum(d.amount for d in drafts if d.tax_rate_percent == rate)
        if total == 0:
            continue
        lines = [line for line in original.lines if line.tax_rate_percent == rate]
        done_total = sum(credited.get(line.id, (0, 0))[0] for line in lines)
        done_taxable = sum(credited.get(line.id, (0, 0))[1] for line in lines)
        remaining_total = summary.total - done_total
        remaining_tax = summary.tax - (done_total - done_taxable)
        if total == remaining_total:
            tax = remaining_tax  # the last credit returns exactly what remains
        else:
            tax = min(tax_included_in(total, rate, mode), remaining_tax)
            tax = max(tax, total - (remaining_total - remaining_tax))
        taxes[rate] = (total, total - tax, tax)
    return taxes
