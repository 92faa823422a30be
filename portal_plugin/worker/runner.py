"""Run one job: under its lock, with retries on passing database faults, one log line, and its
outcome on the job's row in `job_runs` (what admins see on /staff/jobs and in /healthz)."""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Literal

from sqlalchemy import update
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from portal_plugin.worker.jobs import Job, JobEnv
from portal_plugin.worker.locks import ensure_rows, job_lock
from portal_plugin.worker.models import JobRun

logger = logging.getLogger("portal_plugin.worker")

Outcome = Literal["ok", "failed", "skipped"]
MESSAGE_MAX = 500


@dataclass(frozen=True)
class RunResult:
    job: str
    outcome: Outcome
    message: str
    attempts: int
    seconds: float


def worker_id() -> str:
    """Who holds a lock: host and process, readable in the database and the logs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def is_transient(exc: BaseException) -> bool:
    """Faults worth another try: the database went away or refused for a moment, a network
    error. A domain error (an invoice that cannot be issued) fails at once."""
    return isinstance(exc, OperationalError | InterfaceError | ConnectionError | TimeoutError)


def run_job(
    env: JobEnv,
    job: Job,
    *,
    holder: str | None = None,
    retry_wait: float = 5.0,
    zone: tzinfo | None = None,
) -> RunResult:
    """Run `job` now unless another worker is running it (then "skipped", nothing recorded)."""
    holder = holder or worker_id()
    started = env.now()
    clock = time.perf_counter()
    with job_lock(env.engine, job.lock_name, holder, job.lease, started) as held:
        if not held:
            logger.info(
                "job %s skipped: another worker holds its lock (%s)",
                job.name,
                job.lock_name,
                extra={"job": job.name, "outcome": "skipped"},
            )
            return RunResult(job.name, "skipped", "", 0, 0.0)
        _record(env, job.name, running_since=started, last_started_at=started)
        attempts = 0
        outcome: Outcome = "ok"
        try:
            for attempt in Retrying(
                stop=stop_after_attempt(job.attempts),
                wait=wait_exponential(multiplier=retry_wait, max=60),
                retry=retry_if_exception(is_transient),
                reraise=True,
            ):
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    message = job.run(env)
        except Exception as exc:
            outcome = "failed"
            message = f"{type(exc).__name__}: {exc}"
            logger.exception("job %s raised", job.name, extra={"job": job.name})
        seconds = time.perf_counter() - clock
        finished = env.now()
        _finish(env, job, outcome, message, attempts, seconds, finished, zone)
    log = logger.info if outcome == "ok" else logger.error
    log(
        "job %s %s in %.2f s (attempt %d of %d): %s",
        job.name,
        outcome,
        seconds,
        attempts,
        job.attempts,
        message,
        extra={
            "job": job.name,
            "outcome": outcome,
            "duration_ms": round(seconds * 1000),
            "attempts": attempts,
        },
    )
    return RunResult(job.name, outcome, message, attempts, seconds)


def next_fire(job: Job, zone: tzinfo, now: datetime) -> datetime | None:
    fire: datetime | None = job.trigger(zone).get_next_fire_time(None, now)
    return fire


def _finish(
    env: JobEnv,
    job: Job,
    outcome: Outcome,
    message: str,
    attempts: int,
    seconds: float,
    finished: datetime,
    zone: tzinfo | None,
) -> None:
    values: dict[str, object] = {
        "running_since": None,
        "last_finished_at": finished,
        "last_outcome": outcome,
        "last_message": message[:MESSAGE_MAX],
        "last_duration_ms": round(seconds * 1000),
        "last_attempts": attempts,
        "runs": JobRun.runs + 1,
        "failures": JobRun.failures + int(outcome == "failed"),
    }
    if outcome == "ok":
        values["last_success_at"] = finished
    if zone is not None:
        values["next_run_at"] = next_fire(job, zone, finished)
    _record(env, job.name, **values)


def _record(env: JobEnv, name: str, **values: object) -> None:
    """Write the job's status row; a database that is down loses only this status, not the job."""
    try:
        ensure_rows(env.engine, [name])
        with env.engine.begin() as connection:
            connection.execute(update(JobRun).where(JobRun.name == name).values(**values))
    except SQLAlchemyError as exc:
        logger.warning("job %s: could not record its status: %s", name, exc.__class__.__name__)
