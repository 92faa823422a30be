"""The worker's job runner on the real database: one run at a time, retries, recorded outcome."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError

from marketplace.db import make_engine, make_session_factory
from portal_plugin.settings import Settings
from portal_plugin.worker.jobs import JOBS, Job, JobEnv, every
from portal_plugin.worker.models import JobRun
from portal_plugin.worker.runner import run_job
from portal_plugin.worker.scheduler import build_scheduler, due_for_catch_up

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def envs(settings: Settings) -> Iterator[list[JobEnv]]:
    """Two workers' environments: separate engines, so separate connections and locks."""
    engines = [make_engine(settings.database_url) for _ in range(2)]
    yield [JobEnv(settings, engine, make_session_factory(engine)) for engine in engines]
    with engines[0].begin() as connection:
        connection.execute(delete(JobRun))
    for engine in engines:
        engine.dispose()


def test_job(name: str, run, **options) -> Job:  # type: ignore[no-untyped-def]
    return Job(name, "テスト", "1分ごと", every(minutes=1), run, timedelta(minutes=10), **options)


test_job.__test__ = False  # type: ignore[attr-defined]


def status(env: JobEnv, name: str) -> JobRun:
    with env.session_factory() as session:
        return session.execute(select(JobRun).where(JobRun.name == name)).scalar_one()


def test_two_workers_running_one_job_at_once_run_it_once(envs: list[JobEnv]) -> None:
    ran: list[str] = []
    inside = threading.Event()
    other_done = threading.Event()

    def work(env: JobEnv) -> str:
        ran.append("run")
        inside.set()
        # Hold the lock until the other worker has tried (and, if locking works, given up).
        assert other_done.wait(30), "the second worker never came back"
        return "did the work"

    job = test_job("test_concurrent", work)
    results = {}

    def first() -> None:
        results["first"] = run_job(envs[0], job, holder="worker-a")

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(30)
    try:
        results["second"] = run_job(envs[1], job, holder="worker-b")
    finally:
        other_done.set()
        thread.join(30)

    assert ran == ["run"]
    assert results["first"].outcome == "ok"
    assert results["second"].outcome == "skipped"
    row = status(envs[0], "test_concurrent")
    assert (row.runs, row.last_outcome, row.last_message) == (1, "ok", "did the work")
    # The lock is free again: the next run goes ahead.
    assert run_job(envs[1], job, holder="worker-b").outcome == "ok"
    assert ran == ["run", "run"]


def test_jobs_sharing_a_lock_do_not_overlap(envs: list[JobEnv]) -> None:
    inside = threading.Event()
    release = threading.Event()

    def slow(env: JobEnv) -> str:
        inside.set()
        assert release.wait(30)
        return "trained"

    training = test_job("test_train", slow, lock="test_model")
    refresh = test_job("test_refresh", lambda env: "refreshed", lock="test_model")
    thread = threading.Thread(target=run_job, args=(envs[0], training), kwargs={"holder": "a"})
    thread.start()
    assert inside.wait(30)
    try:
        assert run_job(envs[1], refresh, holder="b").outcome == "skipped"
    finally:
        release.set()
        thread.join(30)
    assert run_job(envs[1], refresh, holder="b").outcome == "ok"


def test_a_passing_database_fault_is_retried(envs: list[JobEnv]) -> None:
    calls: list[int] = []

    def flaky(env: JobEnv) -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
        return "third time"

    result = run_job(envs[0], test_job("test_flaky", flaky), retry_wait=0.01)
    assert (result.outcome, result.attempts, result.message) == ("ok", 3, "third time")


def test_a_failure_is_recorded_and_not_retried_when_it_is_not_passing(
    envs: list[JobEnv],
) -> None:
    calls: list[int] = []

    def broken(env: JobEnv) -> str:
        calls.append(1)
        raise ValueError("請求書の発行者が設定されていません")

    result = run_job(envs[0], test_job("test_broken", broken), retry_wait=0.01, zone=TOKYO)
    assert result.outcome == "failed" and len(calls) == 1
    row = status(envs[0], "test_broken")
    assert row.last_outcome == "failed" and row.failures == 1 and row.last_success_at is None
    assert "請求書の発行者" in row.last_message
    assert row.next_run_at is not None and row.running_since is None


def test_the_schedule_has_every_periodic_job(envs: list[JobEnv]) -> None:
    names = {job.name for job in JOBS}
    assert names >= {
        "expire_holds", "advance_schedule", "cancellations", "month_end", "recognise",
        "make_goods", "refresh_reach", "purge", "train", "refresh_model",
    }  # fmt: skip
    scheduler = build_scheduler(envs[0], JOBS, TOKYO)
    scheduled = {job.id: job for job in scheduler.get_jobs()}
    assert set(scheduled) == names
    assert scheduled["train"].trigger.fields[5].expressions[0].first == 2  # 02:00 Tokyo


def test_an_overdue_daily_job_catches_up_when_a_worker_starts(envs: list[JobEnv]) -> None:
    purge = next(job for job in JOBS if job.name == "purge")
    now = envs[0].now()
    assert due_for_catch_up(purge, None, now)
    assert due_for_catch_up(purge, now - timedelta(days=2), now)
    assert not due_for_catch_up(purge, now - timedelta(hours=3), now)
    train = next(job for job in JOBS if job.name == "train")
    assert not due_for_catch_up(train, None, now)
