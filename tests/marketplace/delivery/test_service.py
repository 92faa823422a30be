from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from marketplace.db import make_engine, make_session_factory, utcnow
from marketplace.delivery.models import AdOffer, SlotOpportunity
from marketplace.delivery.service import DeliveryService
from marketplace.delivery.shared_counts import SETTLE_SECONDS
from marketplace.delivery.types import Audience
from tests.support.delivery_world import World, build_world, started_worker


@pytest.fixture
def world(world_engine: Engine) -> World:
    return build_world(world_engine)


def worker(engine: Engine, tmp_path: Path, name: str) -> DeliveryService:
    return started_worker(engine, tmp_path, name)


def test_two_workers_agree_on_pacing_through_the_database(world: World, tmp_path: Path) -> None:
    workers = [worker(world.engine, tmp_path, "a"), worker(world.engine, tmp_path, "b")]
    # Uneven load: worker a serves three feeds for every one of b's.
    for n in range(600):
        service = workers[0] if n % 4 else workers[1]
        # Many residents: their daily caps never bind, so the shares are reachable.
        service.feed(Audience(f"res-{n % 997}", consent=False), 10)
        if n % 25 == 0:
            # Each worker reports its eligible slots at a refresh and reads the others' offers
            # once they have settled: as if that long later, after two refreshes.
            for _ in range(2):
                for w in workers:
                    assert w.writer.flush()
                    w.refresh(utcnow() + timedelta(seconds=SETTLE_SECONDS))
    for w in workers:
        w.stop()
    with Session(world.engine) as session:
        for booking_id in world.bookings:
            placement = session.scalar(
                select(AdOffer.placement_id).where(AdOffer.booking_id == booking_id).limit(1)
            )
            delivered = session.scalar(select(func.count()).where(AdOffer.booking_id == booking_id))
            slots = session.scalar(
                select(func.sum(SlotOpportunity.slots)).where(
                    SlotOpportunity.placement_id == placement
                )
            )
            assert slots and delivered
            share = delivered / slots
            assert abs(share - 0.5) / 0.5 <= 0.05, (booking_id, delivered, slots)


def test_feeds_are_served_from_memory_while_the_database_is_down(
    world: World, tmp_path: Path
) -> None:
    service = worker(world.engine, tmp_path, "c")
    before = service.feed(Audience("res-1", consent=False), 10)
    dead = make_session_factory(make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none"))
    service.session_factory = dead
    assert service.refresh() is False and service.last_refresh_error
    during = service.feed(Audience("res-2", consent=False), 10)
    assert len(during.items) == len(before.items) == 10
    service.stop()


def test_a_refresh_with_unchanged_articles_keeps_the_served_objects(
    world: World, tmp_path: Path
) -> None:
    service = worker(world.engine, tmp_path, "d")
    first = service.snapshot
    items = first.regular_items
    assert service.refresh()
    assert service.snapshot is not first
    assert service.snapshot.articles is first.articles
    assert service.snapshot.regular_items is items
    service.stop()


def test_a_client_key_depends_on_address_and_user_agent_only(world: World, tmp_path: Path) -> None:
    service = worker(world.engine, tmp_path, "keys")
    try:
        first = service.client_key("203.0.113", "Mozilla/5.0")
        assert len(first) == 16 and service.client_key("203.0.113", "Mozilla/5.0") == first
        assert service.client_key("203.0.114", "Mozilla/5.0") != first
        assert service.client_key("203.0.113", "Mozilla/5.1") != first
        # Only the first 256 characters of a User-Agent count (the remembered keys stay small).
        long = "Mozilla/" + "x" * 10_000
        assert service.client_key("203.0.113", long) == service.client_key("203.0.113", long[:256])
    finally:
        service.stop()
