from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.delivery.models import (
    AdClick,
    AdImpression,
    DeliveryRollup,
    EligibleSlot,
    EligibleSlotRollup,
)
from marketplace.delivery.rollups import roll_up_hour, roll_up_recent
from tests.support.delivery_rows import live_booking, offer_row

HOUR = datetime(2026, 11, 3, 11, 0, tzinfo=UTC)  # 20:00 in Tokyo


def test_hourly_rollup_counts_by_segment_and_keeps_the_price(session: Session) -> None:
    b = live_booking(session)
    at = HOUR + timedelta(minutes=10)
    for n in range(5):
        offer_row(session, b, n, at, age="70+" if n < 3 else "30-39")
    offer_row(session, b, 99, HOUR + timedelta(hours=1))  # the next hour
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


def test_eligible_slots_roll_up_per_booking_and_hour_over_workers(session: Session) -> None:
    booking = live_booking(session)
    hour = datetime(2026, 6, 2, 3, tzinfo=UTC)
    for batch, worker, slots in (("b1", "w1", 30), ("b2", "w2", 12), ("b3", "w1", 5)):
        session.add(
            EligibleSlot(
                batch_id=batch,
                booking_id=booking.id,
                hour_start=hour,
                worker_id=worker,
                slots=slots,
            )
        )
    session.add(
        EligibleSlot(
            batch_id="b4",
            booking_id=booking.id,
            hour_start=hour + timedelta(hours=1),
            worker_id="w1",
            slots=7,
        )
    )
    session.flush()
    roll_up_hour(session, hour)
    roll_up_hour(session, hour)  # idempotent
    [row] = session.scalars(select(EligibleSlotRollup)).all()
    assert (row.booking_id, row.placement_id, row.hour_start, row.slots) == (
        booking.id,
        booking.placement_id,
        hour,
        47,
    )
