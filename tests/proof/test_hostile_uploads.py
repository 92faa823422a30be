"""Hostile creative uploads, through the real shop form with a signed-up shop.

Each test says what it sends (what it tries to break) and what it then checks: the answer (status
and a Japanese error naming the problem), that no creative or version row was written, and for
accepted files that what is stored and served is a fresh re-encoding with the payload gone.
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.models import Creative, CreativeVersion
from tests.support.images import png_bytes
from tests.support.marketplace_http import HTML, csrf_from, sign_up

FORM = {
    "name": "冬の新そば",
    "headline": "会津の十割そば",
    "body": "鶴ヶ城から徒歩5分",
    "landing_url": "https://soba.example.jp/",
}
PAYLOAD = b"<html><script>alert(document.cookie)</script></html>"
NOT_AN_IMAGE = "画像ファイルとして読み取れません"
WRONG_FORMAT = "画像は JPEG・PNG・WebP のいずれかにしてください"
TOO_BIG_SIDES = "画像の縦横が大きすぎます(一辺4096px以内)"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A well-formed 1-bit PNG declaring width × height pixels (900 M for the default), every
    row present and zero: ~110 MB of raw scanlines deflated to about 110 kB."""
    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def _upload(client: TestClient, data: bytes, filename: str, content_type: str) -> object:
    token = csrf_from(client, "/shop/creatives/new")
    return client.post(
        "/shop/creatives",
        data={"csrf_token": token, **FORM},
        files={"image": (filename, data, content_type)},
        headers=HTML,
        follow_redirects=False,
    )


def _rows(session: Session) -> tuple[int, int]:
    creatives = session.scalar(select(func.count()).select_from(Creative))
    versions = session.scalar(select(func.count()).select_from(CreativeVersion))
    return int(creatives or 0), int(versions or 0)


@pytest.fixture
def shop(client: TestClient) -> TestClient:
    assert sign_up(client).status_code == 303
    return client


def _refused(shop: TestClient, session: Session, data: bytes, name: str, ctype: str) -> str:
    before = _rows(session)
    response = _upload(shop, data, name, ctype)
    assert response.status_code == 422, (name, response.status_code)  # type: ignore[attr-defined]
    assert _rows(session) == before, f"{name}: a row was written for a refused upload"
    text: str = response.text  # type: ignore[attr-defined]
    assert (
        'name="name" required maxlength="80" value="冬の新そば"' in text
    )  # the form comes back filled in, with the error
    return text


def test_decompression_bomb_is_refused_before_decoding(shop: TestClient, session: Session) -> None:
    """Broke: a 110 kB PNG declaring 30000×30000 px (900 Mpx, ~110 MB once inflated; Pillow's own
    bomb limit is 179 Mpx, so it would open it) sent as image/png. Checked: 422 with the Japanese
    "too large, 4096 px per side" error and no row written."""
    bomb = png_bomb()
    assert len(bomb) < 2 * 1024 * 1024  # under the byte limit: only the pixel check can stop it
    assert TOO_BIG_SIDES in _refused(shop, session, bomb, "banner.png", "image/png")


def test_bomb_within_the_side_limit_but_over_the_pixel_budget(
    shop: TestClient, session: Session
) -> None:
    """Broke: 4096×4000 px (16.4 Mpx, each side allowed, the pixel budget of 16 Mpx not).
    Checked: refused with the same error, nothing written."""
    bomb = png_bomb(4096, 4000)
    assert TOO_BIG_SIDES in _refused(shop, session, bomb, "banner.png", "image/png")


def test_oversized_dimensions_are_refused(shop: TestClient, session: Session) -> None:
    """Broke: a real, small (solid colour) 5000×2500 PNG. Checked: 422, side-limit error, no row."""
    data = png_bytes(5000, 2500)
    assert TOO_BIG_SIDES in _refused(shop, session, data, "wide.png", "image/png")


def _gif() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (600, 314), "red").save(output, format="GIF")
    return output.getvalue()


def _bmp() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (600, 314), "red").save(output, format="BMP")
    return output.getvalue()


SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="600" height="314">'
    b"<script>alert(1)</script><rect width='600' height='314'/></svg>"
)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.mark.parametrize(
    ("label", "data", "expected"),
    [
        ("gif", _gif(), WRONG_FORMAT),
        ("bmp", _bmp(), WRONG_FORMAT),
        ("svg", SVG, NOT_AN_IMAGE),
        ("pdf", PDF, NOT_AN_IMAGE),
        ("html", PAYLOAD, NOT_AN_IMAGE),
        ("truncated png", png_bytes()[:200], NOT_AN_IMAGE),
    ],
)
def test_wrong_content_sent_as_png_is_refused(
    shop: TestClient, session: Session, label: str, data: bytes, expected: str
) -> None:
    """Broke: a GIF, BMP, SVG with a script, PDF, HTML page and a truncated PNG, each named
    banner.png and declared image/png. Checked: judged by content, refused with 422 and the
    Japanese error for an unsupported or unreadable image; no row written."""
    assert expected in _refused(shop, session, data, "banner.png", "image/png"), label


