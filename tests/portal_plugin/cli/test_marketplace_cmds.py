from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from marketplace.bookings.requests import BookingRequest
from marketplace.bookings.services import place_hold
from marketplace.db import make_engine, make_session_factory
from marketplace.inventory.targeting import EVERYONE
from marketplace.lifecycle import BookingStatus
from marketplace.models import Booking, InventoryWeek
from portal_plugin.cli.main import app
from portal_plugin.demo.inventory import seed_inventory
from portal_plugin.migrate import upgrade
from tests.support.marketplace_factories import make_shop
from tests.support.settings import TEST_IDENTITY_SECRET, TEST_SECRET_KEY


def test_seed_and_expire_holds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    for name, value in {
        "DATABASE_URL": url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "PORTAL_IDENTITY_SECRET": TEST_IDENTITY_SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    result = runner.invoke(app, ["marketplace", "seed-inventory"])
    assert result.exit_code == 0, result.output
    assert "feed-3, feed-8, side-gadget" in result.output
    assert runner.invoke(app, ["marketplace", "seed-inventory"]).exit_code == 0  # idempotent

    engine = make_engine(url)
    factory = make_session_factory(engine)
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    with factory.begin() as session:
        placement = seed_inventory(session)[0]
        shop = make_shop(session)
        week = datetime(2030, 1, 7).date()
        place_hold(
            session,
            shop.id,
            BookingRequest(placement.id, week, 1, 3, EVERYONE),
            "cli-key-1",
            now=long_ago,
        )
    result = runner.invoke(app, ["marketplace", "expire-holds"])
    assert result.exit_code == 0 and "expired 1 hold(s)" in result.output
    with factory() as session:
        assert session.scalars(select(Booking.status)).one() is BookingStatus.EXPIRED
        assert session.scalars(select(InventoryWeek.held_shares)).one() == 0
    engine.dispose()
