"""What admins and /healthz see of the periodic jobs: last run, outcome, whether it is late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal_plugin.worker.jobs import Job
from portal_plugin.worker.models import JobRun


@dataclass(frozen=True)
class JobStatus:
    job: Job
    row: JobRun | None
    late: bool

    @property
    def outcome(self) -> str | None:
        return self.row.last_outcome if self.row else None


def job_statuses(session: Session, jobs: tuple[Job, ...], now: datetime) -> list[JobStatus]:
    """Each job in schedule order; late when it has not succeeded within its `late_after`."""
    rows = {
        row.name: row
        for row in session.scalars(select(JobRun).where(JobRun.name.in_([j.name for j in jobs])))
    }
    return [
        JobStatus(job, rows.get(job.name), is_late(job, rows.get(job.name), now)) for job in jobs
    ]


def is_late(job: Job, row: JobRun | None, now: datetime) -> bool:
    """No success within `late_after`. A job no worker has scheduled yet is late (no worker
    runs); one scheduled but not yet due (the month-end on a new install) is not."""
    if row is None:
        return True
    if row.last_success_at is not None:
        return now - row.last_success_at > job.late_after
    if row.last_started_at is not None:
        return True  # it ran, and never succeeded
    return row.next_run_at is None or now - row.next_run_at > job.late_after


def health_summary(statuses: list[JobStatus]) -> dict[str, dict[str, object]]:
    """Per job: when it last finished, ok or failed, and late (no message: /healthz is public)."""
    return {
        s.job.name: {
            "last_run": s.row.last_finished_at.isoformat()
            if s.row and s.row.last_finished_at
            else None,
            "outcome": s.outcome,
            "late": s.late,
        }
        for s in statuses
    }
