from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from billing.invoices import CreditDraft, LineDraft, issue_credit_note, issue_invoice
from billing.rendering import (
    html_to_pdf,
    invoice_body_html,
    invoice_documents,
    invoice_pdf,
    invoice_view,
    render_pdfs,
)
from tests.support.billing_world import ISSUER_NUMBER


def _invoice(session, make_shop, billing_config):  # type: ignore[no-untyped-def]
    shop = make_shop(business_name="鶴ヶ城そば処 あいづ庵")
    return issue_invoice(
        session,
        billing_config,
        shop_id=shop.id,
        lines=[
            LineDraft(
                "フィード内カード 2026年5月4日〜5月31日(4週 × 1枠)",
                44_000,
                quantity=4,
                service_start=date(2026, 5, 4),
                service_end=date(2026, 5, 31),
            )
        ],
        issue_date=date(2026, 5, 1),
    )


def test_html_has_every_qualified_invoice_item(session, make_shop, billing_config) -> None:
    invoice = _invoice(session, make_shop, billing_config)
    html = str(invoice_body_html(invoice_view(session, billing_config, invoice)))
    for required in (
        "適格請求書",
        "会津若松市 スマートシティ推進室",
        ISSUER_NUMBER,
        "2026年5月1日",
        "フィード内カード",
        "10%対象",
        "¥44,000",
        "¥40,000",
        "¥4,000",
        "鶴ヶ城そば処 あいづ庵 御中",
        "26000001",
    ):
        assert required in html, required
    assert "style=" not in html and "<script" not in html


def test_credit_note_names_the_original(session, make_shop, billing_config) -> None:
    invoice = _invoice(session, make_shop, billing_config)
    note = issue_credit_note(
        session,
        billing_config,
        original_invoice_id=invoice.id,
        credits=[CreditDraft(invoice.lines[0].id, 11_000)],
        reason="1週分のキャンセル",
        issue_date=date(2026, 5, 2),
    )
    html = str(invoice_body_html(invoice_view(session, billing_config, note)))
    assert "適格返還請求書" in html and invoice.number in html and "1週分のキャンセル" in html


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils missing")
def test_pdf_text_contains_the_japanese_shop_name(
    session, make_shop, billing_config, tmp_path: Path
) -> None:
    invoice = _invoice(session, make_shop, billing_config)
    pdf = invoice_pdf(invoice_view(session, billing_config, invoice))
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "invoice.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "鶴ヶ城そば処 あいづ庵" in text
    assert ISSUER_NUMBER in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True)
    assert "IPAexGothic" in fonts.stdout


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils missing")
def test_month_end_pdfs_render_in_worker_processes_in_order(
    session, make_shop, billing_config, tmp_path: Path
) -> None:
    invoices = [
        issue_invoice(
            session,
            billing_config,
            shop_id=make_shop(business_name=f"七日町 甘味処 {n}号店").id,
            lines=[LineDraft(f"サイドガジェット({n + 1}週)", 1_925 * (n + 1))],
            issue_date=date(2026, 5, 31),
        )
        for n in range(9)  # enough for render_pdfs to use its process pool
    ]
    documents = invoice_documents(session, billing_config, [i.id for i in reversed(invoices)])
    pdfs = render_pdfs(documents, workers=2)
    assert len(pdfs) == 9
    for n, pdf in zip(reversed(range(9)), pdfs, strict=True):
        path = tmp_path / f"{n}.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(path), "-"],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
        assert f"七日町 甘味処 {n}号店" in text and f"¥{1_925 * (n + 1):,}" in text
    assert html_to_pdf(documents[0]).startswith(b"%PDF")  # the same renderer, reused in-process
