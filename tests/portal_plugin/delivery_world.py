"""A committed little city for delivery route tests: shops, placements, creatives, bookings.

The delivery service reads through its own sessions (never a test's rolled-back one), so the
world is committed to a database of its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from marketplace.calendar import tokyo_date, week_start
from marketplace.db import make_engine, utcnow
from marketplace.lifecycle import BookingStatus, CreativeStatus
from marketplace.models import Article, Booking, Creative, CreativeVersion, Placement
from marketplace.vocab import ArticlePriority
from portal_plugin.migrate import upgrade
from tests.conftest import BACKENDS
from tests.dbtools import throwaway_database
from tests.marketplace.factories import make_placement, make_shop

_n = itertools.count(1)


@dataclass
class World:
    engine: Engine
    bookings: list[int]
    landing_urls: dict[int, str]  # booking id -> landing URL
    shop_names: dict[int, str]  # booking id -> shop name


@pytest.fixture(scope="module", params=BACKENDS)
def world_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    with throwaway_database(request.param, tmp_path_factory.mktemp("world")) as url:
        upgrade(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()


def build_world(
    engine: Engine, *, shops: int = 2, targeting: dict[str, Any] | None = None
) -> World:
    """Fresh placements at positions 3 and 8 (older ones retired) with one live booking each."""
    world = World(engine, [], {}, {})
    now = utcnow()
    monday = week_start(tokyo_date(now))
    with Session(engine) as session, session.begin():
        session.execute(update(Placement).values(active=False))
        session.execute(update(Article).values(priority=ArticlePriority.NORMAL))
        for i in range(12):
            session.add(
                Article(
                    external_id=f"w-{next(_n)}",
                    title=f"お知らせ{i}",
                    summary="",
                    url=f"https://www.city.example.jp/{i}",
                    category="イベント",
                    tags=["紅葉"],
                    priority=ArticlePriority.URGENT if i == 0 else ArticlePriority.NORMAL,
                    published_at=now - timedelta(hours=i + 1),
                )
            )
        placements = [make_placement(session, feed_position=p) for p in (3, 8)]
        for _ in range(shops):
            shop = make_shop(session, business_name=f"会津のお店{next(_n)}")
            creative = Creative(shop_id=shop.id, name="秋")
            session.add(creative)
            session.flush()
            landing = f"https://shop{shop.id}.example.jp/autumn"
            session.add(
                CreativeVersion(
                    creative_id=creative.id, version=1, headline="紅葉の季節の限定メニュー",
                    body="", landing_url=landing, image_data=b"x", image_content_type="image/png",
                    image_width=600, image_height=314, image_sha256="0" * 64,
                    status=CreativeStatus.APPROVED,
                )
            )  # fmt: skip
            for placement in placements:
                booking = Booking(
                    shop_id=shop.id, placement_id=placement.id, creative_id=creative.id,
                    shares=2, first_week=monday, last_week=monday, weeks=1,
                    targeting=targeting or {}, status=BookingStatus.LIVE, in_city_rate=True,
                    unit_price_yen=2_750, list_price_yen=5_500, discount_yen=0, surcharge_yen=0,
                    total_yen=5_500, tax_yen=500, idempotency_key=f"k{next(_n)}",
                )  # fmt: skip
                session.add(booking)
                session.flush()
                world.bookings.append(booking.id)
                world.landing_urls[booking.id] = landing
                world.shop_names[booking.id] = shop.business_name
    return world


def spool(tmp_path: Path) -> Path:
    return tmp_path / "spool"
