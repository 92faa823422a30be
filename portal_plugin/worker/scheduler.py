"""`portal-marketplace worker`: APScheduler fires each job on its schedule in Asia/Tokyo."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from datetime import datetime, tzinfo
from types import FrameType
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from portal_plugin.worker.jobs import Job, JobEnv
from portal_plugin.worker.locks import ensure_rows
from portal_plugin.worker.models import JobRun
from portal_plugin.worker.runner import _record as record_status
from portal_plugin.worker.runner import next_fire, run_job, worker_id

logger = logging.getLogger("portal_plugin.worker")
STOP_GRACE_SECONDS = 10.0


def due_for_catch_up(job: Job, last_success: datetime | None, now: datetime) -> bool:
    """A daily or monthly job whose time came while no worker ran (or that never ran)."""
    return job.catch_up and (last_success is None or now - last_success > job.late_after)


class Running:
    """The jobs this worker is running now (so that stopping can wait for them)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._names: set[str] = set()

    def add(self, name: str) -> None:
        with self._lock:
            self._names.add(name)

    def discard(self, name: str) -> None:
        with self._lock:
            self._names.discard(name)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._names)


def build_scheduler(
    env: JobEnv, jobs: tuple[Job, ...], zone: tzinfo, running: Running | None = None
) -> BlockingScheduler:
    """One APScheduler job per job; a run that finds the previous one still going is skipped
    (max_instances 1) and missed runs are coalesced into one."""
    holder = worker_id()
    now = env.now()
    ensure_rows(env.engine, [job.name for job in jobs])
    with env.session_factory() as session:
        last_success = dict(
            session.execute(select(JobRun.name, JobRun.last_success_at)).tuples().all()
        )
    scheduler = BlockingScheduler(
        timezone=zone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    for job in jobs:
        first = next_fire(job, zone, now)
        if isinstance(job.trigger(zone), IntervalTrigger) or due_for_catch_up(
            job, last_success.get(job.name), now
        ):
            first = now  # frequent jobs start at once; overdue daily ones catch up now
        scheduler.add_job(
            _fire,
            trigger=job.trigger(zone),
            args=(env, job, holder, zone, running or Running()),
            id=job.name,
            name=job.label,
            next_run_time=first,
        )
        record_status(env, job.name, next_run_at=first)
    return scheduler


def _fire(env: JobEnv, job: Job, holder: str, zone: tzinfo, running: Running) -> None:
    running.add(job.name)
    try:
        run_job(env, job, holder=holder, zone=zone)
    except Exception:  # the lock itself could not be taken (database down): try next time
        logger.exception("job %s could not start", job.name, extra={"job": job.name})
    finally:
        running.discard(job.name)


def run_worker(env: JobEnv, jobs: tuple[Job, ...]) -> None:
    """Run until SIGTERM or SIGINT; jobs still running get a few seconds to finish."""
    zone = ZoneInfo(env.settings.timezone)
    running = Running()
    scheduler = build_scheduler(env, jobs, zone, running)
    stopping = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        if not stopping.is_set():
            stopping.set()
            logger.info("worker stopping (signal %d)", signum)
            scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    names = ", ".join(job.name for job in jobs)
    logger.info("worker %s started: %s (%s)", worker_id(), names, zone)
    scheduler.start()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while running.names() and time.monotonic() < deadline:
        time.sleep(0.1)
    left = running.names()
    if left:
        # PostgreSQL drops their advisory locks with the connection; SQLite's lock rows lapse
        # after each job's lease. Every job is safe to run again from the start.
        logger.warning("worker stopped with jobs unfinished: %s", ", ".join(left))
        logging.shutdown()
        os._exit(1)
    logger.info("worker stopped")
