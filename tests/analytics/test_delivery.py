"""The finance dashboard's delivery per placement and month, on the one delivery measure
(issue 20 item 2)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from analytics.delivery import delivery_by_placement_month
from billing.bookings import accept_invoice
from billing.config import BillingConfig
from billing.make_goods import run_make_goods
from marketplace.calendar import start_of_tokyo_day
from marketplace.delivery.measured import measure_booking, measure_by_day, measures_by_day
from marketplace.lifecycle import BookingStatus
from marketplace.models import Booking, Shop
from marketplace.vocab import StaffRole
from tests.support.billing_world import NOW
from tests.support.delivery_rows import rollup_hour
from tests.support.page_text import visible_text
from tests.support.staff_http import log_in

LATER = datetime(2026, 7, 1, tzinfo=UTC)


@pytest.fixture
def delivered(
    session: Session, make_shop: Callable[..., Shop], hold: Callable[..., Booking],
    billing_config: BillingConfig,
) -> tuple[Booking, Booking]:  # fmt: skip
    """Two confirmed bookings from 4 May to 7 June (5 weeks): one of four shares that got 60%
    of what it was owed in May and all of it in June, and three of four on target."""
    small, big = make_shop(), make_shop()
    short = hold(small, weeks=5, shares=1)
    full = hold(big, weeks=5, shares=3)
    for booking, shop in ((short, small), (full, big)):
        accept_invoice(session, billing_config, booking.id, shop_id=shop.id, now=NOW)
    start = start_of_tokyo_day(date(2026, 5, 4))
    for day in (0, 10, 20, 31, 33):  # 31 and 33 days on are 4 and 6 June
        at = start + timedelta(days=day, hours=5)
        in_may = day < 28
        rollup_hour(session, short, at, 15 if in_may else 25, 100)
        rollup_hour(session, full, at, 75, 100)
    for booking in (short, full):
        booking.status = BookingStatus.COMPLETED
    session.flush()
    return short, full


def test_owed_delivered_and_make_goods_per_placement_and_month(
    session: Session, billing_config: BillingConfig, delivered: tuple[Booking, Booking]
) -> None:
    short, full = delivered
    done, _ = run_make_goods(
        session, billing_config, through=date(2026, 6, 8), today=date(2026, 6, 8), gateway=None
    )
    [credited] = [result for result in done if result.credit_yen]
    assert credited.booking_id == short.id
    frame = delivery_by_placement_month(session, 2026, LATER)
    rows = frame.to_dict("records")
    assert [(r["placement"], r["month"]) for r in rows] == [
        ("フィード内カード", "2026-05"),
        ("フィード内カード", "2026-06"),
    ]
    may, june = rows
    # May: 3 hours × 100 slots; owed 25 + 75 an hour, delivered 15 + 75.
    assert (may["owed"], may["delivered"]) == (300, 270)
    # Each booking saw 300 slots: shares averaged over 600 (¼ and ¾ → ½).
    assert may["share_bought"] == pytest.approx(0.5)
    assert may["share_delivered"] == pytest.approx(0.45)
    assert may["delivery_rate"] == pytest.approx(0.9) and may["make_good_yen"] == 0
    assert (june["owed"], june["delivered"], june["make_good_yen"]) == (
        200,
        200,
        credited.credit_yen,
    )
    # The months add up to the one measure of each booking.
    measures = [measure_booking(session, booking) for booking in (short, full)]
    assert may["owed"] + june["owed"] == sum(m.owed for m in measures)
    assert may["delivered"] + june["delivered"] == sum(m.impressions for m in measures)


def test_an_empty_year_has_no_rows(session: Session) -> None:
    frame = delivery_by_placement_month(session, 2031, LATER)
    assert frame.empty and list(frame.columns)[:4] == ["placement", "month", "owed", "delivered"]


def test_the_finance_dashboard_shows_delivery_with_a_chart_and_exports(
    client: TestClient, session: Session, delivered: tuple[Booking, Booking]
) -> None:
    log_in(client, session, StaffRole.FINANCE)
    page = client.get("/finance/?fiscal_year=2026")
    assert page.status_code == 200
    text = visible_text(page.text).replace("\n", " ")
    assert "広告枠・月別の配信（予定比）" in text
    assert "予定表示回数 有効な表示回数 購入シェア（平均） 配信シェア（平均）" in text
    assert "フィード内カード 2026-05 300 270 50.0% 45.0% 90.0% ¥0" in text
    assert 'id="chart-spec-delivery"' in page.text and "予定に対する配信" in page.text
    png = client.get("/finance/charts/delivery.png?fiscal_year=2026")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    exported = client.get("/finance/export/delivery.csv?fiscal_year=2026")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["広告枠", "月", "予定表示回数", "有効な表示回数"]
    assert rows[1][:4] == ["フィード内カード", "2026-05", "300", "270"]


def test_measured_together_the_bookings_measure_as_they_do_one_by_one(
    session: Session, delivered: tuple[Booking, Booking]
) -> None:
    """The dashboard reads all bookings in a few queries; the shop's page reads one."""
    short, full = delivered
    together = measures_by_day(session, [short, full], until=LATER)
    assert together == {b.id: measure_by_day(session, b, until=LATER) for b in (short, full)}
    assert set(together[short.id]) == {date(2026, 5, d) for d in (4, 14, 24)} | {
        date(2026, 6, 4),
        date(2026, 6, 6),
    }
