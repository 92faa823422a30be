"""Prometheus metrics: `GET /metrics` for administrators and for a scraper on this machine.

Two kinds of figures:

* **Counted where they happen**, in each server process (`ServingMetrics`): how long each feed
  took to build and send (a histogram), and how many delivery events the writer stored in the
  database, spooled to disk or replayed from the spool. Counting costs a lock and an addition.
* **Read from the database when scraped** (`DatabaseCollector`), so any process answers them
  alike: each periodic job's runs, failures, last outcome and lateness (the worker's
  `job_runs`), and per placement the impressions its running bookings are owed so far on the
  one measure against those delivered (`marketplace.delivery.lag`).

Several server processes: `serve --workers N` sets `PROMETHEUS_MULTIPROC_DIR` to a fresh
folder before the workers start, prometheus-client keeps each process's counts in files
there, and whichever worker answers a scrape adds up every process's (`MultiProcessCollector`).
Without it (one process, or a host running its own server) each process reports its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from ipaddress import ip_address
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from marketplace.db import utcnow
from marketplace.delivery.lag import delivery_by_placement
from portal_plugin.worker.jobs import Job
from portal_plugin.worker.status import job_statuses

PREFIX = "portal_marketplace"
# The feed's target is a p99 of 25 ms on one worker; the buckets resolve around it.
FEED_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# Headers a reverse proxy adds: a request that passed through one is not from this machine.
FORWARDED_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


class ServingMetrics:
    """The figures one server process counts; each app has its own registry (no globals)."""

    def __init__(self, multiprocess_dir: Path | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry(auto_describe=True)
        self.feed_seconds = Histogram(
            f"{PREFIX}_feed_seconds",
            "Time to build and send one feed (GET /api/feed), in seconds.",
            buckets=FEED_BUCKETS,
            registry=self.registry,
        )
        events = Counter(
            f"{PREFIX}_delivery_events",
            "Delivery events (offers, impressions, clicks, slots) by where they went: written "
            "to the database, spooled to disk when it failed, replayed from the spool.",
            ["outcome"],
            registry=self.registry,
        )
        self._events = {outcome: events.labels(outcome) for outcome in STORED_OUTCOMES}

    def events_stored(self, outcome: str, events: int) -> None:
        """The event writer's `stored` hook."""
        self._events[outcome].inc(events)


STORED_OUTCOMES = ("written", "spooled", "replayed")


class _Forward(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()


class DatabaseCollector(Collector):
    """Job outcomes and delivery lag, read in one session per scrape."""

    def __init__(self, session_factory: sessionmaker[Session], jobs: tuple[Job, ...]) -> None:
        self.session_factory = session_factory
        self.jobs = jobs

    def collect(self) -> Iterator[Metric]:
        with self.session_factory() as session:
            now = utcnow()
            yield from job_metrics(session, self.jobs, now)
            yield from lag_metrics(session, now)


def job_metrics(session: Session, jobs: tuple[Job, ...], now: datetime) -> Iterator[Metric]:
    runs = CounterMetricFamily(f"{PREFIX}_job_runs", "Runs of each periodic job.", labels=["job"])
    failures = CounterMetricFamily(
        f"{PREFIX}_job_failures", "Failed runs of each periodic job.", labels=["job"]
    )
    ok = GaugeMetricFamily(
        f"{PREFIX}_job_last_run_ok",
        "1 if the job's last run succeeded, 0 if it failed (absent before its first run).",
        labels=["job"],
    )
    late = GaugeMetricFamily(
        f"{PREFIX}_job_late",
        "1 if the job has not succeeded within its allowed time (as on /healthz).",
        labels=["job"],
    )
    success = GaugeMetricFamily(
        f"{PREFIX}_job_last_success_timestamp_seconds",
        "When the job last succeeded (Unix time).",
        labels=["job"],
    )
    for status in job_statuses(session, jobs, now):
        name, row = status.job.name, status.row
        late.add_metric([name], 1.0 if status.late else 0.0)
        runs.add_metric([name], row.runs if row else 0)
        failures.add_metric([name], row.failures if row else 0)
        if status.outcome is not None:
            ok.add_metric([name], 1.0 if status.outcome == "ok" else 0.0)
        if row is not None and row.last_success_at is not None:
            success.add_metric([name], row.last_success_at.timestamp())
    yield from (runs, failures, ok, late, success)


def lag_metrics(session: Session, now: datetime) -> Iterator[Metric]:
    labels = ["placement"]
    owed = GaugeMetricFamily(
        f"{PREFIX}_delivery_owed_impressions",
        "Impressions the placement's running bookings are owed so far (share bought × seen "
        "eligible slots, from the hourly rollups).",
        labels=labels,
    )
    delivered = GaugeMetricFamily(
        f"{PREFIX}_delivery_delivered_impressions",
        "Valid impressions the placement's running bookings got so far (hourly rollups).",
        labels=labels,
    )
    lag = GaugeMetricFamily(
        f"{PREFIX}_delivery_lag_impressions",
        "Owed minus delivered for the placement's running bookings; negative when ahead.",
        labels=labels,
    )
    running = GaugeMetricFamily(
        f"{PREFIX}_delivery_running_bookings",
        "Live or paused bookings of the placement whose period has begun.",
        labels=labels,
    )
    for placement in delivery_by_placement(session, now):
        owed.add_metric([placement.placement], float(placement.owed))
        delivered.add_metric([placement.placement], placement.delivered)
        lag.add_metric([placement.placement], float(placement.lag))
        running.add_metric([placement.placement], placement.bookings)
    yield from (owed, delivered, lag, running)


def exposition(serving: ServingMetrics, database: Collector) -> bytes:
    """The text format a Prometheus server scrapes: every process's counts and the database's."""
    registry = CollectorRegistry(auto_describe=False)
    if serving.multiprocess_dir is not None:
        MultiProcessCollector(registry, path=str(serving.multiprocess_dir))
    else:
        registry.register(_Forward(serving.registry))
    registry.register(database)
    return generate_latest(registry)


def from_this_machine(request: Request) -> bool:
    """A loopback client that did not come through a reverse proxy on this machine."""
    if request.client is None:
        return False
    if any(name in request.headers for name in FORWARDED_HEADERS):
        return False
    try:
        return ip_address(request.client.host).is_loopback
    except ValueError:
        return False
