"""A committed little city for delivery route tests: shops, placements, creatives, bookings.

The delivery service reads through its own sessions (never a test's rolled-back one), so the
world is committed to a database of its own: the `world_engine` fixture
(tests/support/delivery_fixtures.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.calendar import tokyo_date, week_start
from marketplace.db import make_session_factory, utcnow
from marketplace.delivery.relevance import UniformScorer
from marketplace.delivery.service import DeliveryService
from marketplace.delivery.tracking import TokenSigner
from marketplace.delivery.writer import EventWriter
from marketplace.lifecycle import BookingStatus, CreativeStatus, PlacementKind
from marketplace.models import Article, Booking, Creative, CreativeVersion, Placement
from marketplace.vocab import ArticlePriority
from portal_plugin.app import create_app
from portal_plugin.delivery_runtime import delivery_service
from tests.support.marketplace_factories import make_placement, make_shop
from tests.support.settings import make_settings

# Requests carry a browser's User-Agent, so the feed does not take them for a bot.
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"}
_n = itertools.count(1)


@dataclass
class World:
    engine: Engine
    bookings: list[int]
    landing_urls: dict[int, str]  # booking id -> landing URL
    shop_names: dict[int, str]  # booking id -> shop name
    side_bookings: list[int] = field(default_factory=list)  # on the gadget column's placement


def build_world(
    engine: Engine, *, shops: int = 2, targeting: dict[str, Any] | None = None, side: bool = False
) -> World:
    """Fresh placements at positions 3 and 8 (older ones retired) with one live booking each;
    with `side`, a gadget-column placement too, also with one booking per shop."""
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
        if side:
            placements.append(
                make_placement(session, kind=PlacementKind.SIDE_GADGET, feed_position=None)
            )
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
                if placement.kind is PlacementKind.SIDE_GADGET:
                    world.side_bookings.append(booking.id)
                else:
                    world.bookings.append(booking.id)
                world.landing_urls[booking.id] = landing
                world.shop_names[booking.id] = shop.business_name
    return world


def started_worker(engine: Engine, folder: Path, name: str) -> DeliveryService:
    """One worker's delivery service on `engine` (uniform relevance), refreshed and writing."""
    writer = EventWriter(engine, folder / name, flush_interval=0.01)
    service = DeliveryService(
        make_session_factory(engine), writer, TokenSigner("s" * 40), "r" * 40, UniformScorer()
    )
    writer.start()
    service.refresh()
    return service


@contextmanager
def world_client(world: World, spool_dir: Path, **settings: Any) -> Iterator[TestClient]:
    """The plugin serving `world` (lifespan entered: delivery running), as a resident's browser."""
    url = world.engine.url.render_as_string(hide_password=False)
    app = create_app(
        make_settings(url, delivery_spool_dir=spool_dir, **settings), engine=world.engine
    )
    with TestClient(app, base_url="https://testserver", headers=BROWSER) as client:
        yield client


def running_delivery_service(client: TestClient) -> DeliveryService:
    """The delivery service the app behind `client` started."""
    found = delivery_service(client.app.state.ctx)  # type: ignore[attr-defined]
    assert found is not None
    return found
