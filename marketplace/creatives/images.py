"""Creative images, validated by their content rather than their name or declared type.

The upload is parsed by Pillow, checked (format, pixel count before decoding, dimensions,
aspect), fully decoded, then re-encoded from pixels alone: EXIF, GPS, ICC and comments never
reach residents. Decompression bombs are refused before any pixel is decoded; polyglots (data
after the image's end, or markup inside it) are refused too (`image_containers`).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import Final

from PIL import Image, UnidentifiedImageError

from marketplace.creatives.image_containers import polyglot_reason
from marketplace.errors import InvalidInput, PayloadTooLarge

MAX_UPLOAD_BYTES: Final = 2 * 1024 * 1024
MAX_PIXELS: Final = 16_000_000
MAX_SIDE: Final = 4096
MIN_WIDTH: Final = 300
MIN_HEIGHT: Final = 150
# Re-encoded images are at most this wide; larger uploads are scaled down.
OUTPUT_MAX_WIDTH: Final = 1200
MAX_STORED_BYTES: Final = 400_000
ALLOWED_FORMATS: Final = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MIN_ASPECT: Final = 1.0
MAX_ASPECT: Final = 2.5


@dataclass(frozen=True)
class ProcessedImage:
    data: bytes
    content_type: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def aspect(self) -> float:
        return self.width / self.height


def _bad(template: str, field: str = "image", **params: object) -> InvalidInput:
    return InvalidInput(template, field=field, **params)


def open_checked(data: bytes, field: str = "image") -> Image.Image:
    """The decoded image, or InvalidInput (for `field`) when the file is not a clean image."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ALLOWED_FORMATS:
                raise _bad("画像は JPEG・PNG・WebP のいずれかにしてください", field)
            width, height = probe.size
            if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
                raise _bad("画像の縦横が大きすぎます(一辺{side}px以内)", field, side=MAX_SIDE)
            probe.verify()
            # verify() leaves the file unusable; reopen and decode the pixels for real.
            image = Image.open(io.BytesIO(data))
            image.load()
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise _bad("画像の縦横が大きすぎます(一辺{side}px以内)", field, side=MAX_SIDE) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise _bad("画像ファイルとして読み取れません", field) from None
    # A readable image that is also something else (a page or an archive appended, markup in
    # a chunk): refused, not just re-encoded, so no such file is ever accepted or stored.
    if polyglot_reason(data, str(image.format)) is not None:
        raise _bad(
            "画像以外のデータを含むファイルは使えません。画像として保存し直してください", field
        )
    return image


def process_image(data: bytes) -> ProcessedImage:
    """Validate an uploaded image and return a clean re-encoded copy; raise InvalidInput."""
    if not data:
        raise _bad("画像を選んでください")
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(
            "画像は{limit}MB以内にしてください",
            field="image",
            limit=MAX_UPLOAD_BYTES // (1024 * 1024),
        )
    image = open_checked(data)
    width, height = image.size
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        raise _bad("画像が小さすぎます(幅{w}px・高さ{h}px以上)", w=MIN_WIDTH, h=MIN_HEIGHT)
    if not MIN_ASPECT <= width / height <= MAX_ASPECT:
        raise _bad("画像の縦横比は 1:1 〜 2.5:1 の横長にしてください")
    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    clean = image.convert("RGBA" if has_alpha else "RGB")
    if width > OUTPUT_MAX_WIDTH:
        clean = clean.resize(
            (OUTPUT_MAX_WIDTH, round(height * OUTPUT_MAX_WIDTH / width)), Image.Resampling.LANCZOS
        )
    return encode_pixels(clean, has_alpha)


def encode_pixels(
    image: Image.Image, has_alpha: bool, max_bytes: int = MAX_STORED_BYTES, field: str = "image"
) -> ProcessedImage:
    """A clean copy (PNG with transparency, else the best JPEG within `max_bytes`)."""
    # A new image from pixels only: no EXIF, ICC profile, text chunks or comments survive.
    pixels = Image.new(image.mode, image.size)
    pixels.paste(image)
    if has_alpha:
        output = io.BytesIO()
        pixels.save(output, format="PNG", optimize=True)
        data, content_type = output.getvalue(), "image/png"
    else:
        data, content_type = b"", "image/jpeg"
        for quality in (85, 75, 65, 55):
            output = io.BytesIO()
            pixels.save(output, format="JPEG", quality=quality, optimize=True, progressive=True)
            data = output.getvalue()
            if len(data) <= max_bytes:
                break
    if len(data) > max_bytes:
        raise _bad("画像の容量が大きすぎます。より単純な画像にしてください", field)
    return ProcessedImage(data, content_type, pixels.width, pixels.height)
