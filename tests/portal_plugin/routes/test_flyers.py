"""Flyer pages over HTTP: the shop uploads and edits, residents open the viewer, pages are
served only while the flyer is on show."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.calendar import tokyo_date
from marketplace.db import utcnow
from marketplace.models import CreativeVersion, Shop
from marketplace.review.services import approve_version
from marketplace.vocab import ShopStatus
from tests.support.flyer_files import flyer_pdf
from tests.support.marketplace_factories import make_reviewer
from tests.support.marketplace_http import HTML, csrf_from, sign_up

TODAY = tokyo_date(utcnow())


def form(**values: str) -> dict[str, str]:
    return {
        "name": "冬の折込チラシ",
        "headline": "冬の大感謝祭",
        "body": "白菜がお買い得",
        "landing_url": "",
        "shown_from": TODAY.isoformat(),
        "shown_until": (TODAY + timedelta(days=6)).isoformat(),
        "sale_from": TODAY.isoformat(),
        "sale_until": (TODAY + timedelta(days=2)).isoformat(),
        **values,
    }


def upload(client: TestClient, data: bytes, **values: str) -> object:
    token = csrf_from(client, "/shop/flyers/new")
    return client.post(
        "/shop/flyers",
        data={"csrf_token": token, **form(**values)},
        files=[("flyer_file", ("flyer.pdf", data, "application/pdf"))],
        headers=HTML,
        follow_redirects=False,
    )


def approved_shop(client: TestClient, session: Session) -> Shop:
    assert sign_up(client).status_code == 303
    shop = session.scalars(select(Shop).where(Shop.contact_email == "soba@example.jp")).one()
    shop.status = ShopStatus.APPROVED
    session.flush()
    return shop


def test_a_shop_uploads_a_pdf_and_residents_see_it_once_approved(
    client: TestClient, app: object, session: Session
) -> None:
    approved_shop(client, session)
    response = upload(client, flyer_pdf(["冬の大感謝祭 白菜198円", "営業時間 9:00〜20:00"]))
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    detail = client.get(response.headers["location"], headers=HTML)  # type: ignore[attr-defined]
    assert "v1" in detail.text and "審査中" in detail.text
    version = session.scalars(select(CreativeVersion)).one()
    creative_id = version.creative_id
    # Waiting for review: the shop sees its pages, nobody else does.
    assert client.get(f"/flyer-pages/{version.id}/1").status_code == 200
    with TestClient(app, base_url="https://testserver") as anonymous:  # type: ignore[arg-type]
        assert anonymous.get(f"/flyer-pages/{version.id}/1").status_code == 404
        assert anonymous.get(f"/flyers/{creative_id}", headers=HTML).status_code == 404
        approve_version(session, version.id, make_reviewer(session))
        session.flush()
        viewer = anonymous.get(f"/flyers/{creative_id}", headers=HTML)
        assert viewer.status_code == 200
        assert "冬の大感謝祭" in viewer.text and "白菜198円" in viewer.text  # the printed text
        images = re.findall(r'src="(/flyer-pages/\d+/\d)"', viewer.text)
        assert images == [f"/flyer-pages/{version.id}/1", f"/flyer-pages/{version.id}/2"]
        page = anonymous.get(images[0])
        assert page.status_code == 200 and page.headers["content-type"] == "image/jpeg"
        assert "/static/flyer-viewer.js" in viewer.text and "<script>" not in viewer.text
        english = anonymous.get(f"/flyers/{creative_id}?lang=en", headers=HTML)
        assert "Runs" in english.text and "Sale period" in english.text
        anonymous.cookies.clear()  # the language choice is remembered in a cookie
        assert re.search(r'href="/shops/\d+"', viewer.text)
        # Past its 掲載期間 the flyer and its pages are gone for residents.
        version.shown_from = TODAY - timedelta(days=9)
        version.shown_until = TODAY - timedelta(days=1)
        version.sale_from = version.sale_until = None
        session.flush()
        gone = anonymous.get(f"/flyers/{creative_id}", headers=HTML)
        assert gone.status_code == 404 and "掲載期間が終わった" in gone.text
        assert anonymous.get(images[0]).status_code == 404


def test_a_refused_form_comes_back_filled_in_with_a_japanese_error(
    client: TestClient, session: Session
) -> None:
    approved_shop(client, session)
    response = upload(client, flyer_pdf(["a"]), shown_until=(TODAY - timedelta(days=1)).isoformat())
    assert response.status_code == 422  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert "掲載終了日は掲載開始日より後にしてください" in text
    assert 'value="冬の大感謝祭"' in text


def test_the_shop_edits_the_dates_without_sending_the_file_again(
    client: TestClient, session: Session
) -> None:
    approved_shop(client, session)
    location = upload(client, flyer_pdf(["表", "裏"])).headers["location"]  # type: ignore[attr-defined]
    token = csrf_from(client, location)
    response = client.post(
        location,
        data={"csrf_token": token, **form(shown_until=(TODAY + timedelta(days=13)).isoformat())},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    latest = session.scalars(
        select(CreativeVersion).order_by(CreativeVersion.version.desc())
    ).first()
    assert latest is not None and latest.version == 2
    assert latest.shown_until == TODAY + timedelta(days=13)
    assert "v2" in client.get(location, headers=HTML).text
