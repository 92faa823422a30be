"""Hostile flyer uploads, through the real shop form with a signed-up shop.

Each test says what it sends and what it checks: a 422 with a Japanese error naming the
problem, the form back as filled in, and no creative, version or page row written. PDFs are
made in the test (weasyprint) and made hostile with pikepdf.
"""

from __future__ import annotations

import zlib
from datetime import timedelta

import pikepdf
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.calendar import tokyo_date
from marketplace.db import utcnow
from marketplace.flyers import files as flyer_files
from marketplace.models import Creative, CreativeVersion, FlyerPage
from tests.support.flyer_files import flyer_pdf, modified
from tests.support.marketplace_http import HTML, csrf_from, sign_up

TODAY = tokyo_date(utcnow())
FORM = {
    "name": "冬の折込チラシ",
    "headline": "冬の大感謝祭",
    "body": "",
    "landing_url": "",
    "shown_from": TODAY.isoformat(),
    "shown_until": (TODAY + timedelta(days=6)).isoformat(),
    "sale_from": "",
    "sale_until": "",
}
BASE = flyer_pdf(["冬の大感謝祭 白菜198円", "裏面 営業時間"])


def _javascript(pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))


def _rows(session: Session) -> tuple[int, ...]:
    return tuple(
        int(session.scalar(select(func.count()).select_from(table)) or 0)
        for table in (Creative, CreativeVersion, FlyerPage)
    )


@pytest.fixture
def shop(client: TestClient) -> TestClient:
    assert sign_up(client).status_code == 303
    return client


def _upload(shop: TestClient, *files: tuple[str, bytes, str]) -> object:
    token = csrf_from(shop, "/shop/flyers/new")
    return shop.post(
        "/shop/flyers",
        data={"csrf_token": token, **FORM},
        files=[("flyer_file", file) for file in files],
        headers=HTML,
        follow_redirects=False,
    )


def _refused(shop: TestClient, session: Session, data: bytes, message: str) -> None:
    before = _rows(session)
    response = _upload(shop, ("flyer.pdf", data, "application/pdf"))
    assert response.status_code == 422, response.status_code  # type: ignore[attr-defined]
    text: str = response.text  # type: ignore[attr-defined]
    assert message in text, text[-2000:]
    assert 'value="冬の大感謝祭"' in text  # the form comes back filled in
    assert _rows(session) == before, "a row was written for a refused flyer"


def test_a_clean_flyer_is_accepted_and_only_re_encoded_pages_are_stored(
    shop: TestClient, session: Session
) -> None:
    """Sent: a two-page PDF with an HTML payload appended after %%EOF (readers ignore it).
    Checked: accepted; two JPEG pages are stored, none of them holding a byte of the payload."""
    payload = b"<html><script>alert(document.cookie)</script></html>"
    response = _upload(shop, ("flyer.pdf", BASE + payload, "application/pdf"))
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    pages = session.scalars(select(FlyerPage).order_by(FlyerPage.number)).all()
    assert [page.number for page in pages] == [1, 2]
    assert all(page.image_data.startswith(b"\xff\xd8") for page in pages)
    assert not any(b"<script" in page.image_data for page in pages)
    assert "白菜198円" in pages[0].text


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        (
            "an /OpenAction script",
            lambda pdf: setattr(pdf.Root, "OpenAction", pdf.make_indirect(_javascript(pdf))),
            "スクリプト(JavaScript)を含むPDFは使えません",
        ),
        (
            "a document-level script in the /Names tree",
            lambda pdf: setattr(
                pdf.Root,
                "Names",
                pikepdf.Dictionary(
                    JavaScript=pikepdf.Dictionary(
                        Names=pikepdf.Array([pikepdf.String("x"), _javascript(pdf)])
                    )
                ),
            ),
            "スクリプト(JavaScript)を含むPDFは使えません",
        ),
        (
            "a page-open trigger (/AA)",
            lambda pdf: setattr(pdf.pages[1].obj, "AA", pikepdf.Dictionary(O=_javascript(pdf))),
            "スクリプト(JavaScript)を含むPDFは使えません",
        ),
        (
            "a link whose action is a script",
            lambda pdf: setattr(
                pdf.pages[0].obj,
                "Annots",
                pikepdf.Array(
                    [
                        pdf.make_indirect(
                            pikepdf.Dictionary(
                                Subtype=pikepdf.Name.Link,
                                Rect=pikepdf.Array([0, 0, 100, 100]),
                                A=_javascript(pdf),
                            )
                        )
                    ]
                ),
            ),
            "スクリプト(JavaScript)を含むPDFは使えません",
        ),
        (
            "a launch action",
            lambda pdf: setattr(
                pdf.Root,
                "OpenAction",
                pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe")),
            ),
            "ほかのファイルやアプリを開く動作を含むPDFは使えません",
        ),
        (
            "an embedded file",
            lambda pdf: pdf.attachments.__setitem__(
                "invoice.exe", pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00")
            ),
            "ファイルを埋め込んだPDFは使えません",
        ),
        (
            "a form with a field",
            lambda pdf: setattr(
                pdf.Root,
                "AcroForm",
                pikepdf.Dictionary(
                    Fields=pikepdf.Array(
                        [pdf.make_indirect(pikepdf.Dictionary(FT=pikepdf.Name.Tx, T="card"))]
                    )
                ),
            ),
            "入力フォームを含むPDFは使えません",
        ),
        (
            "a page over A0",
            lambda pdf: setattr(pdf.pages[0].obj, "MediaBox", pikepdf.Array([0, 0, 14400, 14400])),
            "1ページ目の大きさが扱える範囲外です",
        ),
        (
            "2,000 pages pointing at one page object",
            lambda pdf: [pdf.pages.append(pdf.pages[0]) for _ in range(2000)],
            "チラシは8ページまでです(このPDFは2002ページ)",
        ),
    ],
)
def test_active_or_oversized_content_is_refused(
    shop: TestClient, session: Session, name: str, change: object, message: str
) -> None:
    _refused(shop, session, modified(BASE, change), message)  # type: ignore[arg-type]


