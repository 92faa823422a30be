from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from marketplace.creatives.images import MAX_UPLOAD_BYTES, process_image
from marketplace.errors import InvalidInput
from tests.support.images import jpeg_with_exif, png_bytes


def test_valid_png_is_re_encoded_as_jpeg() -> None:
    result = process_image(png_bytes())
    assert result.content_type == "image/jpeg"
    assert (result.width, result.height) == (600, 314)
    assert Image.open(io.BytesIO(result.data)).format == "JPEG"
    assert len(result.sha256) == 64


def test_metadata_is_stripped() -> None:
    original = jpeg_with_exif()
    assert b"SecretCam" in original
    result = process_image(original)
    assert b"SecretCam" not in result.data
    assert b"private note" not in result.data
    assert not Image.open(io.BytesIO(result.data)).getexif()
    assert result.width == 1200


def test_large_images_are_scaled_down() -> None:
    result = process_image(png_bytes(2400, 1256))
    assert (result.width, result.height) == (1200, 628)


def test_transparency_is_kept_as_png() -> None:
    output = io.BytesIO()
    Image.new("RGBA", (600, 314), (0, 0, 0, 0)).save(output, format="PNG")
    assert process_image(output.getvalue()).content_type == "image/png"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"GIF89a not really",
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"%PDF-1.4 fake",
        png_bytes()[:200],  # truncated
    ],
)
def test_non_images_and_broken_images_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput) as error:
        process_image(data)
    assert error.value.field == "image"


def test_content_decides_not_the_name() -> None:
    # A GIF is refused even if it were uploaded as "banner.png".
    output = io.BytesIO()
    Image.new("RGB", (600, 314)).save(output, format="GIF")
    with pytest.raises(InvalidInput):
        process_image(output.getvalue())


def test_oversized_upload_is_refused() -> None:
    with pytest.raises(InvalidInput):
        process_image(b"\x89PNG" + b"0" * MAX_UPLOAD_BYTES)


@pytest.mark.parametrize(("width", "height"), [(200, 100), (600, 700), (1000, 300)])
def test_dimensions_and_aspect_are_checked(width: int, height: int) -> None:
    with pytest.raises(InvalidInput):
        process_image(png_bytes(width, height))


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims to be huge: a decompression bomb's header."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(InvalidInput) as error:
        process_image(_png_header_only(60_000, 30_000))
    assert "大きすぎ" in error.value.message
