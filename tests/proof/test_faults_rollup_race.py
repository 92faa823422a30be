"""Fault: two workers roll up the same delivery hour at the same time (found by the soak run).

Broke: worker A rolls the hour up and holds its transaction open (rows inserted, not committed);
worker B, in another connection and thread, rolls the same hour up meanwhile and then A commits.
Checked: B does not fail on the unique constraint (it used to: both saw no row and both
inserted), both commit, and there is exactly one rollup row per segment with the right counts.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from marketplace.delivery.models import AdOffer, DeliveryRollup
from marketplace.delivery.rollups import roll_up_hour
from marketplace.models import Booking, Placement, Shop
from tests.support.delivery_rows import live_booking, offer_row

pytestmark = pytest.mark.fault
HOUR = datetime(2019, 6, 3, 2, 0, tzinfo=UTC)


def test_concurrent_rollups_of_the_same_hour_both_succeed(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        # SQLite has one writer at a time: B, upgrading its read to a write while A holds the
        # write lock, gets SQLITE_BUSY at once. Several workers means PostgreSQL. (The upsert
        # statement itself runs on SQLite in tests/marketplace/delivery/test_rollups.py.)
        pytest.skip("concurrent writers need PostgreSQL")
    with Session(engine) as setup, setup.begin():
        b = live_booking(setup)
        for n in range(3):
            offer_row(setup, b, 10**9 + b.id * 10 + n, HOUR + timedelta(minutes=5))
        created = (b.id, b.placement_id, b.shop_id)
    try:
        _race(engine, created[0])
    finally:  # committed outside the rolled-back test session: remove it for the other tests
        booking_id, placement_id, shop_id = created
        with Session(engine) as cleanup, cleanup.begin():
            cleanup.execute(delete(DeliveryRollup).where(DeliveryRollup.booking_id == booking_id))
            cleanup.execute(delete(AdOffer).where(AdOffer.booking_id == booking_id))
            cleanup.execute(delete(Booking).where(Booking.id == booking_id))
            cleanup.execute(delete(Placement).where(Placement.id == placement_id))
            cleanup.execute(delete(Shop).where(Shop.id == shop_id))


def _race(engine: Engine, booking_id: int) -> None:

    errors: list[BaseException] = []
    with Session(engine) as first:
        assert roll_up_hour(first, HOUR) == 1  # inserted, transaction still open

        def second_worker() -> None:
            try:
                with Session(engine) as second, second.begin():
                    roll_up_hour(second, HOUR)
            except BaseException as exc:  # reported below
                errors.append(exc)

        thread = threading.Thread(target=second_worker)
        thread.start()
        time.sleep(0.5)  # B is now blocked on A's row (PostgreSQL) or write lock (SQLite)
        first.commit()
    thread.join(30)
    assert not thread.is_alive()
    assert errors == []
    with Session(engine) as check:
        rows = check.scalars(
            select(DeliveryRollup).where(DeliveryRollup.booking_id == booking_id)
        ).all()
    assert [(r.hour_start, r.offers, r.unit_price_yen) for r in rows] == [(HOUR, 3, 2_750)]
