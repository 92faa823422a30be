"""The world a soak runs against: a PostgreSQL database with a small city, live ads and a shop.

Everything is committed through the real services and models, so the uvicorn workers (separate
processes) see it. The database is created for the run and dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from marketplace.db import make_engine, normalise_database_url
from marketplace.models import Placement, Resident
from marketplace.seeding import load_city
from marketplace.shop_accounts import create_api_token
from marketplace.synthetic import generate_city
from portal_plugin.demo.app import identity_of
from portal_plugin.identity import ResidentIdentity
from portal_plugin.migrate import upgrade
from tests.marketplace.factories import make_shop
from tests.portal_plugin.delivery_world import build_world

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class SoakWorld:
    database_url: str
    residents: list[ResidentIdentity]
    shop_token: str
    placement_ids: list[int]


@contextmanager
def throwaway_postgres(admin_url: str) -> Iterator[str]:
    admin_url = normalise_database_url(admin_url)
    name = f"pm_soak_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
            _, token = create_api_token(session, shop.id, None, "soak")
            placements = list(session.scalars(select(Placement.id).where(Placement.active)))
            people = [
                identity_of(resident)
                for resident in session.scalars(select(Resident).order_by(Resident.id).limit(2_000))
            ]
    finally:
        engine.dispose()
    return SoakWorld(database_url, people, token, placements)
