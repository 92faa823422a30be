from __future__ import annotations

from datetime import date, datetime, time, timedelta
from fractions import Fraction

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics.errors import UnknownBooking
from analytics.privacy import K_ANONYMITY
from analytics.shop_report_source import load_shop_report
from billing.models import DocumentKind, Invoice
from marketplace.calendar import TOKYO
from marketplace.delivery.measured import measure_booking
from marketplace.delivery.models import DeliveryRollup
from marketplace.models import Booking
from tests.support.analytics_world import Viewer, book, deliver, shop

MONDAY = date(2026, 6, 1)


def _viewers(prefix: str, count: int, age: str, district: str = "tsuruga") -> list[Viewer]:
    return [(f"{prefix}{n:04d}", age, "couple", district) for n in range(count)]


def test_shop_report_equals_the_rollups_and_the_invoices(session: Session) -> None:
    owner = shop(session)
    booking = book(session, owner, MONDAY, weeks=1, shares=1)
    other = book(session, shop(session, "会津塗"), MONDAY, weeks=1, shares=1)
    day1 = datetime.combine(MONDAY, time(19), tzinfo=TOKYO)
    day2 = day1 + timedelta(days=1)
    deliver(
        session,
        booking,
        _viewers("a", 40, "30-39") + _viewers("b", 3, "70+"),
        day1,
        clicks_every=5,
        invalid_every=7,
        slots=100,
    )
    deliver(
        session,
        booking,
        _viewers("a", 20, "30-39", "minato") + _viewers("c", 25, "40-49"),
        day2,
        clicks_every=4,
        slots=60,
    )
    deliver(session, other, _viewers("z", 60, "50-59"), day1, clicks_every=10, slots=100)
    report = load_shop_report(session, booking.id, shop_id=owner.id)

    rolled = session.execute(
        select(func.sum(DeliveryRollup.impressions), func.sum(DeliveryRollup.clicks)).where(
            DeliveryRollup.booking_id == booking.id
        )
    ).one()
    assert (report.impressions, report.clicks) == (int(rolled[0]), int(rolled[1]))
    assert report.impressions == 43 - 6 + 45  # invalid impressions are never counted
    invoiced = session.scalar(
        select(func.sum(Invoice.total)).where(
            Invoice.booking_id == booking.id, Invoice.kind == DocumentKind.INVOICE
        )
    )
    assert report.booking.billed_yen == invoiced == booking.total_yen
    # The share delivered is the one measure billing's make-goods read: valid impressions over
    # the slots the booking was eligible for, scaled by the placement's view rate (6 of its 148
    # offers were seen by bots only).
    assert report.measure == measure_booking(session, session.get_one(Booking, booking.id))
    assert report.measure.view_rate == Fraction(142, 148)
    assert report.measure.share_delivered == Fraction(82, 1) / (160 * Fraction(142, 148))
    assert report.owed == 38  # a quarter of 153.5 seen slots
    daily = report.daily.set_index("day")
    assert (
        daily.loc[MONDAY, "impressions"] == 37
        and daily.loc[MONDAY + timedelta(days=1), "impressions"] == 45
    )
    assert daily.loc[MONDAY, "owed"] == 23  # 100 × 142/148 ÷ 4 = 23.99
    assert len(report.daily) == 7


def test_shop_report_never_carries_resident_keys_and_suppresses_small_cells(
    session: Session,
) -> None:
    owner = shop(session)
    booking = book(session, owner, MONDAY)
    at = datetime.combine(MONDAY, time(20), tzinfo=TOKYO)
    deliver(
        session,
        booking,
        _viewers("k", 30, "30-39") + _viewers("s", 4, "70+") + _viewers("m", 12, "20-29"),
        at,
    )
    report = load_shop_report(session, booking.id)
    text = report.audience.to_csv() + report.daily.to_csv()
    assert "k0001" not in text and "resident" not in text.replace("residents", "")
    ages = report.audience[report.audience["dimension"] == "age_band"].set_index("value")
    assert bool(ages.loc["70+", "suppressed"]) and bool(ages.loc["20-29", "suppressed"])
    visible = ages.loc[~ages["suppressed"], "impressions"].sum()
    # Subtracting the visible cells from the total leaves only the 4 + 12 group, never the 4.
    assert report.impressions - visible == 16 >= K_ANONYMITY


def test_another_shops_booking_is_not_found(session: Session) -> None:
    booking = book(session, shop(session), MONDAY)
    with pytest.raises(UnknownBooking):
        load_shop_report(session, booking.id, shop_id=booking.shop_id + 999)