def _stored(session: Session) -> CreativeVersion:
    return session.scalars(select(CreativeVersion).order_by(CreativeVersion.id.desc())).first()  # type: ignore[return-value]


def _jpeg() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (600, 314), "navy").save(output, format="JPEG", quality=90)
    return output.getvalue()


def _zip(name: str, content: bytes) -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr(name, content)
    return output.getvalue()


def _png_with_text_chunk(text: bytes) -> bytes:
    """A valid PNG with a tEXt chunk (correct CRC) inserted before IEND."""
    png = png_bytes()
    chunk = b"tEXt" + b"Comment\x00" + text
    packed = struct.pack(">I", len(chunk) - 4) + chunk + struct.pack(">I", zlib.crc32(chunk))
    return png[:-12] + packed + png[-12:]


def _jpeg_with_comment(text: bytes) -> bytes:
    """A valid JPEG with a COM segment right after the start-of-image marker."""
    jpeg = _jpeg()
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + jpeg[2:]


def _webp() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (600, 314), "teal").save(output, format="WEBP")
    return output.getvalue()


@pytest.mark.parametrize(
    ("label", "data"),
    [
        ("png + html", png_bytes() + PAYLOAD),
        ("png + zip", png_bytes() + _zip("index.html", PAYLOAD)),
        ("png + html + a fake IEND", png_bytes() + PAYLOAD + b"\x00\x00\x00\x00IEND\xaeB`\x82"),
        ("jpeg + zip", _jpeg() + _zip("index.html", PAYLOAD)),
        ("jpeg + html ending in EOI", _jpeg() + PAYLOAD + b"\xff\xd9"),
        ("webp + html", _webp() + PAYLOAD),
        ("png with a script in a tEXt chunk", _png_with_text_chunk(PAYLOAD)),
        ("jpeg with a script in a comment", _jpeg_with_comment(PAYLOAD)),
    ],
)
def test_polyglot_is_refused(shop: TestClient, session: Session, label: str, data: bytes) -> None:
    """Broke: a valid image that is also another file: an HTML/JS page or a ZIP archive appended
    after the image's end (once behind a forged PNG end chunk, once ending in a JPEG end
    marker), or the script inside the image's own metadata. Pillow opens every one of them as
    the image. Checked: 422 with the Japanese "data other than the image" error, the form back
    filled in, and no row written."""
    assert Image.open(io.BytesIO(data)).size == (600, 314), label  # a readable image...
    text = _refused(shop, session, data, "banner.png", "image/png")
    assert "画像以外のデータを含むファイルは使えません" in text, label


@pytest.mark.parametrize(
    ("label", "data"),
    [
        ("png", png_bytes()),
        ("png padded with zeros", png_bytes() + b"\x00" * 16),
        ("jpeg", _jpeg()),
        ("webp", _webp()),
        ("png with a harmless tEXt chunk", _png_with_text_chunk(b"made with care in Aizu")),
    ],
)
def test_plain_images_are_accepted_and_stored_re_encoded(
    shop: TestClient, session: Session, label: str, data: bytes
) -> None:
    """The polyglot check must not refuse ordinary files: each is accepted, and what is stored
    and served is a fresh encoding of the same size, served with nosniff."""
    response = _upload(shop, data, "banner.png", "image/png")
    assert response.status_code == 303, label  # type: ignore[attr-defined]
    version = _stored(session)
    stored = bytes(version.image_data)
    assert b"made with care" not in stored
    served = shop.get(f"/creative-images/{version.id}")
    assert served.status_code == 200 and served.content == stored
    assert served.headers["x-content-type-options"] == "nosniff"
    assert Image.open(io.BytesIO(served.content)).size == (600, 314)


def test_oversized_bytes_are_413_with_a_japanese_error(shop: TestClient, session: Session) -> None:
    """Broke: a genuine PNG of random noise, 1300×1000 px (~3.9 MB, over the 2 MB limit).
    Checked: 413, the Japanese "2MB以内" error on the form, and no row written."""
    noise = Image.frombytes("RGB", (1300, 1000), os.urandom(1300 * 1000 * 3))
    output = io.BytesIO()
    noise.save(output, format="PNG")
    data = output.getvalue()
    assert len(data) > 2 * 1024 * 1024
    before = _rows(session)
    response = _upload(shop, data, "photo.png", "image/png")
    assert response.status_code == 413  # type: ignore[attr-defined]
    assert "画像は2MB以内にしてください" in response.text  # type: ignore[attr-defined]
    assert _rows(session) == before
