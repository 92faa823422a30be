"""What admins see of the periodic jobs: the staff page and /healthz."""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.db import make_engine, make_session_factory
from marketplace.vocab import StaffRole
from portal_plugin.settings import Settings
from portal_plugin.worker.jobs import JOBS_BY_NAME, JobEnv
from portal_plugin.worker.models import JobRun
from portal_plugin.worker.runner import run_job
from tests.support.staff_http import log_in


@pytest.fixture
def worker_env(settings: Settings) -> Iterator[JobEnv]:
    """A worker beside the app, committing on its own connection as a real one does."""
    engine = make_engine(settings.database_url)
    yield JobEnv(settings, engine, make_session_factory(engine))
    with engine.begin() as connection:
        connection.execute(delete(JobRun))
    engine.dispose()


# worker_env comes first: set up before the rolled-back test transaction, cleaned after it.
def test_healthz_shows_each_jobs_last_run_and_outcome(
    worker_env: JobEnv, client: TestClient
) -> None:
    assert run_job(worker_env, JOBS_BY_NAME["expire_holds"]).outcome == "ok"
    body = client.get("/healthz").json()
    assert body["database"] == "ok"
    holds = body["jobs"]["expire_holds"]
    assert holds["outcome"] == "ok" and holds["late"] is False and holds["last_run"]
    assert body["jobs"]["purge"] == {"last_run": None, "outcome": None, "late": True}
    assert "reconcile_stripe" not in body["jobs"]  # Stripe is not set up here


def test_admins_see_the_jobs_page(worker_env: JobEnv, client: TestClient, session: Session) -> None:
    run_job(worker_env, JOBS_BY_NAME["advance_schedule"], zone=ZoneInfo("Asia/Tokyo"))
    # Other roles are refused: tests/proof/test_access_matrix.py calls it as every party.
    log_in(client, session, StaffRole.ADMIN)
    page = client.get("/staff/jobs")
    assert page.status_code == 200
    assert "予約の掲載開始・終了" in page.text and "0 booking(s) changed status" in page.text
    assert "成功" in page.text and "まだ実行されていません" in page.text
    assert "定期処理の状況" in client.get("/staff/").text
    english = client.get("/staff/jobs?lang=en")
    assert "Periodic jobs" in english.text and "Start and end bookings" in english.text


def test_a_job_is_late_without_a_recent_success() -> None:
    from datetime import UTC, datetime, timedelta

    from portal_plugin.worker.status import is_late

    job = JOBS_BY_NAME["month_end"]
    now = datetime(2026, 12, 4, 3, tzinfo=UTC)
    assert is_late(job, None, now)  # no worker ever scheduled it
    waiting = JobRun(name="month_end", next_run_at=datetime(2026, 12, 31, 0, tzinfo=UTC))
    assert not is_late(job, waiting, now)
    failing = JobRun(name="month_end", last_started_at=now - timedelta(days=1))
    assert is_late(job, failing, now)
    recent = JobRun(name="month_end", last_success_at=now - timedelta(days=3))
    assert not is_late(job, recent, now)
    assert is_late(job, JobRun(name="month_end", last_success_at=now - timedelta(days=40)), now)
