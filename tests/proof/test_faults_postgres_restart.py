"""Fault: the PostgreSQL server crashes and is started again while residents' feeds are served.

Broke: a private PostgreSQL 15 cluster (its own data directory, port and socket, created for this
test so that the shared server on 5432 is never touched) holds a little city with live bookings;
the plugin serves it with its own engine and pool, as a worker does. While background residents
keep loading feeds, the whole server is stopped with `pg_ctl stop -m immediate` (every backend
killed, no shutdown checkpoint: a crash, with recovery on the next start). While it is down,
residents go on reading feeds, loading impression pixels and clicking ads; then it is started
again on the same port and residents go on reading.

Checked: every feed before, during and after the outage answered 200 with ten items (and every
phase served ads), during the outage from the snapshot taken before the crash (the refresh
failed and said so); the events acknowledged during the outage are in the local spool, and the
running writer replayed and removed it once the server was back; the refresh recovered on the
same engine. Afterwards the database holds exactly the offers the feeds served (each offer id
taken from the feeds' tracking URLs once, no other), exactly the impressions and clicks that
were acknowledged (repeats were refused and not counted), and exactly two slot opportunities
per feed served.

A click on an ad whose pixel this worker had not seen used to fail with a 500 during the outage
(its impression lookup reached the database): the click was lost and the resident stranded. It
now redirects and is recorded as a click without impression (not billed), as docs/delivery.md
says.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool
from starlette.testclient import TestClient

from marketplace.db import make_engine, utcnow
from marketplace.delivery.events import Batch
from marketplace.delivery.models import AdClick, AdImpression, AdOffer, SlotOpportunity
from marketplace.delivery.service import DeliveryService
from portal_plugin.app import create_app
from portal_plugin.delivery_runtime import delivery_service
from portal_plugin.migrate import upgrade
from tests.support.delivery_world import BROWSER, World, build_world
from tests.support.settings import make_settings

pytestmark = pytest.mark.fault

PG_BIN = Path("/usr/lib/postgresql/15/bin")
LIMIT = 10
SLOTS_PER_FEED = 2  # positions 3 and 8 of a ten-item feed (build_world's placements)
MAX_BACKGROUND_FEEDS = 1_500


class PrivateCluster:
    """A throwaway PostgreSQL cluster on 127.0.0.1:`port`, run as the `postgres` OS user."""

    def __init__(self, root: Path, port: int, as_postgres: bool) -> None:
        self.root = root
        self.port = port
        self.as_postgres = as_postgres
        self.data = root / "data"
        self.log = root / "server.log"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, program: str, *args: str, check: bool = True) -> int:
        command = [str(PG_BIN / program), *args]
        if self.as_postgres:  # initdb and pg_ctl refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(
            command, cwd=self.root, capture_output=True, text=True, timeout=90, check=False
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"{program} {' '.join(args)} exited {done.returncode}\n{done.stdout}\n"
                f"{done.stderr}\n{self.log_tail()}"
            )
        return done.returncode

    def log_tail(self) -> str:
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return "\n".join(lines[-20:])

    def init(self) -> None:
        self.run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.root}"
        )
        self.run(
            "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log),
            "-o", options,
        )  # fmt: skip

    def crash(self) -> None:
        """Kill the server and every backend at once, as a crash would (no checkpoint)."""
        self.run("pg_ctl", "stop", "-w", "-t", "60", "-m", "immediate", "-D", str(self.data))

    def running(self) -> bool:
        return self.run("pg_ctl", "status", "-D", str(self.data), check=False) == 0

    def accepts_connections(self) -> bool:
        try:
            with psycopg.connect(
                host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                connect_timeout=3,
            ):  # fmt: skip
                return True
        except psycopg.OperationalError:
            return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    missing = [p for p in ("initdb", "pg_ctl", "postgres") if not (PG_BIN / p).exists()]
    if missing:
        pytest.skip(f"PostgreSQL 15 server binaries missing from {PG_BIN}: {', '.join(missing)}")
    as_postgres = os.geteuid() == 0
    account: pwd.struct_passwd | None = None
    if as_postgres:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` OS user to run initdb as")
        if shutil.which("runuser") is None:
            pytest.skip("running as root and `runuser` is missing")
    root = Path(tempfile.mkdtemp(prefix="pm-pg-restart-"))
    private = PrivateCluster(root, free_port(), as_postgres)
    try:
        if account is not None:
            os.chown(root, account.pw_uid, account.pw_gid)
        private.init()
        private.start()
        yield private
    finally:
        if private.running():
            private.run("pg_ctl", "stop", "-w", "-t", "30", "-m", "immediate", "-D",
                        str(private.data), check=False)  # fmt: skip
        pid_file = private.data / "postmaster.pid"
        if pid_file.exists():  # pg_ctl could not stop it: kill the postmaster we started
            with suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting until {what}")
        time.sleep(0.05)


def offer_id(tracking_url: str) -> str:
    """The offer id is the first field of the token (see marketplace/delivery/tracking.py)."""
    return tracking_url.rsplit("/", 1)[1].split(".", 1)[0]


@dataclass
class FeedLog:
    """What residents were served: statuses, item counts, and each ad's tracking URLs."""

    statuses: list[int] = field(default_factory=list)
    item_counts: list[int] = field(default_factory=list)
    impression_urls: dict[str, str] = field(default_factory=dict)  # offer id -> URL
    click_urls: dict[str, str] = field(default_factory=dict)
    offers: list[str] = field(default_factory=list)  # in serving order, duplicates kept

    def read(self, client: TestClient, token: str) -> list[str]:
        """Load one feed; returns the offer ids of its ads."""
        response = client.get(
            "/api/feed", params={"limit": LIMIT}, headers={"X-Portal-Resident": token}
        )
        self.statuses.append(response.status_code)
        if response.status_code != 200:
            self.item_counts.append(0)
            return []
        items: list[dict[str, Any]] = response.json()["items"]
        self.item_counts.append(len(items))
        served = []
        for ad in (item for item in items if item["type"] == "ad"):
            offer = offer_id(ad["impression_url"])
            assert offer_id(ad["click_url"]) == offer
            self.impression_urls[offer] = ad["impression_url"]
            self.click_urls[offer] = ad["click_url"]
            served.append(offer)
        self.offers.extend(served)
        return served

    @property
    def feeds(self) -> int:
        return len(self.statuses)


