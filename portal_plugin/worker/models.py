"""One row per periodic job: its last run and outcome, and (on SQLite) its lock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, UTCDateTime

OUTCOMES = ("ok", "failed")


class JobRun(Base):
    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The lock row on SQLite (PostgreSQL uses an advisory lock and only shows who holds it):
    # a worker may take it when nobody holds it or the holder's lease has run out (a crash).
    lock_holder: Mapped[str | None] = mapped_column(String(120))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_outcome: Mapped[str | None] = mapped_column(String(8))
    last_message: Mapped[str] = mapped_column(Text, default="", nullable=False)
    last_duration_ms: Mapped[int | None] = mapped_column(Integer)
    last_attempts: Mapped[int | None] = mapped_column(Integer)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    runs: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    failures: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint(
            "last_outcome IS NULL OR last_outcome IN ('ok', 'failed')", name="known_outcome"
        ),
    )
