"""Flyer uploads: a PDF is rendered page by page with its text; images become pages."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from marketplace.errors import InvalidInput, PayloadTooLarge
from marketplace.flyers.files import (
    MAX_UPLOAD_BYTES,
    THUMBNAIL_WIDTH,
    process_images,
    process_pdf,
    process_upload,
)
from marketplace.flyers.pdf_sandbox import MAX_PAGES, RENDER_LONG_SIDE
from tests.support.flyer_files import flyer_pdf
from tests.support.images import jpeg_with_exif, png_bytes


def test_a_two_page_pdf_becomes_two_clean_pages_with_their_text() -> None:
    flyer = process_pdf(flyer_pdf(["冬の大特売 白菜1玉198円", "営業時間 9:00〜20:00"]))
    assert len(flyer.pages) == 2
    first, second = flyer.pages
    assert "白菜1玉198円" in first.text and "営業時間" in second.text
    for page in flyer.pages:
        assert page.image.content_type == "image/jpeg"
        assert max(page.image.width, page.image.height) == RENDER_LONG_SIDE
        assert page.image.height > page.image.width  # A4 portrait stays portrait
        decoded = Image.open(io.BytesIO(page.image.data))
        assert decoded.size == (page.image.width, page.image.height)
        # Rendered, not blank: the heading's ink is on the page.
        assert decoded.convert("L").getextrema()[0] < 100
    assert flyer.thumbnail.width == THUMBNAIL_WIDTH
    assert "白菜" in flyer.text and "営業時間" in flyer.text


def test_images_become_pages_in_order_without_their_metadata() -> None:
    photo = jpeg_with_exif(1200, 1700)
    flyer = process_upload([png_bytes(800, 1100, "red"), photo])
    assert [p.text for p in flyer.pages] == ["", ""]
    first = Image.open(io.BytesIO(flyer.pages[0].image.data)).convert("RGB")
    assert first.getpixel((10, 10))[0] > 200  # the red page came first
    assert (
        b"SecretCam" not in flyer.pages[1].image.data and b"Exif" not in flyer.pages[1].image.data
    )


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([], "チラシのファイルを選んでください"),
        ([png_bytes(500, 700)], "小さすぎます"),
        ([png_bytes(600, 2000)], "細長すぎます"),
        ([b"not an image at all"], "画像ファイルとして読み取れません"),
        ([png_bytes(800, 1000)] * (MAX_PAGES + 1), "ページまでです"),
    ],
)
def test_bad_image_pages_are_refused_with_a_reason(files: list[bytes], message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as error:
        process_images(files)
    assert error.value.field == "flyer_file"


def test_a_pdf_cannot_be_mixed_with_images() -> None:
    with pytest.raises(InvalidInput, match="PDFは1つだけ"):
        process_upload([flyer_pdf(["a"]), png_bytes(800, 1000)])


def test_uploads_over_the_size_limit_are_refused_before_rendering() -> None:
    with pytest.raises(PayloadTooLarge):
        process_pdf(b"%PDF-1.7\n" + b"0" * MAX_UPLOAD_BYTES)


def test_a_pdf_with_more_pages_than_allowed_is_refused() -> None:
    with pytest.raises(InvalidInput, match=f"{MAX_PAGES}ページまで"):
        process_pdf(flyer_pdf([f"{n}ページ" for n in range(MAX_PAGES + 1)]))
