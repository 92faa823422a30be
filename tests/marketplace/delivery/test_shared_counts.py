"""Other workers' counts are read once per offer, and nothing written late is lost for good."""

from __future__ import annotations

import gc
import itertools
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from marketplace.calendar import start_of_tokyo_day, tokyo_date
from marketplace.db import utcnow
from marketplace.delivery.events import hour_start
from marketplace.delivery.models import AdOffer
from marketplace.delivery.shared_counts import RECOUNT_SECONDS, SETTLE_SECONDS, SharedCountsReader
from tests.support.delivery_factories import ad

_ids = itertools.count(1)
BOOKINGS = [ad(9001), ad(9002)]


def offer(engine: Engine, booking: int, worker: str, at: datetime, resident: str | None) -> None:
    with Session(engine) as session, session.begin():
        session.add(
            AdOffer(
                id=f"shared-{next(_ids):025d}", booking_id=booking, placement_id=1,
                creative_version_id=1, shop_id=1, resident_key=resident, age_band="unknown",
                household="unknown", district="unknown", personalized=False, position=3,
                worker_id=worker, offered_at=at,
            )
        )  # fmt: skip


def read(engine: Engine, reader: SharedCountsReader, now: datetime) -> tuple[dict, dict]:  # type: ignore[type-arg]
    """Offers per booking, and today's offers per (resident, booking)."""
    with Session(engine) as session:
        counts = reader.read(session, BOOKINGS, now)
    pairs = {(r, b): n for b, residents in counts.caps.items() for r, n in residents.items()}
    return dict(counts.delivered), pairs


def test_each_offer_of_another_worker_is_counted_once_after_it_settled(
    world_engine: Engine,
) -> None:
    # Half past an hour: the whole test within one hour (the counts are the hour's).
    now = hour_start(utcnow()) + timedelta(minutes=30)
    reader = SharedCountsReader("me")
    settle = timedelta(seconds=SETTLE_SECONDS)
    offer(world_engine, 9001, "other", now - timedelta(minutes=1), "r1")
    offer(world_engine, 9001, "me", now - timedelta(minutes=1), "r1")  # mine: never counted
    assert read(world_engine, reader, now) == ({9001: 1}, {("r1", 9001): 1})

    for step in range(1, 6):  # one offer a second by another worker, read every two seconds
        moment = now + timedelta(seconds=2 * step)
        offer(world_engine, 9002, "other", moment - timedelta(seconds=1), "r2")
        offer(world_engine, 9002, "other", moment - timedelta(seconds=2), None)
        delivered, caps = read(world_engine, reader, moment)
        # Offers younger than the settling time are not counted yet; older ones exactly once.
        settled = sum(1 for s in range(1, step + 1) for back in (1, 2)
                      if now + timedelta(seconds=2 * s - back) < moment - settle)  # fmt: skip
        assert delivered.get(9002, 0) == settled
        assert delivered[9001] == 1
    later = now + timedelta(seconds=10 + SETTLE_SECONDS)
    delivered, caps = read(world_engine, reader, later)
    assert delivered == {9001: 1, 9002: 10}
    assert caps == {("r1", 9001): 1, ("r2", 9002): 5}

    # A batch replayed from a spool lands with old offer times: the next recount finds it.
    offer(world_engine, 9001, "other", now - timedelta(minutes=2), "r3")
    assert read(world_engine, reader, later + timedelta(seconds=2))[0][9001] == 1
    recount = later + timedelta(seconds=RECOUNT_SECONDS + 1)
    delivered, caps = read(world_engine, reader, recount)
    assert delivered[9001] == 2 and caps[("r3", 9001)] == 1


def test_caps_are_per_tokyo_day(world_engine: Engine) -> None:
    reader = SharedCountsReader("me")
    midnight = start_of_tokyo_day(tokyo_date(utcnow()) + timedelta(days=3))
    offer(world_engine, 9002, "other", midnight - timedelta(minutes=30), "night-owl")
    before = read(world_engine, reader, midnight - timedelta(minutes=1))
    assert before[1][("night-owl", 9002)] == 1
    offer(world_engine, 9002, "other", midnight + timedelta(minutes=5), "night-owl")
    delivered, caps = read(world_engine, reader, midnight + timedelta(minutes=10))
    assert caps[("night-owl", 9002)] == 1  # only today's offer
    assert before[0][9002] == 1 and delivered[9002] == 1  # each hour's own


def test_counts_handed_out_never_change_and_stay_out_of_the_collector(
    world_engine: Engine,
) -> None:
    now = utcnow().replace(microsecond=0)
    if tokyo_date(now) != tokyo_date(now + timedelta(minutes=5)):
        now += timedelta(minutes=10)
    reader = SharedCountsReader("me")
    offer(world_engine, 9001, "other", now - timedelta(minutes=1), "handed-1")
    with Session(world_engine) as session:
        first = reader.read(session, BOOKINGS, now)
    as_read = {booking: dict(residents) for booking, residents in first.caps.items()}
    assert as_read[9001]["handed-1"] == 1
    offer(world_engine, 9001, "other", now - timedelta(seconds=5), "handed-1")
    offer(world_engine, 9001, "other", now - timedelta(seconds=5), "handed-2")
    with Session(world_engine) as session:
        second = reader.read(session, BOOKINGS, now + timedelta(seconds=2 * SETTLE_SECONDS))
    assert first.caps == as_read  # a feed may still be reading it
    assert second.caps[9001]["handed-1"] == 2 and second.caps[9001]["handed-2"] == 1
    # Only strings and ints inside: the collector's full passes never walk the residents.
    assert not any(gc.is_tracked(residents) for residents in second.caps.values())
