from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.delivery.models import AdClick, AdImpression, AdOffer, DeliveryRollup
from marketplace.delivery.rollups import roll_up_hour, roll_up_recent
from marketplace.lifecycle import BookingStatus
from marketplace.models import Booking
from tests.marketplace.factories import make_placement, make_shop

HOUR = datetime(2026, 11, 3, 11, 0, tzinfo=UTC)  # 20:00 in Tokyo


def booking(session: Session) -> Booking:
    shop, placement = make_shop(session), make_placement(session)
    row = Booking(
        shop_id=shop.id, placement_id=placement.id, shares=1, first_week=date(2026, 11, 2),
        last_week=date(2026, 11, 2), weeks=1, targeting={}, status=BookingStatus.LIVE,
        in_city_rate=True, unit_price_yen=2_750, list_price_yen=2_750, discount_yen=0,
        surcharge_yen=0, total_yen=2_750, tax_yen=250, idempotency_key="rollup",
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def offer(session: Session, b: Booking, n: int, at: datetime, age: str = "70+") -> AdOffer:
    row = AdOffer(
        id=f"{n:032d}", booking_id=b.id, placement_id=b.placement_id, creative_version_id=1,
        shop_id=b.shop_id, resident_key=None, age_band=age, household="single",
        district="ohto", personalized=True, position=3, worker_id="w", offered_at=at,
    )  # fmt: skip
    session.add(row)
    return row


def test_hourly_rollup_counts_by_segment_and_keeps_the_price(session: Session) -> None:
    b = booking(session)
    at = HOUR + timedelta(minutes=10)
    for n in range(5):
        offer(session, b, n, at, age="70+" if n < 3 else "30-39")
    offer(session, b, 99, HOUR + timedelta(hours=1))  # the next hour
    session.add_all(
        [
            AdImpression(offer_id=f"{0:032d}", booking_id=b.id, occurred_at=at, valid=True),
            AdImpression(offer_id=f"{1:032d}", booking_id=b.id, occurred_at=at, valid=False,
                         invalid_reason="bot"),
            AdImpression(offer_id=f"{3:032d}", booking_id=b.id, occurred_at=at, valid=True),
            AdClick(offer_id=f"{0:032d}", booking_id=b.id, occurred_at=at, valid=True),
        ]
    )  # fmt: skip
    session.flush()
    assert roll_up_hour(session, HOUR + timedelta(minutes=30)) == 2
    rows = {
        r.age_band: r
        for r in session.scalars(select(DeliveryRollup).where(DeliveryRollup.hour_start == HOUR))
    }
    old = rows["70+"]
    assert (old.offers, old.impressions, old.invalid_impressions, old.clicks) == (3, 1, 1, 1)
    assert (rows["30-39"].offers, rows["30-39"].impressions) == (2, 1)
    assert old.unit_price_yen == 2_750
    # A later price change and a late click: counts update, the price in force stays.
    b.unit_price_yen = 9_999
    session.add(AdClick(offer_id=f"{3:032d}", booking_id=b.id, occurred_at=at, valid=True))
    session.flush()
    roll_up_hour(session, HOUR)
    session.refresh(rows["30-39"])
    assert rows["30-39"].clicks == 1 and rows["30-39"].unit_price_yen == 2_750
    assert (
        len(list(session.scalars(select(DeliveryRollup).where(DeliveryRollup.hour_start == HOUR))))
        == 2
    )
    assert roll_up_recent(session, HOUR + timedelta(hours=1, minutes=5), hours=1) == 3
