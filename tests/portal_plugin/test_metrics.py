"""`/metrics`: Prometheus's text format for this machine's scraper and administrators only."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pytest
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.accounts.staff import create_staff
from marketplace.db import utcnow
from marketplace.delivery.events import hour_start
from marketplace.delivery.models import DeliveryRollup, EligibleSlotRollup
from marketplace.models import Booking, Placement
from marketplace.vocab import StaffRole
from portal_plugin.app import create_app
from portal_plugin.metrics import ServingMetrics, exposition
from portal_plugin.worker.jobs import jobs_for
from portal_plugin.worker.models import JobRun
from tests.support.delivery_world import BROWSER, World, build_world
from tests.support.settings import make_settings
from tests.support.staff_http import PASSWORD

SCRAPER = ("127.0.0.1", 40123)
SLOTS, IMPRESSIONS = 1_000, 120


@pytest.fixture(scope="module")
def world(world_engine: Engine) -> World:
    world = build_world(world_engine)
    now = utcnow()
    with Session(world_engine) as session, session.begin():
        booking = session.get_one(Booking, world.bookings[0])
        hour = hour_start(now)
        session.add(
            EligibleSlotRollup(
                hour_start=hour,
                booking_id=booking.id,
                placement_id=booking.placement_id,
                slots=SLOTS,
            )
        )
        session.add(
            DeliveryRollup(
                hour_start=hour, booking_id=booking.id, placement_id=booking.placement_id,
                age_band="30-39", household="couple", district="tsuruga", offers=IMPRESSIONS,
                impressions=IMPRESSIONS, invalid_impressions=0, clicks=0, invalid_clicks=0,
                unit_price_yen=booking.unit_price_yen,
            )
        )  # fmt: skip
        session.merge(JobRun(name="expire_holds", last_outcome="ok", runs=7, failures=2,
                             last_success_at=now, last_finished_at=now))  # fmt: skip
        session.merge(JobRun(name="purge", last_outcome="failed", runs=3, failures=3,
                             last_finished_at=now))  # fmt: skip
    return world


def serve(world: World, folder: Path, client: tuple[str, int] = SCRAPER) -> Iterator[TestClient]:
    url = world.engine.url.render_as_string(hide_password=False)
    app = create_app(make_settings(url, delivery_spool_dir=folder), engine=world.engine)
    with TestClient(app, base_url="https://testserver", headers=BROWSER, client=client) as c:
        yield c


@pytest.fixture
def scraper(world: World, tmp_path: Path) -> Iterator[TestClient]:
    yield from serve(world, tmp_path / "spool")


@pytest.fixture
def remote(world: World, tmp_path: Path) -> Iterator[TestClient]:
    yield from serve(world, tmp_path / "spool", ("203.0.113.9", 5555))


def scrape(client: TestClient) -> dict[str, list[Sample]]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


def value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and s.labels == labels]
    assert len(found) == 1, (name, labels, samples)
    return found[0]


def test_a_scrape_parses_with_feed_latency_events_jobs_and_delivery_lag(
    scraper: TestClient, world: World
) -> None:
    for _ in range(3):
        assert scraper.get("/api/feed").status_code == 200
    feed_seconds = scrape(scraper)["portal_marketplace_feed_seconds"]
    assert value(feed_seconds, "portal_marketplace_feed_seconds_count") == 3
    assert 0 < value(feed_seconds, "portal_marketplace_feed_seconds_sum") < 3
    assert value(feed_seconds, "portal_marketplace_feed_seconds_bucket", le="+Inf") == 3

    deadline = time.monotonic() + 10  # the event writer flushes every half second
    while True:
        families = scrape(scraper)
        events = families["portal_marketplace_delivery_events"]
        if value(events, "portal_marketplace_delivery_events_total", outcome="written") or (
            time.monotonic() > deadline
        ):
            break
        time.sleep(0.1)
    # Three feeds, each with its offers and eligible slots: all written, nothing spooled.
    assert value(events, "portal_marketplace_delivery_events_total", outcome="written") >= 3
    assert value(events, "portal_marketplace_delivery_events_total", outcome="spooled") == 0

    runs, ok = (
        families["portal_marketplace_job_runs"],
        families["portal_marketplace_job_last_run_ok"],
    )
    assert value(runs, "portal_marketplace_job_runs_total", job="expire_holds") == 7
    failures = families["portal_marketplace_job_failures"]
    assert value(failures, "portal_marketplace_job_failures_total", job="purge") == 3
    assert value(ok, "portal_marketplace_job_last_run_ok", job="expire_holds") == 1
    assert value(ok, "portal_marketplace_job_last_run_ok", job="purge") == 0
    late = families["portal_marketplace_job_late"]
    every_job = {s.labels["job"] for s in late}
    assert every_job == {job.name for job in jobs_for(scraper.app.state.ctx.settings)}  # type: ignore[attr-defined]
    assert value(late, "portal_marketplace_job_late", job="expire_holds") == 0
    assert value(late, "portal_marketplace_job_late", job="purge") == 1

    with Session(world.engine) as session:
        booking = session.get_one(Booking, world.bookings[0])
        placement = session.scalars(
            select(Placement).where(Placement.id == booking.placement_id)
        ).one()
        owed = Fraction(booking.shares, placement.shares_per_week) * SLOTS
    lag = families["portal_marketplace_delivery_lag_impressions"]
    owed_samples = families["portal_marketplace_delivery_owed_impressions"]
    delivered = families["portal_marketplace_delivery_delivered_impressions"]
    assert value(owed_samples, "portal_marketplace_delivery_owed_impressions",
                 placement=placement.code) == pytest.approx(float(owed))  # fmt: skip
    assert value(delivered, "portal_marketplace_delivery_delivered_impressions",
                 placement=placement.code) == IMPRESSIONS  # fmt: skip
    assert value(lag, "portal_marketplace_delivery_lag_impressions",
                 placement=placement.code) == pytest.approx(float(owed - IMPRESSIONS))  # fmt: skip
    running = families["portal_marketplace_delivery_running_bookings"]
    assert value(running, "portal_marketplace_delivery_running_bookings",
                 placement=placement.code) == 2  # fmt: skip


def signed_in(client: TestClient, engine: Engine, role: StaffRole) -> None:
    email = f"{role.value}-metrics@city.example"
    with Session(engine) as session, session.begin():
        create_staff(session, email, f"{role.value} 職員", PASSWORD, role)
    client.cookies.clear()
    response = client.post(
        "/staff/login", data={"email": email, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


def test_a_remote_caller_is_refused_unless_an_administrator(
    remote: TestClient, world: World
) -> None:
    response = remote.get("/metrics")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    signed_in(remote, world.engine, StaffRole.FINANCE)
    assert remote.get("/metrics").status_code == 403
    signed_in(remote, world.engine, StaffRole.ADMIN)
    assert "portal_marketplace_job_runs_total" in remote.get("/metrics").text


def test_a_request_through_a_proxy_on_this_machine_is_not_local(scraper: TestClient) -> None:
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
        assert scraper.get("/metrics", headers={header: "198.51.100.7"}).status_code == 403


COUNTING_PROCESS = """
import sys
from portal_plugin.metrics import ServingMetrics, exposition
metrics = ServingMetrics()
metrics.events_stored("written", int(sys.argv[1]))
metrics.feed_seconds.observe(0.004)
"""


def test_several_processes_are_added_up_from_the_multiprocess_folder(tmp_path: Path) -> None:
    """What `serve --workers N` relies on: each worker counts into the folder, and whichever
    answers the scrape reports them all."""
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for events in (5, 7):
        subprocess.run(
            [sys.executable, "-c", COUNTING_PROCESS, str(events)], env=environment, check=True
        )
    assert len(list(tmp_path.glob("*.db"))) == 4  # a counter and a histogram file per process

    class NoDatabase(Collector):
        def collect(self) -> Iterator[Metric]:
            return iter(())

    text = exposition(ServingMetrics(tmp_path), NoDatabase()).decode()
    families = {f.name: f.samples for f in text_string_to_metric_families(text)}
    events = families["portal_marketplace_delivery_events"]
    assert value(events, "portal_marketplace_delivery_events_total", outcome="written") == 12
    feed = families["portal_marketplace_feed_seconds"]
    assert value(feed, "portal_marketplace_feed_seconds_count") == 2
    assert value(feed, "portal_marketplace_feed_seconds_bucket", le="0.005") == 2