def test_encrypted_pdfs_are_refused_with_or_without_an_open_password(
    shop: TestClient, session: Session
) -> None:
    """Sent: a PDF that needs a password to open, and one that opens without but is still
    encrypted (owner password only). Checked: both refused, asking for an unprotected file."""
    for user in ("secret", ""):
        data = modified(BASE, lambda pdf: None, encryption=pikepdf.Encryption(user=user, owner="o"))
        _refused(shop, session, data, "パスワードや暗号化のかかったPDFは使えません")


def test_a_decompression_bomb_is_stopped_by_the_sandbox_limits(
    shop: TestClient, session: Session
) -> None:
    """Sent: a 600 kB page whose content stream inflates to 300 MB of drawing operators.
    Checked: the renderer's child process runs out of its memory or time budget and the upload
    is refused as too complex; the web worker itself never holds the inflated stream."""

    def bomb(pdf: pikepdf.Pdf) -> None:
        stream = pikepdf.Stream(pdf, zlib.compress(b"0 0 m 1 1 l S\n" * 21_000_000, 9))
        stream.Filter = pikepdf.Name.FlateDecode
        pdf.pages[0].obj.Contents = pdf.make_indirect(stream)

    data = modified(BASE, bomb)
    assert len(data) < 1024 * 1024
    _refused(shop, session, data, "PDFが複雑すぎて表示用の画像にできません")


def test_a_renderer_that_overruns_its_time_is_killed(
    shop: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stand-in for a PDF that renders for ever: the wall-clock limit is cut to a millisecond.
    Checked: the child is killed and the upload refused, with nothing written."""
    monkeypatch.setattr(flyer_files, "SANDBOX_TIMEOUT_SECONDS", 0.001)
    _refused(shop, session, BASE, "PDFが複雑すぎて表示用の画像にできません")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.7\n1 0 obj <<>> endobj\ngarbage", "PDFファイルが壊れているため読み取れません"),
        (BASE[: len(BASE) // 3], "PDFファイルが壊れているため読み取れません"),
    ],
)
def test_broken_pdfs_are_refused(
    shop: TestClient, session: Session, data: bytes, message: str
) -> None:
    _refused(shop, session, data, message)


def test_the_sandbox_output_is_checked_not_trusted() -> None:
    """A child that prints page sizes that do not add up, or an unknown refusal, is treated as
    a failure of the file (refused as too complex), never as pages."""
    header = b'{"pages": [{"bytes": 10, "text": ""}]}\n'
    with pytest.raises(flyer_files.SandboxFailed):
        flyer_files._read_output(header + b"short")
    with pytest.raises(flyer_files.SandboxFailed):
        flyer_files._read_output(b'{"error": "rm -rf"}\n')
    with pytest.raises(flyer_files.SandboxFailed):
        flyer_files._read_output(b"not json")
