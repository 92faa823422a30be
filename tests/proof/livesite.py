"""A real HTTP server for browser and soak tests: the demo portal under uvicorn on loopback.

The server runs in a background thread of the test process on a port the kernel picks, against a
throwaway database that is migrated and seeded with a small synthetic city.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from analytics.seeds import seed_services
from marketplace.accounts.staff import create_staff
from marketplace.db import make_engine, make_session_factory
from marketplace.synthetic import generate_city
from marketplace.synthetic.loader import load_city
from marketplace.vocab import StaffRole
from portal_plugin.cli.report_cmds import run_demo_history
from portal_plugin.demo.accounts import seed_demo_accounts
from portal_plugin.demo.campaigns import seed_demo_campaigns
from portal_plugin.demo.flyers import seed_demo_flyers
from portal_plugin.demo.house_ads import seed_house_ads
from portal_plugin.demo.inventory import seed_inventory
from portal_plugin.migrate import upgrade
from tests.support.databases import throwaway_database
from tests.support.settings import make_settings

STAFF_PASSWORD = "correct horse battery staple 42"
STAFF_ACCOUNTS = {
    StaffRole.REVIEWER: "reviewer@city.example.jp",
    StaffRole.FINANCE: "finance@city.example.jp",
    StaffRole.ADMIN: "admin@city.example.jp",
}


@dataclass(frozen=True)
class SmallCity:
    residents: int = 240
    articles: int = 60
    shops: int = 12
    days: int = 14
    seed: int = 8


def preferred_backend() -> str:
    """PostgreSQL when the run has one (as in CI), so the live site is production-like."""
    return "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"


@contextmanager
def demo_world_database(folder: Path, city: SmallCity = SmallCity()) -> Iterator[str]:
    """As `make demo` seeds it, on a small city: campaigns, flyers, house ads, a fiscal year of
    bookings, invoices and payments, and the README's demo accounts."""
    with seeded_database(folder, city) as url:
        engine = make_engine(url)
        try:
            with make_session_factory(engine).begin() as session:
                seed_house_ads(session)
                seed_demo_campaigns(session)
                seed_demo_flyers(session)
                seed_demo_accounts(session)
        finally:
            engine.dispose()
        settings = make_settings(url)
        run_demo_history(settings, years=1, shops=city.shops)
        yield url


@contextmanager
def seeded_database(folder: Path, city: SmallCity = SmallCity()) -> Iterator[str]:
    """A migrated database holding a small synthetic city and one staff user per role."""
    with throwaway_database(preferred_backend(), folder) as url:
        upgrade(url)
        engine = make_engine(url)
        try:
            generated = generate_city(
                city.residents,
                n_articles=city.articles,
                n_shops=city.shops,
                days=city.days,
                seed=city.seed,
            )
            with make_session_factory(engine).begin() as session:
                load_city(session, generated)
                seed_inventory(session)  # the city's ad placements, as `make demo` has them
                seed_services(session)  # the city's free services; finance enters their costs
                for role, email in STAFF_ACCOUNTS.items():
                    create_staff(session, email, f"{role.value} 担当", STAFF_PASSWORD, role)
        finally:
            engine.dispose()
        yield url


class LiveServer:
    """uvicorn serving `app` on 127.0.0.1 in a daemon thread; `url` is its base address."""

    def __init__(self, app: ASGIApp) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self, timeout: float = 20.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)

    def stop(self, timeout: float = 20.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        self._socket.close()


@contextmanager
def live_server(app: ASGIApp) -> Iterator[LiveServer]:
    server = LiveServer(app)
    server.start()
    try:
        yield server
    finally:
        server.stop()
