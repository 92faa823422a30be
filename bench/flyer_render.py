"""Benchmark: turning a shop's flyer PDF into page images, per page, against references.

    .venv/bin/python bench/flyer_render.py [--pages 2] [--runs 5]

The flyer is made here with weasyprint: A4 pages dense with Japanese text (price boxes in
IPAexGothic) and four photo-like raster images per page, as a supermarket insert is. Each page
is rendered so that its long side is 2,000 px, as the upload path does. Figures are the median
of `--runs` runs, per page:

- pypdfium2 in process (what the sandbox child does, without its start-up),
- the whole upload path (`process_pdf`: child process start, structure scan with pikepdf,
  rendering, text extraction, then re-encoding and the thumbnail in the web worker),
- reference: poppler's `pdftoppm` at the same size (a C renderer, from poppler-utils),
- PyMuPDF in process, only when it happens to be installed (it is AGPL, so the project does not
  depend on it; install it in a scratch venv to compare).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import weasyprint
from PIL import Image

from marketplace.flyers.files import process_pdf
from marketplace.flyers.pdf_sandbox import RENDER_LONG_SIDE

A4_LONG_POINTS = 841.89


def photo(seed: int) -> str:
    """A noisy 900×600 JPEG (noise compresses like a photo, not like a flat colour)."""
    image = Image.effect_noise((900, 600), 60 + seed).convert("RGB")
    path = Path(tempfile.gettempdir()) / f"flyer-bench-{seed}.jpg"
    image.save(path, quality=85)
    return path.as_uri()


def flyer(pages: int) -> bytes:
    boxes = "".join(
        f'<div class="box"><b>会津産 白菜 {n}</b><br>1玉 <span class="price">{98 + n}円</span></div>'
        for n in range(24)
    )
    photos = "".join(f'<img src="{photo(n)}">' for n in range(4))
    body = "".join(
        f'<section class="page"><h1>冬の大感謝祭 {p + 1}面</h1>{photos}{boxes}</section>'
        for p in range(pages)
    )
    css = (
        "@page { size: A4; margin: 8mm } body { font-family: IPAexGothic } "
        ".page { page-break-after: always } img { width: 45%; margin: 1% } "
        ".box { display: inline-block; width: 23%; border: 1px solid #c00; margin: 2px; "
        "font-size: 9pt } .price { font-size: 16pt; color: #c00 }"
    )
    html = f"<html><head><style>{css}</style></head><body>{body}</body></html>"
    return bytes(weasyprint.HTML(string=html).write_pdf())


def median_seconds(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def pdfium_in_process(data: bytes) -> None:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    for index in range(len(document)):
        page = document[index]
        scale = RENDER_LONG_SIDE / max(page.get_size())
        page.render(scale=scale, may_draw_forms=False, draw_annots=False).to_pil()
        page.get_textpage().get_text_range()
    document.close()


def pymupdf_in_process(data: bytes) -> None:
    import pymupdf  # type: ignore[import-not-found]

    with pymupdf.open(stream=data, filetype="pdf") as document:
        for page in document:
            zoom = RENDER_LONG_SIDE / max(page.rect.width, page.rect.height)
            pixmap = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), annots=False)
            Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples)
            page.get_text()


def pdftoppm(path: Path, out: Path) -> None:
    subprocess.run(
        ["pdftoppm", "-r", str(round(RENDER_LONG_SIDE / A4_LONG_POINTS * 72)), "-png", path, out],
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data = flyer(args.pages)
    print(
        f"flyer: {args.pages} A4 pages, {len(data) / 1024:.0f} KiB, long side {RENDER_LONG_SIDE} px"
    )
    rows: list[tuple[str, float]] = [
        ("pypdfium2, in process", median_seconds(lambda: pdfium_in_process(data), args.runs)),
        ("upload path (sandbox + re-encode)", median_seconds(lambda: process_pdf(data), args.runs)),
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "flyer.pdf"
        path.write_bytes(data)
        if shutil.which("pdftoppm"):
            out = Path(folder) / "page"
            rows.append(
                ("reference: pdftoppm", median_seconds(lambda: pdftoppm(path, out), args.runs))
            )
    try:
        import pymupdf  # type: ignore[import-not-found]  # noqa: F401

        rows.append(
            ("PyMuPDF, in process", median_seconds(lambda: pymupdf_in_process(data), args.runs))
        )
    except ImportError:
        rows.append(("PyMuPDF: not installed (AGPL; not a dependency)", float("nan")))
    for name, seconds in rows:
        print(
            f"{name:<48} {seconds * 1000 / args.pages:8.0f} ms/page   {seconds * 1000:8.0f} ms/flyer"
        )
    print(f"cpu count {os.cpu_count()}; median of {args.runs} runs")


if __name__ == "__main__":
    main()