class BackgroundResidents(threading.Thread):
    """Residents loading feeds back to back (each a new resident, so no frequency cap bites)."""

    def __init__(self, client: TestClient, mint: Callable[..., str]) -> None:
        super().__init__(name="feed-load", daemon=True)
        self.client = client
        self.mint = mint
        self.log = FeedLog()
        self.halt = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.halt.is_set() and self.log.feeds < MAX_BACKGROUND_FEEDS:
                self.log.read(self.client, self.mint(f"load-{self.log.feeds}"))
                time.sleep(0.005)  # leave the GIL to the app's threads and the test
        except BaseException as exc:  # reported by the test thread
            self.error = exc

    def stop(self) -> None:
        self.halt.set()
        self.join(30)

    def finish(self) -> FeedLog:
        self.stop()
        assert not self.is_alive(), "the background residents did not stop"
        if self.error is not None:
            raise self.error
        return self.log


@contextmanager
def background_residents(
    client: TestClient, mint: Callable[..., str]
) -> Iterator[BackgroundResidents]:
    """Stopped before the client closes, also when the test fails half way."""
    residents = BackgroundResidents(client, mint)
    residents.start()
    try:
        yield residents
    finally:
        residents.stop()


def spooled_events(spool_dir: Path) -> tuple[set[str], set[str], set[str]]:
    """Offer ids of the offers, impressions and clicks now waiting in the writer's spool."""
    for _ in range(20):  # the writer may rename the spool aside (a replay attempt) meanwhile
        offers: set[str] = set()
        impressions: set[str] = set()
        clicks: set[str] = set()
        try:
            for path in sorted(spool_dir.glob("*.jsonl")):
                for line in path.read_text(encoding="utf-8").splitlines():
                    batch = Batch.from_json(json.loads(line))
                    offers.update(o.offer_id for o in batch.offers)
                    impressions.update(t.offer_id for t in batch.tracked if t.kind == "impression")
                    clicks.update(t.offer_id for t in batch.tracked if t.kind == "click")
        except FileNotFoundError:
            time.sleep(0.02)
            continue
        return offers, impressions, clicks
    raise AssertionError("the spool kept moving while it was read")


