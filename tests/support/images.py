"""Images built in memory for tests."""

from __future__ import annotations

import io

from PIL import Image


def png_bytes(width: int = 600, height: int = 314, color: str = "orange", **save: object) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (width, height), color).save(output, format="PNG", **save)
    return output.getvalue()


def jpeg_with_exif(width: int = 1200, height: int = 628) -> bytes:
    image = Image.new("RGB", (width, height), "teal")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (37.0, 29.0, 40.0)}  # GPS info
    output = io.BytesIO()
    image.save(output, format="JPEG", exif=exif, comment=b"private note")
    return output.getvalue()
