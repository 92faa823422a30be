"""The world a soak runs against: a PostgreSQL database with a small city, live ads and a shop.

Everything is committed through the real services and models, so the uvicorn workers (separate
processes) see it. The database is created for the run and dropped afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.shops import create_api_token
from marketplace.db import make_engine
from marketplace.models import Placement, Resident
from marketplace.synthetic import generate_city
from marketplace.synthetic.loader import load_city
from portal_plugin.demo.app import identity_of
from portal_plugin.identity import ResidentIdentity
from portal_plugin.migrate import upgrade
from tests.support.databases import throwaway_database
from tests.support.delivery_world import build_world
from tests.support.marketplace_factories import make_creative, make_shop

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class SoakWorld:
    database_url: str
    residents: list[ResidentIdentity]
    shop_token: str
    placement_ids: list[int]


@contextmanager
def throwaway_postgres(admin_url: str, folder: Path) -> Iterator[str]:
    """A new PostgreSQL database on the server of `admin_url`, dropped afterwards."""
    os.environ["TEST_DATABASE_URL"] = admin_url  # where tests.support.databases creates them
    with throwaway_database("postgresql", folder) as url:
        yield url


def build_soak_world(database_url: str, residents: int, seed: int = 11) -> SoakWorld:
    """Migrate, seed a city, put ads live (two shops, two feed positions), add a booking shop."""
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        city = generate_city(residents, n_articles=400, n_shops=40, days=14, seed=seed)
        with Session(engine) as session, session.begin():
            load_city(session, city)
        build_world(engine, shops=3)
        with Session(engine) as session, session.begin():
            shop = make_shop(session, business_name="ソーク試験商店")
            make_creative(session, shop.id)  # a shop may hold only with a creative in review
            _, token = create_api_token(session, shop.id, None, "soak")
            placements = list(session.scalars(select(Placement.id).where(Placement.active)))
            people = [
                identity_of(resident)
                for resident in session.scalars(select(Resident).order_by(Resident.id).limit(2_000))
            ]
    finally:
        engine.dispose()
    return SoakWorld(database_url, people, token, placements)
