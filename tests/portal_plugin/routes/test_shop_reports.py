from __future__ import annotations

import csv
import io
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.calendar import TOKYO
from marketplace.models import Shop
from marketplace.vocab import ShopStatus, StaffRole
from tests.support.analytics_world import book, deliver, shop
from tests.support.marketplace_http import HTML, SIGNUP, sign_up
from tests.support.staff_http import log_in

MONDAY = date(2026, 6, 1)


def _delivered(session: Session, owner: Shop) -> int:
    booking = book(session, owner, MONDAY)
    at = datetime.combine(MONDAY, time(19), tzinfo=TOKYO)
    viewers = [
        (f"key{n:03d}", "30-39" if n < 25 else "70+", "couple", "tsuruga") for n in range(28)
    ]
    deliver(session, booking, viewers, at, clicks_every=4)
    return booking.id


def test_a_shop_sees_its_own_report_and_exports_it(client: TestClient, session: Session) -> None:
    assert sign_up(client).status_code == 303
    owner = session.scalar(select(Shop).where(Shop.business_name == SIGNUP["business_name"]))
    assert owner is not None
    owner.status = ShopStatus.APPROVED
    booking_id = _delivered(session, owner)
    other_id = _delivered(session, shop(session, "よその店"))

    listing = client.get("/shop/reports", headers=HTML)
    assert listing.status_code == 200 and f"/shop/reports/{booking_id}" in listing.text
    page = client.get(f"/shop/reports/{booking_id}", headers=HTML)
    assert page.status_code == 200
    assert "表示回数" in page.text and "10人未満の保護のため非表示" in page.text
    assert "key0" not in page.text  # never a resident key
    exported = client.get(f"/shop/reports/{booking_id}/audience.csv")
    assert exported.status_code == 200 and exported.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["区分", "属性", "人数"]
    assert all("key" not in cell for row in rows for cell in row)
    daily = client.get(f"/shop/reports/{booking_id}/daily.csv")
    assert daily.status_code == 200 and "日付" in daily.content.decode("utf-8-sig")
    # Another shop's booking looks exactly like a missing one.
    assert client.get(f"/shop/reports/{other_id}").status_code == 404
    assert client.get(f"/shop/reports/{booking_id}/nope.csv").status_code == 404


def test_staff_open_any_report_and_anonymous_users_cannot(
    client: TestClient, session: Session
) -> None:
    booking_id = _delivered(session, shop(session))
    assert client.get(f"/shop/reports/{booking_id}").status_code == 401
    assert client.get(f"/finance/bookings/{booking_id}/report").status_code == 401
    log_in(client, session, StaffRole.FINANCE)
    page = client.get(f"/finance/bookings/{booking_id}/report", headers=HTML)
    assert page.status_code == 200 and "ご請求額" in page.text
    assert client.get("/finance/bookings/999999/report").status_code == 404
