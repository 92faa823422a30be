"""The child process that opens an uploaded PDF: checks it, renders its pages, reads its text.

A PDF is a program-like container written by a stranger: parsing and rendering it is where
decompression bombs, pathological page trees and parser bugs live. So the web worker never
does it. This module runs as `python -m marketplace.flyers.pdf_sandbox`, reads the file on
stdin, caps its own address space and CPU time before touching the file, and writes one JSON
line followed by the rendered pages (PNG) on stdout. The parent (`flyers.files`) kills it
after a wall-clock timeout and treats everything it prints as untrusted input.

Two libraries, each for what it does well: qpdf (pikepdf) reads the document structure, so
every object can be inspected for active content, including actions PDFium's API does not
expose (an /OpenAction script, /AA triggers); PDFium (pypdfium2) renders and extracts text.
"""

from __future__ import annotations

import io
import json
import resource
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

MEMORY_LIMIT_BYTES: Final = 1024 * 1024 * 1024
CPU_LIMIT_SECONDS: Final = 30
MAX_PAGES: Final = 8
# Every page is rendered so that its long side has this many pixels.
RENDER_LONG_SIDE: Final = 2000
# Page sizes in points (1/72 inch): from a postcard's short side to about A0's long side.
MIN_PAGE_POINTS: Final = 144
MAX_PAGE_POINTS: Final = 3400
MAX_PAGE_ASPECT: Final = 3.0
MAX_TEXT_CHARS: Final = 20_000
MAX_OBJECTS: Final = 200_000

# Action types that run something, reach outside the document or play media.
ACTIVE_ACTIONS: Final = {
    "/JavaScript": "javascript",
    "/Launch": "launch",
    "/SubmitForm": "form",
    "/ImportData": "form",
    "/ResetForm": "form",
    "/GoToR": "remote",
    "/GoToE": "embedded_file",
    "/Rendition": "media",
    "/Movie": "media",
    "/Sound": "media",
    "/RichMediaExecute": "media",
}
# Dictionary keys whose mere presence means active or embedded content.
ACTIVE_KEYS: Final = {
    "/JS": "javascript",
    "/JavaScript": "javascript",
    "/AA": "javascript",  # additional actions: triggers on open, close, page view, focus
    "/EmbeddedFiles": "embedded_file",
    "/EF": "embedded_file",  # a file specification carrying the file itself
    "/XFA": "form",
    "/RichMedia": "media",
    "/RichMediaContent": "media",
}
ACTIVE_ANNOTATIONS: Final = {
    "/FileAttachment": "embedded_file",
    "/Widget": "form",
    "/Screen": "media",
    "/Movie": "media",
    "/Sound": "media",
    "/RichMedia": "media",
    "/3D": "media",
}


class Refused(Exception):
    """The file is not an acceptable flyer; `code` names why (the parent words it)."""

    def __init__(self, code: str, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


@dataclass(frozen=True)
class RenderedPage:
    png: bytes
    text: str


def limit_resources() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT_SECONDS, CPU_LIMIT_SECONDS))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))


def _walk(root: Any) -> Iterator[Any]:
    """Every dictionary reachable from `root`, each indirect object once."""
    import pikepdf

    containers = (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)
    seen: set[tuple[int, int]] = set()
    stack = [root]
    visited = 0
    while stack:
        obj = stack.pop()
        if not isinstance(obj, containers):
            continue  # numbers, names, strings: nothing inside
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        visited += 1
        if visited > MAX_OBJECTS:
            raise Refused("too_complex")
        if isinstance(obj, pikepdf.Stream):
            obj = obj.stream_dict
        if isinstance(obj, pikepdf.Dictionary):
            yield obj
            stack.extend(obj[key] for key in obj.keys())  # noqa: SIM118 (pikepdf keys)
        else:
            stack.extend(obj)