def track(client: TestClient, urls: list[str], expected: int) -> None:
    for url in urls:
        response = client.get(url, follow_redirects=False)
        assert response.status_code == expected, (url, response.status_code, response.text)


def seeded_database(cluster: PrivateCluster) -> tuple[str, World]:
    """A migrated database in the private cluster holding build_world's little city."""
    admin = create_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text("CREATE DATABASE portal"))
    admin.dispose()
    url = cluster.url("portal")
    upgrade(url)
    setup = make_engine(url, poolclass=NullPool)
    try:
        return url, build_world(setup)
    finally:
        setup.dispose()


@dataclass(frozen=True)
class Stored:
    offers: dict[str, int]  # offer id -> booking id
    impressions: dict[str, bool]  # offer id -> valid
    clicks: dict[str, str | None]  # offer id -> invalid reason
    slots: int


def stored_events(url: str) -> Stored:
    check = make_engine(url, poolclass=NullPool)
    try:
        with check.connect() as connection:
            offers = connection.execute(select(AdOffer.id, AdOffer.booking_id)).tuples()
            shown = connection.execute(select(AdImpression.offer_id, AdImpression.valid)).tuples()
            clicks = connection.execute(select(AdClick.offer_id, AdClick.invalid_reason)).tuples()
            slots = connection.scalar(select(func.coalesce(func.sum(SlotOpportunity.slots), 0)))
            return Stored(
                dict(offers.all()), dict(shown.all()), dict(clicks.all()), int(slots or 0)
            )
    finally:
        check.dispose()


