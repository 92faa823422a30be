"""Where an image file's own data ends, read from its container structure.

A polyglot is an image that is also another file: an HTML page or a ZIP archive appended after
the image's end marker, or active markup hidden in a metadata chunk. Image decoders stop at the
end marker and never notice. The upload check walks the container itself (PNG chunks, JPEG
segments, the RIFF size of WebP) to find the real end, so bytes after it can be refused.
"""

from __future__ import annotations

import re

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Markup a browser or a server would act on, if the file were ever taken for something else.
# Every pattern is five bytes or more: compressed pixel data matches one by chance about once
# in 10^5 uploads of the largest size allowed (shorter ones, like `<svg`, far more often).
ACTIVE_MARKUP = re.compile(rb"<(?:script|html|body|iframe|object|embed|meta)\b|<\?php", re.I)


class MalformedContainer(ValueError):
    """The file does not follow its format's structure."""


def image_end(data: bytes, image_format: str) -> int:
    """The offset just after the image's last byte, for PNG, JPEG and WebP."""
    if image_format == "PNG":
        return _png_end(data)
    if image_format == "JPEG":
        return _jpeg_end(data)
    if image_format == "WEBP":
        return _webp_end(data)
    raise MalformedContainer(f"no container reader for {image_format}")


def _png_end(data: bytes) -> int:
    if not data.startswith(PNG_SIGNATURE):
        raise MalformedContainer("not a PNG signature")
    position = len(PNG_SIGNATURE)
    while position + 8 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        position += 12 + length  # length, type, data, CRC
        if kind == b"IEND":
            return position
    raise MalformedContainer("PNG without its IEND chunk")


def _jpeg_end(data: bytes) -> int:
    if not data.startswith(b"\xff\xd8"):
        raise MalformedContainer("not a JPEG start of image")
    position = 2
    while position + 2 <= len(data):
        if data[position] != 0xFF:
            raise MalformedContainer("JPEG segment without a marker")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == 0xD9:  # end of image
            return position + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            position += 2
            continue
        if position + 4 > len(data):
            break
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        position += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            position = _after_scan(data, position)
    raise MalformedContainer("JPEG without its end of image")


def _after_scan(data: bytes, position: int) -> int:
    """The offset of the first marker after entropy-coded data (stuffed 0xFF00 and restart
    markers 0xFFD0-0xFFD7 belong to the scan)."""
    while True:
        found = data.find(b"\xff", position)
        if found < 0 or found + 1 >= len(data):
            raise MalformedContainer("JPEG scan without an end")
        following = data[found + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            position = found + 1 if following == 0xFF else found + 2
            continue
        return found


def _webp_end(data: bytes) -> int:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise MalformedContainer("not a RIFF WebP header")
    size = int.from_bytes(data[4:8], "little")
    return 8 + size + (size & 1)


def polyglot_reason(data: bytes, image_format: str) -> str | None:
    """Why the file is more than an image, or None when it is only one."""
    try:
        end = image_end(data, image_format)
    except MalformedContainer as exc:
        return str(exc)
    if len(data) > end and data[end:].strip(b"\x00"):
        return f"{len(data) - end} bytes after the end of the image"
    if ACTIVE_MARKUP.search(data):
        return "markup inside the image"
    return None
