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
from billing.refunds import make_good_amount
from marketplace.calendar import TOKYO
from marketplace.delivery.models import DeliveryRollup
from tests.analytics.world import Viewer, book, deliver, shop

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
    )
    deliver(
        session,
        booking,
        _viewers("a", 20, "30-39", "minato") + _viewers("c", 25, "40-49"),
        day2,
        clicks_every=4,
    )
    deliver(session, other, _viewers("z", 60, "50-59"), day1, clicks_every=10)
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
    # The share delivered is measured on the same rollups billing's make-goods use.
    assert report.share_delivered == pytest.approx(82 / (82 + 60))
    expected = make_good_amount(
        Fraction(report.booking.shares, report.booking.shares_per_week),
        Fraction(report.impressions, report.placement_impressions),
        report.booking.billed_yen,
    )
    assert expected >= 0
    daily = report.daily.set_index("day")
    assert (
        daily.loc[MONDAY, "impressions"] == 37
        and daily.loc[MONDAY + timedelta(days=1), "impressions"] == 45
    )
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
