"""The shop's booking page: delivered vs owed so far on the one measure, and the reason in
plain Japanese when behind (issue 20 item 4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.audit import SYSTEM
from marketplace.bookings.controls import pause_booking, resume_booking
from marketplace.calendar import tokyo_date
from marketplace.db import utcnow
from marketplace.delivery.measured import booking_period
from marketplace.lifecycle import BookingStatus
from marketplace.models import Booking, Shop
from marketplace.vocab import ShopStatus
from tests.support.delivery_rows import rollup_hour
from tests.support.marketplace_http import HTML, sign_up
from tests.support.page_text import visible_text as page_text


def visible_text(html: str) -> str:
    return page_text(html).replace("\n", " ")


def running(client: TestClient, session: Session, hold: Callable[..., Booking]) -> Booking:
    """The signed-in shop's booking of 1 of 4 shares, running this week."""
    assert sign_up(client).status_code == 303
    shop = session.scalars(select(Shop).where(Shop.contact_email == "soba@example.jp")).one()
    shop.status = ShopStatus.APPROVED
    today = tokyo_date(utcnow())
    booking = hold(shop, weeks=1, first_week=today - timedelta(days=today.weekday()))
    booking.status = BookingStatus.LIVE
    session.flush()
    return booking


def deliver(session: Session, booking: Booking, per_hour: list[int]) -> None:
    start, _ = booking_period(booking)
    for h, count in enumerate(per_hour):
        rollup_hour(session, booking, start + timedelta(hours=h), count, 100)
    session.flush()


def test_a_paused_booking_shows_what_it_got_and_why_it_is_behind(
    client: TestClient, session: Session, hold: Callable[..., Booking]
) -> None:
    booking = running(client, session, hold)
    deliver(session, booking, [25, 25, 25, 0, 0, 0, 25, 25, 25, 25])
    start, _ = booking_period(booking)
    pause_booking(session, booking.id, SYSTEM, "表示内容の確認", now=start + timedelta(hours=3))
    resume_booking(session, booking.id, SYSTEM, now=start + timedelta(hours=6))
    page = client.get(f"/shop/bookings/{booking.id}", headers=HTML)
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "配信の状況" in text
    assert "表示回数(有効) 175回" in text and "ここまでに予定していた表示回数 250回" in text
    assert "17.5% / 25.0%" in text
    assert 'value="70"' in page.text and "予定に対する配信: 70%" in text
    assert "予定より表示が少なくなっています。" in text
    assert "理由: 市の職員による一時停止" in text
    english = visible_text(client.get(f"/shop/bookings/{booking.id}?lang=en", headers=HTML).text)
    assert "Reason: Paused by city staff" in english and "Valid impressions" in english


def test_behind_for_no_recorded_reason_says_so_honestly(
    client: TestClient, session: Session, hold: Callable[..., Booking]
) -> None:
    booking = running(client, session, hold)
    deliver(session, booking, [15] * 10)
    text = visible_text(client.get(f"/shop/bookings/{booking.id}", headers=HTML).text)
    assert "理由を確認中です。" in text and "理由:" not in text


def test_on_target_and_not_started(
    client: TestClient, session: Session, hold: Callable[..., Booking]
) -> None:
    booking = running(client, session, hold)
    deliver(session, booking, [25] * 10)
    text = visible_text(client.get(f"/shop/bookings/{booking.id}", headers=HTML).text)
    assert "予定どおり配信されています。" in text and "予定より" not in text
    later = hold(session.get_one(Shop, booking.shop_id), weeks=1,
                 first_week=booking.first_week + timedelta(weeks=3))  # fmt: skip
    text = visible_text(client.get(f"/shop/bookings/{later.id}", headers=HTML).text)
    assert "配信の状況" not in text
