"""Where an image ends, from its container: the basis of the upload's polyglot refusal."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

from marketplace.creatives.image_containers import MalformedContainer, image_end, polyglot_reason

ENCODINGS = [
    ("PNG", "RGB", {}),
    ("PNG", "RGBA", {"optimize": True}),
    ("JPEG", "RGB", {"quality": 90}),
    ("JPEG", "RGB", {"quality": 80, "progressive": True, "optimize": True}),
    ("WEBP", "RGB", {}),
    ("WEBP", "RGBA", {"lossless": True}),
]


def encoded(image_format: str, mode: str, options: dict[str, object]) -> bytes:
    # Noise, so compressed data holds every byte value (0xFF stuffing, restart-like bytes).
    image = Image.frombytes(mode, (320, 200), os.urandom(320 * 200 * len(mode)))
    output = io.BytesIO()
    image.save(output, format=image_format, **options)
    return output.getvalue()


@pytest.mark.parametrize(("image_format", "mode", "options"), ENCODINGS)
def test_an_encoders_own_output_ends_where_the_file_ends(
    image_format: str, mode: str, options: dict[str, object]
) -> None:
    data = encoded(image_format, mode, options)
    assert image_end(data, image_format) == len(data)
    assert polyglot_reason(data, image_format) is None


@pytest.mark.parametrize(("image_format", "mode", "options"), ENCODINGS)
def test_bytes_after_the_end_are_found_and_counted(
    image_format: str, mode: str, options: dict[str, object]
) -> None:
    data = encoded(image_format, mode, options)
    assert polyglot_reason(data + b"PK\x03\x04 an archive", image_format) == (
        "15 bytes after the end of the image"
    )
    assert polyglot_reason(data + b"\x00" * 8, image_format) is None  # zero padding is not data


def test_a_truncated_file_is_malformed() -> None:
    data = encoded("PNG", "RGB", {})
    with pytest.raises(MalformedContainer, match="IEND"):
        image_end(data[:-12], "PNG")
    jpeg = encoded("JPEG", "RGB", {})
    with pytest.raises(MalformedContainer):
        image_end(jpeg[:-2], "JPEG")
    assert polyglot_reason(b"GIF89a", "PNG") == "not a PNG signature"


def test_markup_anywhere_in_the_file_is_found() -> None:
    data = encoded("JPEG", "RGB", {})
    comment = b"<?php echo 1; ?>"
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment  # a COM segment
    hidden = data[:2] + segment + data[2:]
    assert image_end(hidden, "JPEG") == len(hidden)
    assert polyglot_reason(hidden, "JPEG") == "markup inside the image"
