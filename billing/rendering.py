"""Qualified invoices as HTML (for the shop's page) and PDF (weasyprint, IPAexGothic).

The document body is one template shared by both; the page wraps it in the portal's layout,
and the PDF wraps it in a minimal document with the print stylesheet.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.config import BillingConfig
from billing.models import Invoice
from billing.payments import InvoicePosition, invoice_position

TEMPLATES = Path(__file__).parent / "templates"
PRINT_CSS = TEMPLATES / "invoice.css"


@dataclass(frozen=True)
class InvoiceView:
    invoice: Invoice
    original_number: str | None
    position: InvoicePosition
    bank_account: str


@cache
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape())
    env.filters["yen"] = lambda amount: f"¥{amount:,}"
    env.filters["jdate"] = lambda d: f"{d.year}年{d.month}月{d.day}日" if d else "—"
    return env


def invoice_view(session: Session, config: BillingConfig, invoice: Invoice) -> InvoiceView:
    original = (
        session.get(Invoice, invoice.original_invoice_id) if invoice.original_invoice_id else None
    )
    return InvoiceView(
        invoice=invoice,
        original_number=original.number if original else None,
        position=invoice_position(session, original.id if original else invoice.id),
        bank_account=config.bank_account,
    )


def invoice_body_html(view: InvoiceView) -> Markup:
    """The invoice document itself, without page chrome (no inline styles or scripts)."""
    return Markup(_environment().get_template("invoice.html").render(v=view))


def invoice_document(view: InvoiceView) -> str:
    """A standalone HTML document for the PDF (plain text: can be sent to another process)."""
    return (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        f"<title>{view.invoice.number}</title></head><body>{invoice_body_html(view)}</body></html>"
    )


def invoice_documents(
    session: Session, config: BillingConfig, invoice_ids: Sequence[int]
) -> list[str]:
    """The PDF documents of issued invoices, in the order of `invoice_ids`.

    Issued invoices never change, so this runs after the issuing transaction has committed
    (month-end keeps its transaction short and renders PDFs with no database at all)."""
    invoices = {
        i.id: i for i in session.scalars(select(Invoice).where(Invoice.id.in_(invoice_ids)))
    }
    return [invoice_document(invoice_view(session, config, invoices[i])) for i in invoice_ids]


def html_to_pdf(document: str) -> bytes:
    html, renderer = _renderer()
    pdf: bytes = html(string=document).write_pdf(**renderer)
    return pdf


def invoice_pdf(view: InvoiceView) -> bytes:
    return html_to_pdf(invoice_document(view))


def render_pdfs(documents: Sequence[str], workers: int | None = None) -> list[bytes]:
    """Render many invoice documents, in parallel processes when there are enough of them.

    Each process parses the print stylesheet and loads the fonts once (`_renderer`), not once
    per document. The caller should have committed first: rendering needs no database.
    """
    workers = workers or os.cpu_count() or 1
    if workers <= 1 or len(documents) < 8:
        return [html_to_pdf(d) for d in documents]
    import weasyprint  # noqa: F401  with the fork start method the workers inherit the import

    chunk = max(1, len(documents) // (workers * 4))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(html_to_pdf, documents, chunksize=chunk))


_local = threading.local()


def _renderer() -> tuple[Any, dict[str, Any]]:
    """weasyprint's HTML class and write options with one FontConfiguration and one parsed
    stylesheet per thread (weasyprint objects are not shared across threads)."""
    cached = getattr(_local, "renderer", None)
    if cached is None or cached[2] != os.getpid():
        from weasyprint import CSS, HTML  # heavy import, only when a PDF is made
        from weasyprint.text.fonts import FontConfiguration

        fonts = FontConfiguration()
        options = {
            "stylesheets": [CSS(filename=str(PRINT_CSS), font_config=fonts)],
            "font_config": fonts,
        }
        cached = _local.renderer = (HTML, options, os.getpid())
    return cached[0], cached[1]
