"""Overselling is impossible under real concurrency: separate connections, committed data."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from marketplace.bookings.requests import BookingRequest
from marketplace.bookings.services import confirm_booking, place_hold
from marketplace.db import make_engine
from marketplace.errors import SharesUnavailable
from marketplace.inventory.targeting import EVERYONE
from marketplace.lifecycle import BookingStatus
from marketplace.models import Booking, InventoryWeek
from portal_plugin.migrate import upgrade
from tests.support.databases import throwaway_database
from tests.support.marketplace_factories import NOW, WEEK, make_placement, make_shop

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)"
    ),
]

REQUESTS = 50


@pytest.fixture
def committed_engine(tmp_path: Path) -> Iterator[Engine]:
    with throwaway_database("postgresql", tmp_path) as url:
        upgrade(url)
        engine = make_engine(url, poolclass=NullPool)
        yield engine
        engine.dispose()


def _setup(factory: sessionmaker[Session]) -> tuple[list[int], int]:
    """Six shares a week, two already sold: four are free."""
    with factory.begin() as session:
        shops = [make_shop(session).id for _ in range(REQUESTS)]
        placement = make_placement(session, shares_per_week=6).id
        sold = place_hold(
            session,
            shops[0],
            BookingRequest(placement, WEEK, 1, 2, EVERYONE),
            "presold-0001",
            now=NOW,
        )
        confirm_booking(session, sold.id, now=NOW)
    return shops, placement


def _fire(factory: sessionmaker[Session], jobs: list[tuple[int, int, str]]) -> list[str]:
    barrier = threading.Barrier(len(jobs))

    def book(shop_id: int, placement_id: int, key: str) -> str:
        barrier.wait()
        try:
            with factory.begin() as session:
                place_hold(
                    session,
                    shop_id,
                    BookingRequest(placement_id, WEEK, 1, 1, EVERYONE),
                    key,
                    now=NOW,
                )
        except SharesUnavailable:
            return "sold_out"
        return "held"

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(lambda job: book(*job), jobs))


def test_fifty_concurrent_holds_on_four_free_shares(committed_engine: Engine) -> None:
    factory = sessionmaker(bind=committed_engine, expire_on_commit=False)
    shops, placement = _setup(factory)
    outcomes = _fire(factory, [(shop, placement, f"race-{n:04d}") for n, shop in enumerate(shops)])
    assert outcomes.count("held") == 4
    assert outcomes.count("sold_out") == REQUESTS - 4
    with factory() as session:
        row = session.scalars(
            select(InventoryWeek).where(InventoryWeek.placement_id == placement)
        ).one()
        assert (row.sold_shares, row.held_shares, row.total_shares) == (2, 4, 6)
        held = session.scalar(select(func.count()).where(Booking.status == BookingStatus.HELD))
        assert held == 4


def test_double_submitted_hold_books_once_under_concurrency(committed_engine: Engine) -> None:
    factory = sessionmaker(bind=committed_engine, expire_on_commit=False)
    shops, placement = _setup(factory)
    outcomes = _fire(factory, [(shops[1], placement, "same-key-0001")] * 10)
    assert outcomes == ["held"] * 10
    with factory() as session:
        assert session.scalar(select(func.count()).where(Booking.shop_id == shops[1])) == 1
        row = session.scalars(
            select(InventoryWeek).where(InventoryWeek.placement_id == placement)
        ).one()
        assert row.held_shares == 1
