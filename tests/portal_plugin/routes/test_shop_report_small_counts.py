"""Issue 16 item 9: a shop's report shows no small daily count and no rival's delivery.

The review saw a day with 1 impression and 1 click in a shop's daily table and CSV, and the
whole placement's daily traffic (eligible slots, owed, share delivered per day).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from analytics.privacy import K_ANONYMITY
from analytics.shop_report_source import load_shop_report
from marketplace.calendar import TOKYO
from marketplace.models import Booking, Shop
from marketplace.vocab import ShopStatus, StaffRole
from tests.support.analytics_world import book, deliver, shop
from tests.support.marketplace_http import HTML, SIGNUP, sign_up
from tests.support.staff_http import log_in

MONDAY = date(2026, 6, 1)


def _viewers(prefix: str, count: int) -> list[tuple[str, str, str, str]]:
    return [(f"{prefix}{n:04d}", "30-39", "couple", "tsuruga") for n in range(count)]


def _deliver_days(session: Session, booking: Booking, per_day: list[int]) -> None:
    for offset, count in enumerate(per_day):
        if count:
            at = datetime.combine(MONDAY + timedelta(days=offset), time(19), tzinfo=TOKYO)
            deliver(session, booking, _viewers(f"d{offset}-", count), at, clicks_every=count)


def _csv(client: TestClient, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_shop_sees_no_small_daily_count_and_no_placement_traffic(
    client: TestClient, session: Session
) -> None:
    assert sign_up(client).status_code == 303
    owner = session.scalar(select(Shop).where(Shop.business_name == SIGNUP["business_name"]))
    assert owner is not None
    owner.status = ShopStatus.APPROVED
    booking = book(session, owner, MONDAY)
    # The review's days: 1 impression and 1 click on Monday, then ordinary days.
    _deliver_days(session, booking, [1, 40, 30, 0, 25, 0, 0])
    rival = book(session, shop(session, "よその店"), MONDAY)
    _deliver_days(session, rival, [200, 180, 0, 0, 0, 0, 0])

    rows = _csv(client, f"/shop/reports/{booking.id}/daily.csv")
    header, days = rows[0], rows[1:]
    # No per-day figure of the placement: not its slots, nor what they make owed or the share.
    assert header == ["日付", "表示回数", "有効クリック", "クリック率", "保護"]
    by_day = {row[0]: row for row in days}
    monday = by_day[MONDAY.isoformat()]
    assert monday[1] == "" and monday[2] == "" and monday[4]  # hidden, and said so
    shown = [int(row[1]) for row in days if row[1]]
    clicks = [int(row[2]) for row in days if row[2]]
    # Nothing under k is shown, and the exact total (the KPI) minus what is shown is 0 or ≥ k.
    assert all(n == 0 or n >= K_ANONYMITY for n in shown + clicks)
    report = load_shop_report(session, booking.id, owner.id)
    assert report.impressions == 96 and report.clicks == 4  # the shop's own totals stay exact
    # A total under k (4 clicks) hides every day: what the shop knows is its own total only.
    assert clicks == []
    left = report.impressions - sum(shown)
    assert left == 0 or left >= K_ANONYMITY
    page = client.get(f"/shop/reports/{booking.id}", headers=HTML)
    assert page.status_code == 200 and "10件未満の保護のため一部非表示" in page.text
    # Only one other shop ran on the placement: no placement comparison at all.
    audience = _csv(client, f"/shop/reports/{booking.id}/audience.csv")
    column = audience[0].index("広告枠平均のクリック率")
    assert all(row[column] == "" for row in audience[1:])


def test_finance_staff_still_see_the_exact_daily_table(
    client: TestClient, session: Session
) -> None:
    booking = book(session, shop(session), MONDAY)
    _deliver_days(session, booking, [1, 40, 0, 0, 0, 0, 0])
    log_in(client, session, StaffRole.FINANCE)
    rows = _csv(client, f"/finance/bookings/{booking.id}/report/daily.csv")
    assert "表示すべき回数" in rows[0]
    assert rows[1][1] == "1"


def test_the_placement_comparison_needs_three_other_shops(session: Session) -> None:
    owner = shop(session)
    booking = book(session, owner, MONDAY, weeks=2)
    _deliver_days(session, booking, [40])
    rivals = [shop(session, f"よその店{n}") for n in range(2)]
    for rival in rivals:
        _deliver_days(session, book(session, rival, MONDAY), [40])
    two_others = load_shop_report(session, booking.id, owner.id)
    assert two_others.audience["placement_ctr"].isna().all()
    # More bookings of the same rivals are still two rivals (counted bookings: shown).
    _deliver_days(session, book(session, rivals[0], MONDAY + timedelta(days=7)), [40])
    assert load_shop_report(session, booking.id, owner.id).audience["placement_ctr"].isna().all()
    _deliver_days(session, book(session, shop(session, "三軒目"), MONDAY), [40])
    three_others = load_shop_report(session, booking.id, owner.id)
    assert three_others.audience["placement_ctr"].notna().any()
