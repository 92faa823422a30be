"""The shop page: residents see what an approved shop published; the shop edits it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.models import AuditEntry, Shop
from marketplace.vocab import ShopStatus
from tests.support.marketplace_http import HTML, post_form, sign_up

PAGE = {
    "address": "会津若松市追手町1-1",
    "opening_hours": "9:00〜19:00\n日曜は17:00まで",
    "closed_days": "毎週水曜日",
    "public_phone": "０２４２−３９−１１１１",
}


def signed_up(client: TestClient, session: Session) -> Shop:
    assert sign_up(client).status_code == 303
    return session.scalars(select(Shop).where(Shop.contact_email == "soba@example.jp")).one()


def test_the_shop_fills_in_its_page_and_residents_can_call_and_find_it(
    client: TestClient, app: object, session: Session
) -> None:
    shop = signed_up(client, session)
    response = post_form(client, "/shop/page", PAGE, "/shop/page")
    assert response.status_code == 303
    session.refresh(shop)
    assert shop.public_phone == "0242-39-1111"  # full-width digits normalised (NFKC)
    assert shop.opening_hours == "9:00〜19:00\n日曜は17:00まで"
    assert session.scalars(
        select(AuditEntry.action).where(AuditEntry.action == "shop_page_updated")
    ).all()
    with TestClient(app, base_url="https://testserver") as resident:  # type: ignore[arg-type]
        # Not public until the city approves the shop.
        assert resident.get(f"/shops/{shop.id}", headers=HTML).status_code == 404
        shop.status = ShopStatus.APPROVED
        session.flush()
        page = resident.get(f"/shops/{shop.id}", headers=HTML)
    assert page.status_code == 200
    assert "鶴ヶ城そば" in page.text and "飲食店" in page.text
    assert 'href="tel:0242391111"' in page.text
    assert (
        "https://www.google.com/maps/search/?api=1&amp;query="
        "%E4%BC%9A%E6%B4%A5%E8%8B%A5%E6%9D%BE%E5%B8%82" in page.text
    )
    assert "<iframe" not in page.text and "<script" not in page.text
    assert "いま掲載中のチラシはありません。" in page.text


def test_a_bad_phone_number_is_refused_in_japanese_and_the_form_kept(
    client: TestClient, session: Session
) -> None:
    signed_up(client, session)
    response = post_form(client, "/shop/page", {**PAGE, "public_phone": "電話して"}, "/shop/page")
    assert response.status_code == 422
    assert "電話番号は 0242-39-1111 のように" in response.text
    assert 'value="会津若松市追手町1-1"' in response.text
    too_long = post_form(client, "/shop/page", {**PAGE, "address": "あ" * 201}, "/shop/page")
    assert too_long.status_code == 422 and "住所は200文字以内" in too_long.text
