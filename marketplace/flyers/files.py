"""A flyer's uploaded file(s) turned into clean page images and the text printed on them.

A PDF goes to a sandboxed child process (`pdf_sandbox`) that refuses active content and renders
each page; images go through the same checks as ad images (`creatives.images`). Either way every
page is decoded and re-encoded here from pixels alone, so what residents download is never a byte
the shop sent, and the child's output is checked like any other upload.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, Final

from PIL import Image

from marketplace.creatives.images import ProcessedImage, encode_pixels, open_checked
from marketplace.errors import InvalidInput, PayloadTooLarge
from marketplace.flyers import pdf_sandbox
from marketplace.flyers.pdf_sandbox import MAX_PAGES, RENDER_LONG_SIDE

FIELD: Final = "flyer_file"
SANDBOX_SCRIPT: Final = pdf_sandbox.__file__
MAX_UPLOAD_BYTES: Final = 7 * 1024 * 1024
MAX_PAGE_BYTES: Final = 1_500_000
THUMBNAIL_WIDTH: Final = 600
MAX_THUMBNAIL_BYTES: Final = 150_000
MIN_IMAGE_SIDE: Final = 600
MAX_IMAGE_ASPECT: Final = 3.0
SANDBOX_TIMEOUT_SECONDS: Final = 60
MAX_SANDBOX_OUTPUT: Final = 200 * 1024 * 1024

REFUSALS: Final = {
    "not_pdf": "PDFファイルとして読み取れません",
    "unreadable": "PDFファイルが壊れているため読み取れません。印刷用に保存し直してください",
    "encrypted": "パスワードや暗号化のかかったPDFは使えません。保護を外して保存し直してください",
    "javascript": "スクリプト(JavaScript)を含むPDFは使えません",
    "launch": "ほかのファイルやアプリを開く動作を含むPDFは使えません",
    "remote": "ほかのファイルを開く動作を含むPDFは使えません",
    "embedded_file": "ファイルを埋め込んだPDFは使えません",
    "form": "入力フォームを含むPDFは使えません。印刷用のPDFにしてください",
    "media": "動画や音声を含むPDFは使えません",
    "no_pages": "PDFにページがありません",
    "too_many_pages": "チラシは{limit}ページまでです(このPDFは{pages}ページ)",
    "page_size": "{page}ページ目の大きさが扱える範囲外です(はがき〜A0判)",
    "page_aspect": "{page}ページ目が細長すぎます(縦横比は3:1まで)",
    "too_complex": "PDFが複雑すぎて表示用の画像にできません。画像(JPEG・PNG)で登録してください",
}


@dataclass(frozen=True)
class PageFile:
    image: ProcessedImage
    text: str  # the text printed on the page, when the file carries it ("" for images)


@dataclass(frozen=True)
class FlyerFile:
    pages: tuple[PageFile, ...]
    thumbnail: ProcessedImage  # the first page, small: the feed card and the review list

    @property
    def text(self) -> str:
        return "\n".join(page.text for page in self.pages)


def _bad(template: str, **params: object) -> InvalidInput:
    return InvalidInput(template, field=FIELD, **params)


class SandboxFailed(Exception):
    """The child process crashed, overran its limits or printed something malformed."""


def render_pdf(data: bytes) -> list[tuple[bytes, str]]:
    """Run the sandbox on a PDF: (PNG, text) per page, or InvalidInput saying what is wrong."""
    # Isolated mode, a bare environment, the module run as a file: it imports only the
    # standard library and the two PDF libraries, nothing of the application or its secrets.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    try:
        completed = subprocess.run(
            [sys.executable, "-I", SANDBOX_SCRIPT],
            input=data,
            capture_output=True,
            timeout=SANDBOX_TIMEOUT_SECONDS,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise _bad(REFUSALS["too_complex"]) from None
    try:
        return _read_output(completed.stdout)
    except SandboxFailed:
        # Killed by its memory or CPU limit, or crashed inside the renderer: the file is at
        # fault either way, and the shop can still send its pages as images.
        raise _bad(REFUSALS["too_complex"]) from None


def _read_output(stdout: bytes) -> list[tuple[bytes, str]]:
    if len(stdout) > MAX_SANDBOX_OUTPUT:
        raise SandboxFailed("output too large")
    line, _, rest = stdout.partition(b"\n")
    try:
        header: Any = json.loads(line)
    except ValueError:
        raise SandboxFailed("no header") from None
    if not isinstance(header, dict):
        raise SandboxFailed("header is not an object")
    error = header.get("error")
    if error is not None:
        template = REFUSALS.get(str(error))
        if template is None:
            raise SandboxFailed(f"unknown refusal {error!r}")
        params = {k: v for k, v in header.items() if k in ("page", "pages", "limit")}
        raise _bad(template, **{"limit": MAX_PAGES, **params})
    pages = header.get("pages")
    if not isinstance(pages, list) or not 1 <= len(pages) <= MAX_PAGES:
        raise SandboxFailed("bad page list")
    result: list[tuple[bytes, str]] = []
    offset = 0
    for page in pages:
        size, text = page.get("bytes"), page.get("text")
        if not isinstance(size, int) or size <= 0 or not isinstance(text, str):
            raise SandboxFailed("bad page entry")
        result.append((rest[offset : offset + size], text))
        offset += size
    if offset != len(rest):
        raise SandboxFailed("page sizes do not add up")
    return result


def _clean_page(image: Image.Image) -> ProcessedImage:
    """A page scaled to the rendering size (never up) and re-encoded as JPEG."""
    page = image.convert("RGB")
    scale = RENDER_LONG_SIDE / max(page.size)
    if scale < 1:
        page = page.resize(
            (max(1, round(page.width * scale)), max(1, round(page.height * scale))),
            Image.Resampling.LANCZOS,
        )
    return encode_pixels(page, False, MAX_PAGE_BYTES, FIELD)


def _thumbnail(first: ProcessedImage) -> ProcessedImage:
    image = Image.open(io.BytesIO(first.data)).convert("RGB")
    height = max(1, round(image.height * THUMBNAIL_WIDTH / image.width))
    small = image.resize((THUMBNAIL_WIDTH, height), Image.Resampling.LANCZOS)
    return encode_pixels(small, False, MAX_THUMBNAIL_BYTES, FIELD)


def _flyer(pages: list[PageFile]) -> FlyerFile:
    return FlyerFile(tuple(pages), _thumbnail(pages[0].image))


def _check_total(sizes: list[int]) -> None:
    if sum(sizes) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(
            "チラシのファイルは合計{limit}MB以内にしてください",
            field=FIELD,
            limit=MAX_UPLOAD_BYTES // (1024 * 1024),
        )


def process_pdf(data: bytes) -> FlyerFile:
    """Validate a flyer PDF and return its pages as clean images with their text."""
    if not data:
        raise _bad("チラシのファイルを選んでください")
    _check_total([len(data)])
    pages = []
    for png, text in render_pdf(data):
        try:
            image = open_checked(png, FIELD)
        except InvalidInput:
            raise _bad(REFUSALS["too_complex"]) from None
        pages.append(PageFile(_clean_page(image), _clean_text(text)))
    return _flyer(pages)


def process_images(files: list[bytes]) -> FlyerFile:
    """Validate flyer pages sent as images (a photo or scan per page), in the order given."""
    files = [data for data in files if data]
    if not files:
        raise _bad("チラシのファイルを選んでください")
    if len(files) > MAX_PAGES:
        raise _bad("チラシは{limit}ページまでです", limit=MAX_PAGES)
    _check_total([len(data) for data in files])
    pages = []
    for number, data in enumerate(files, start=1):
        image = open_checked(data, FIELD)
        if min(image.size) < MIN_IMAGE_SIDE:
            raise _bad(
                "{page}枚目の画像が小さすぎます(縦横とも{side}px以上)",
                page=number,
                side=MIN_IMAGE_SIDE,
            )
        if max(image.size) / min(image.size) > MAX_IMAGE_ASPECT:
            raise _bad("{page}枚目の画像が細長すぎます(縦横比は3:1まで)", page=number)
        pages.append(PageFile(_clean_page(image), ""))
    return _flyer(pages)


def _clean_text(text: str) -> str:
    return "".join(ch for ch in text if ch in "\n\t" or ch >= " ").strip()


def is_pdf(data: bytes) -> bool:
    return data.lstrip(b"\x00\t\n\r ").startswith(b"%PDF-")


def process_upload(files: list[bytes]) -> FlyerFile:
    """One PDF, or one or more images, whatever their names or declared types say."""
    files = [data for data in files if data]
    if files and any(is_pdf(data) for data in files):
        if len(files) > 1:
            raise _bad("PDFは1つだけ選んでください(画像と混ぜることはできません)")
        return process_pdf(files[0])
    return process_images(files)