def active_content(data: bytes) -> str | None:
    """Why the document is more than pages to look at (a code), or None when it is not."""
    import pikepdf

    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        return "encrypted"
    except pikepdf.PdfError:
        raise Refused("unreadable") from None
    with pdf:
        if pdf.is_encrypted:
            return "encrypted"
        root = pdf.Root
        acroform = root.get("/AcroForm")
        if acroform is not None and (len(acroform.get("/Fields", [])) or "/XFA" in acroform):
            return "form"
        open_action = root.get("/OpenAction")
        # An /OpenAction that is a destination (an array: "open at page 1, fit") is harmless.
        if isinstance(open_action, pikepdf.Dictionary) and open_action.get("/S") != "/GoTo":
            return ACTIVE_ACTIONS.get(str(open_action.get("/S")), "javascript")
        for dictionary in _walk(pdf.trailer):
            for key, code in ACTIVE_KEYS.items():
                if key in dictionary:
                    return code
            action = str(dictionary.get("/S", ""))
            if action in ACTIVE_ACTIONS:
                return ACTIVE_ACTIONS[action]
            if dictionary.get("/Type") == "/EmbeddedFile":
                return "embedded_file"
        # Annotations need not say /Type /Annot; a page's /Annots array is what makes them one.
        for page in pdf.pages:
            for annotation in page.obj.get("/Annots", []):
                subtype = str(annotation.get("/Subtype", ""))
                if subtype in ACTIVE_ANNOTATIONS:
                    return ACTIVE_ANNOTATIONS[subtype]
    return None


def render(data: bytes) -> list[RenderedPage]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise Refused("encrypted" if "password" in str(exc).lower() else "unreadable") from None
    try:
        count = len(document)
        if count == 0:
            raise Refused("no_pages")
        if count > MAX_PAGES:
            raise Refused("too_many_pages", pages=count, limit=MAX_PAGES)
        pages = []
        for index in range(count):
            page = document[index]
            try:
                pages.append(_render_page(page, index + 1))
            finally:
                page.close()
        return pages
    finally:
        document.close()


def _render_page(page: Any, number: int) -> RenderedPage:
    width, height = page.get_size()
    if min(width, height) < MIN_PAGE_POINTS or max(width, height) > MAX_PAGE_POINTS:
        raise Refused("page_size", page=number)
    if max(width, height) / min(width, height) > MAX_PAGE_ASPECT:
        raise Refused("page_aspect", page=number)
    scale = RENDER_LONG_SIDE / max(width, height)
    # Forms and annotations are not drawn: residents see the page content, which is exactly
    # what the text below was read from and what the reviewer approves.
    bitmap = page.render(scale=scale, may_draw_forms=False, draw_annots=False)
    image = bitmap.to_pil()
    output = io.BytesIO()
    # Uncompressed: the parent decodes and re-encodes it at once, and deflating a photo-dense
    # page cost more than rendering it (measured in bench/flyer_render.py).
    image.convert("RGB").save(output, format="PNG", compress_level=0)
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range().replace("\r\n", "\n")[:MAX_TEXT_CHARS]
    finally:
        textpage.close()
    return RenderedPage(output.getvalue(), text)


def process(data: bytes) -> list[RenderedPage]:
    if not data.lstrip(b"\x00\t\n\r ").startswith(b"%PDF-"):
        raise Refused("not_pdf")
    reason = active_content(data)
    if reason is not None:
        raise Refused(reason)
    return render(data)


def main() -> None:
    limit_resources()
    data = sys.stdin.buffer.read()
    out = sys.stdout.buffer
    try:
        pages = process(data)
    except Refused as exc:
        out.write(json.dumps({"error": exc.code, **exc.details}).encode() + b"\n")
        return
    except MemoryError:
        out.write(json.dumps({"error": "too_complex"}).encode() + b"\n")
        return
    header = {"pages": [{"bytes": len(p.png), "text": p.text} for p in pages]}
    out.write(json.dumps(header, ensure_ascii=False).encode() + b"\n")
    for page in pages:
        out.write(page.png)
    out.flush()


if __name__ == "__main__":
    main()