@pytest.mark.timeout(180)
def test_feeds_and_events_survive_a_postgresql_crash_and_restart(
    cluster: PrivateCluster, resident_token: Callable[..., str], tmp_path: Path
) -> None:
    """Broke: the database server crashed under feed load, stayed down, came back on its port.

    Checked: feeds served from memory throughout; outage events spooled, then replayed; offers,
    impressions, clicks and slots in the database exactly as served and acknowledged, once each.
    """
    url, world = seeded_database(cluster)
    spool_dir = tmp_path / "spool"
    settings = make_settings(
        url,
        model_store_dir=tmp_path / "models",
        delivery_spool_dir=spool_dir,
        delivery_refresh_seconds=0.2,
        # One test client loads every pixel: the per-address limits (issue 16 item 4, tested on
        # their own) would record most as rate_limited; this test is about a crash, not abuse.
        tracking_impressions_per_address_per_minute=10000,
        tracking_impressions_per_booking_per_minute=1000,
        tracking_anonymous_feeds_per_minute=100000,
    )
    app = create_app(settings)  # its own engine and pool (pre-ping), as a worker has
    before, during, after = FeedLog(), FeedLog(), FeedLog()
    impressed: list[str] = []
    with TestClient(app, base_url="https://testserver", headers=BROWSER) as client:
        found = delivery_service(app.state.ctx)
        assert found is not None
        service: DeliveryService = found
        writer = service.writer
        wait_until(lambda: service.relevance_model != "loading", 30, "relevance is loaded")

        for n in range(10):
            before.read(client, resident_token(f"before-{n}"))
        first = before.offers[: len(before.offers) // 2]
        track(client, [before.impression_urls[o] for o in first], 204)
        impressed += first

        with background_residents(client, resident_token) as background:
            wait_until(lambda: background.log.feeds >= 20, 30, "the background load runs")

            # Broken: the whole server goes down mid-load, every backend with it.
            crashed_at = utcnow()
            cluster.crash()
            assert not cluster.running() and not cluster.accepts_connections()

            for n in range(30):
                during.read(client, resident_token(f"during-{n}"))
            # Pixels load while the database is down: of ads served during the outage, and of
            # ads served before it that had not been seen yet.
            late = before.offers[len(before.offers) // 2 :]
            outage_views = during.offers[::2] + late
            urls = {**before.impression_urls, **during.impression_urls}
            track(client, [urls[o] for o in outage_views], 204)
            impressed += outage_views
            track(client, [urls[outage_views[0]]], 400)  # already counted
            # A click on an ad whose pixel this worker did not see asks the database whether
            # another worker counted it; with the database down it must still redirect and count.
            unseen, seen = during.offers[1], during.offers[0]
            track(client, [during.click_urls[unseen]], 302)
            track(client, [during.click_urls[seen]], 302)  # over 1 click/minute from one address
            track(client, [during.click_urls[unseen]], 400)  # already counted
            clicked = {unseen: "no_impression", seen: "rate_limited"}

            # The service noticed (its refresh failed) and kept serving the pre-crash snapshot.
            wait_until(lambda: service.last_refresh_error is not None, 10, "a refresh fails")
            assert service.snapshot.loaded_at < crashed_at
            assert writer.flush(15)
            spooled_offers, spooled_impressions, spooled_clicks = spooled_events(spool_dir)
            assert set(during.offers) <= spooled_offers
            assert set(outage_views) <= spooled_impressions
            assert set(clicked) <= spooled_clicks
            assert not cluster.accepts_connections(), "the outage ended early"

            restarted_at = utcnow()
            cluster.start()
            assert "not properly shut down; automatic recovery in progress" in (
                cluster.log.read_text()
            )

            for n in range(10):
                after.read(client, resident_token(f"after-{n}"))
            after_views = after.offers[::2]
            track(client, [after.impression_urls[o] for o in after_views], 204)
            impressed += after_views
            track(client, [urls[outage_views[1]]], 400)  # counted during the outage: still once

            wait_until(
                lambda: (
                    service.last_refresh_error is None and service.snapshot.loaded_at > restarted_at
                ),
                20,
                "the refresh succeeds again on the same engine",
            )
            wait_until(
                lambda: not list(spool_dir.glob("*.jsonl")), 30, "the spool is replayed and removed"
            )
            loaded = background.finish()
        assert writer.flush(15)
        assert writer.stats.spooled > 0 and writer.stats.replayed >= writer.stats.spooled
    # Leaving the client stops the writer, which writes whatever was still queued.
    assert not list(spool_dir.glob("*.jsonl")), "events were spooled at shutdown"

    logs = (before, during, after, loaded)
    for log in logs:
        assert log.statuses == [200] * log.feeds
        assert log.item_counts == [LIMIT] * log.feeds
        assert log.offers, "a phase served no ads"
    served = [o for log in logs for o in log.offers]
    assert len(served) == len(set(served)), "one offer id was served twice"
    feeds = sum(log.feeds for log in logs)

    stored = stored_events(url)
    # Checked: each served offer exactly once, and nothing that was not served.
    assert sorted(stored.offers) == sorted(served)
    assert set(stored.offers.values()) <= set(world.bookings)
    assert sorted(stored.impressions) == sorted(impressed)
    assert all(stored.impressions.values())
    assert stored.clicks == clicked
    assert stored.slots == SLOTS_PER_FEED * feeds
