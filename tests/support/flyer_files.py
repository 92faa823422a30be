"""Flyer PDFs made in the test (weasyprint, Japanese text in IPAexGothic), and hostile variants
of them made with pikepdf: no binary fixtures are committed."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import pikepdf
import weasyprint

PAGE_CSS = (
    "@page { size: A4; margin: 12mm } body { font-family: IPAexGothic } "
    "h1 { font-size: 36pt } .page { page-break-after: always } .page:last-child { page-break-after: auto }"
)


def flyer_pdf(pages: Sequence[str] = ("冬の大特売 白菜1玉198円", "営業時間 9:00〜20:00")) -> bytes:
    """A printed flyer as a shop would send it: one A4 page per text, the text as real text."""
    body = "".join(f'<div class="page"><h1>{text}</h1><p>{text}</p></div>' for text in pages)
    html = f"<html><head><style>{PAGE_CSS}</style></head><body>{body}</body></html>"
    return bytes(weasyprint.HTML(string=html).write_pdf())


def modified(data: bytes, change: Callable[[pikepdf.Pdf], None], **save: object) -> bytes:
    """The PDF with `change` applied to its object tree, saved again."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        change(pdf)
        output = io.BytesIO()
        pdf.save(output, **save)  # type: ignore[arg-type]
        return output.getvalue()
