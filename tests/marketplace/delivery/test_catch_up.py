"""Smooth catch-up (issue 20 item 5), through real workers sharing a database, on a simulated
clock: a booking paused for three hours of its last twelve is owed those hours' slots, and
catches them up over the hours left at no more than twice its even rate in any hour; on one
worker, on two, and across a worker's restart.

Before, a single worker never caught up (it only counted slots while the booking was live),
while two workers or a restart counted the paused hours through the database and burst at
several times the booking's rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from marketplace.calendar import TOKYO
from marketplace.delivery.events import hour_start
from marketplace.delivery.measure import DeliveryMeasure, hourly_rate_ratio
from marketplace.delivery.models import AdOffer, EligibleSlot
from marketplace.delivery.pacing import MAX_CATCH_UP
from marketplace.delivery.service import ServedAd, TrackingContext
from marketplace.delivery.types import Audience
from marketplace.lifecycle import BookingStatus
from marketplace.models import Article, Booking, Placement
from marketplace.vocab import ArticlePriority
from tests.support.delivery_world import World, build_world, started_worker

HOURS = 12
PAUSED = range(2, 5)  # hours 2, 3 and 4 of the twelve
FEEDS_PER_HOUR = 240
REFRESH_EVERY = 15  # feeds, about every three simulated minutes
SHARE = Fraction(1, 10)
SEEN = TrackingContext(bot=False, staff=False, rate_limited=False, ip_prefix=None)


@dataclass
class Outcome:
    ratios: list[float | None]  # per hour: delivery over the even rate (share × eligible slots)
    measure: DeliveryMeasure  # the whole twelve hours


def _world(engine: Engine) -> tuple[World, int]:
    """The feed's first placement with 10 shares a week: booking A has 1 (10%), B 4 (40%)."""
    world = build_world(engine)
    first, second = world.bookings[0], world.bookings[2]
    with Session(engine) as session, session.begin():
        a = session.get_one(Booking, first)
        session.execute(
            update(Placement).where(Placement.id == a.placement_id).values(shares_per_week=10)
        )
        session.execute(update(Booking).where(Booking.id == first).values(shares=1))
        session.execute(update(Booking).where(Booking.id == second).values(shares=4))
        # Articles old enough for any simulated hour of the week.
        for i in range(12):
            session.add(
                Article(
                    external_id=f"catch-up-{first}-{i}",
                    title=f"記事{i}",
                    summary="",
                    url=f"https://www.city.example.jp/c{i}",
                    category="イベント",
                    tags=["紅葉"],
                    priority=ArticlePriority.NORMAL,
                    published_at=datetime.combine(a.first_week, time(0), tzinfo=TOKYO)
                    - timedelta(days=8),
                )
            )
    return world, first


def _set_status(engine: Engine, booking_id: int, status: BookingStatus) -> None:
    with Session(engine) as session, session.begin():
        session.execute(update(Booking).where(Booking.id == booking_id).values(status=status))


def _run(engine: Engine, folder: Path, *, workers: int, restart_at: int | None) -> Outcome:
    world, booking_id = _world(engine)
    with Session(engine) as session:
        first_week: date = session.get_one(Booking, booking_id).first_week
    # The last twelve hours of the booking's week: Sunday noon to midnight, Tokyo.
    start = datetime.combine(first_week + timedelta(days=6), time(12), tzinfo=TOKYO)
    services = [started_worker(engine, folder, f"w{i}") for i in range(workers)]
    restarts = 0

    def refresh_all(now: datetime) -> None:
        for service in services:
            assert service.writer.flush()
            service.refresh(now)

    refresh_all(start)
    for hour in range(HOURS):
        if hour == PAUSED.start:
            _set_status(engine, booking_id, BookingStatus.PAUSED)
        if hour == PAUSED.stop:
            _set_status(engine, booking_id, BookingStatus.LIVE)
        if hour == restart_at:
            services[0].stop()
            restarts += 1
            services[0] = started_worker(engine, folder, f"restarted-{restarts}")
        for n in range(FEEDS_PER_HOUR):
            now = start + timedelta(hours=hour, seconds=n * 3600 / FEEDS_PER_HOUR)
            if n % REFRESH_EVERY == 0:
                refresh_all(now)
            service = services[n % workers]
            served = service.feed(Audience(f"resident-{hour}-{n}", consent=False), 10, now)
            for item in served.items:  # every ad is seen
                if isinstance(item, ServedAd):
                    service.impression(service.read_impression(item.impression_token), SEEN, now)
    for service in services:
        service.stop()
    return _outcome(engine, booking_id, start, world)


def _outcome(engine: Engine, booking_id: int, start: datetime, world: World) -> Outcome:
    del world
    ratios: list[float | None] = []
    total = DeliveryMeasure(SHARE, 0, 0)
    with Session(engine) as session:
        for hour in range(HOURS):
            begin = hour_start(start + timedelta(hours=hour))
            shown = session.scalar(
                select(func.count()).where(
                    AdOffer.booking_id == booking_id,
                    AdOffer.offered_at >= begin,
                    AdOffer.offered_at < begin + timedelta(hours=1),
                )
            )
            slots = session.scalar(
                select(func.coalesce(func.sum(EligibleSlot.slots), 0)).where(
                    EligibleSlot.booking_id == booking_id, EligibleSlot.hour_start == begin
                )
            )
            ratios.append(hourly_rate_ratio(int(shown or 0), int(slots or 0), SHARE))
            total = total + DeliveryMeasure(SHARE, int(slots or 0), int(shown or 0))
    return Outcome(ratios, total)


def _check(outcome: Outcome) -> None:
    paused = [outcome.ratios[h] for h in PAUSED]
    after = [r for r in outcome.ratios[PAUSED.stop :] if r is not None]
    # Paused: nothing shown, but the slots were counted (a ratio of 0, not None).
    assert paused == [0.0, 0.0, 0.0], outcome.ratios
    # Catching up: above the even rate at first, never above twice it (a few impressions of
    # pacing's granularity aside), and the whole period ends on what was owed.
    assert after[0] >= 1.25, outcome.ratios
    assert max(after) <= MAX_CATCH_UP * 1.08, outcome.ratios
    deviation = outcome.measure.deviation
    assert deviation is not None and abs(deviation) <= 0.03, (deviation, outcome.ratios)


@pytest.mark.parametrize(("workers", "restart_at"), [(1, None), (2, None), (2, 7)])
def test_a_paused_booking_catches_up_smoothly(
    world_engine: Engine, tmp_path: Path, workers: int, restart_at: int | None
) -> None:
    _check(_run(world_engine, tmp_path, workers=workers, restart_at=restart_at))
