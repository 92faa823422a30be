"""The batching event writer: requests enqueue, one thread writes, nothing acknowledged is lost.

* `submit` never blocks on the database: it appends to an in-memory queue.
* A writer thread takes up to `batch_size` events, or what arrived within `flush_interval`, and
  writes them in one transaction with INSERT … ON CONFLICT DO NOTHING keyed by offer id (and by
  batch id for slot counts), so writing a batch twice changes nothing.
* If the write fails for any reason (database down, connection killed, the writer failing half
  way through), the whole batch is appended to a local append-only spool file and fsynced; the
  transaction rolled back, so nothing of it is half-written. Spooled batches are replayed,
  oldest first, once the database answers again; replays are idempotent.
* `stop` drains the queue: every queued event is written or spooled before it returns.

What is not covered: events still in the in-memory queue when the process is killed with
SIGKILL (about `flush_interval` worth, plus what arrived while a round wrote) are lost; see
docs/delivery.md.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import chain
from operator import attrgetter
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection, Engine

from marketplace.delivery.events import Batch, Event, new_id
from marketplace.delivery.models import (
    AdClick,
    AdImpression,
    AdOffer,
    EligibleSlot,
    SlotOpportunity,
)
from marketplace.delivery.spool import SpoolDirectory

log = logging.getLogger(__name__)

# Called between the inserts of a batch; tests use it to fail a writer half way through.
FaultHook = Callable[[str], None]
# Told how many events went where ("written", "spooled", "replayed"), e.g. to count them for
# monitoring; called on the writer's thread (or the caller's, for stop and replay_spool).
StoredHook = Callable[[str, int], None]


def _not_counted(where: str, events: int) -> None:
    return None


@dataclass
class WriterStats:
    written: int = 0
    batches: int = 0  # transactions written
    spooled: int = 0
    replayed: int = 0
    failures: int = 0


class EventWriter:
    def __init__(
        self,
        engine: Engine,
        spool_dir: Path,
        *,
        worker_id: str | None = None,
        batch_size: int = 2000,
        flush_interval: float = 0.5,
        retry_interval: float = 2.0,
        fault_hook: FaultHook | None = None,
        stored: StoredHook = _not_counted,
    ) -> None:
        self.engine = engine
        self.worker_id = worker_id or new_id()
        self.spool_dir = Path(spool_dir)
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.retry_interval = retry_interval
        self.fault_hook = fault_hook
        self.stored = stored
        self.stats = WriterStats()
        self._queue: deque[Event] = deque()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._idle = threading.Event()
        self._spool_files = SpoolDirectory(self.spool_dir)
        self._replay_lock = threading.Lock()
        self._next_replay = 0.0
        self._thread: threading.Thread | None = None

    # -- request side -----------------------------------------------------------------------

    def submit(self, event: Event) -> None:
        """Queue an event; returns at once. Thread-safe (deque appends are atomic)."""
        self._queue.append(event)
        if len(self._queue) >= self.batch_size and not self._wake.is_set():
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._queue)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="delivery-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Flush everything queued (to the database or the spool), then stop the thread."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        # Whatever is still queued (the thread timed out or never ran) goes to the spool.
        while self._queue:
            self._spool(Batch.of(self.worker_id, self._take()))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until the queue is empty and the current batch is handled (for tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._idle.clear()
            self._wake.set()
            if self._idle.wait(0.05) and not self._queue:
                return True
        return False

    def write_queued(self) -> int:
        """Write what is queued now, in the caller's thread (a simulation that keeps its own
        clock uses this instead of `start`); returns the events handled."""
        handled = 0
        for _ in range(self.batches_queued()):
            batch = Batch.of(self.worker_id, self._take())
            handled += len(batch)
            self._handle(batch)
        return handled

    def _run(self) -> None:
        while True:
            if not self._stopping.is_set():
                self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self.replay_spool()
                for _ in range(self.batches_queued()):
                    self._handle(Batch.of(self.worker_id, self._take()))
            except Exception:  # the loop must outlive any one failure
                log.exception("delivery writer loop failed; retrying")
            self._idle.set()
            if self._stopping.is_set() and not self._queue:
                return

    def batches_queued(self) -> int:
        """How many batches the queue holds now: one round writes those and no more.

        Events that arrive during the round wait for the next one (`flush_interval` later, or
        at once when a full batch is waiting), so steady traffic is written in a few large
        transactions rather than in a stream of small ones, each with its own commit and sync.
        """
        return -(-len(self._queue) // self.batch_size)

    def _take(self) -> list[Event]:
        events: list[Event] = []
        while self._queue and len(events) < self.batch_size:
            events.append(self._queue.popleft())
        return events

    # -- writing -----------------------------------------------------------------------------

    def _handle(self, batch: Batch) -> None:
        try:
            self.write(batch)
            self.stats.written += len(batch)
            self.stats.batches += 1
            self.stored("written", len(batch))
        except Exception as exc:
            self.stats.failures += 1
            log.warning("delivery batch %s not written (%s); spooling", batch.batch_id, exc)
            self._spool(batch)
            self._next_replay = time.monotonic() + self.retry_interval

    def write(self, batch: Batch) -> None:
        """Write one batch in one transaction; idempotent."""
        with self.engine.begin() as connection:
            convert = _sqlite_time if connection.dialect.name == "sqlite" else _postgres_time
            # The ads of one feed share its moment: each distinct one is converted once.
            converted: dict[datetime, Any] = {}

            def time_value(moment: datetime) -> Any:
                found = converted.get(moment)
                if found is None:
                    found = converted[moment] = convert(moment)
                return found

            offers = [(*v[:-1], time_value(v[-1])) for v in map(_offer_values, batch.offers)]
            self._insert(connection, AdOffer.__table__, OFFER_COLUMNS, offers)
            self._fault("offers")
            impressions: list[tuple[Any, ...]] = []
            clicks: list[tuple[Any, ...]] = []
            for event in batch.tracked:
                row = _tracked_values(event)
                (impressions if event.kind == "impression" else clicks).append(
                    (row[0], row[1], time_value(row[2]), *row[3:])
                )
            self._insert(connection, AdImpression.__table__, TRACKED_COLUMNS, impressions)
            self._fault("impressions")
            self._insert(connection, AdClick.__table__, TRACKED_COLUMNS, clicks)
            opportunities = [
                (batch.batch_id, placement, time_value(hour), batch.worker_id, slots)
                for (placement, hour), slots in batch.opportunities.items()
            ]
            self._insert(connection, SlotOpportunity.__table__, OPPORTUNITY_COLUMNS, opportunities)
            self._fault("opportunities")
            eligible = [
                (batch.batch_id, booking, time_value(hour), batch.worker_id, slots)
                for (booking, hour), slots in batch.eligible.items()
            ]
            self._insert(connection, EligibleSlot.__table__, ELIGIBLE_COLUMNS, eligible)

    def _fault(self, stage: str) -> None:
        if self.fault_hook is not None:
            self.fault_hook(stage)

    @staticmethod
    def _insert(
        connection: Connection, table: Any, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
    ) -> None:
        """INSERT … ON CONFLICT DO NOTHING, many rows per statement, through the driver.

        The ORM-level insert costs tens of microseconds of Python per row, on a thread that
        shares the GIL with the feed; ready tuples through the driver cost a few. Many rows per
        statement, because SQLite's driver lets go of the GIL for every statement it steps: one
        row per statement meant a GIL hand-off with the feed's event loop for every offer.
        Values are stored the way SQLAlchemy stores them (UTC timestamps; SQLite keeps them as
        ISO text, booleans as 0 and 1, which its driver does by itself).
        """
        if not rows:
            return
        sqlite = connection.dialect.name == "sqlite"
        start = 0
        for size in ROWS_PER_STATEMENT:
            while len(rows) - start >= size:
                chunk = rows[start : start + size]
                statement = _insert_statement(table.name, columns, size, sqlite)
                connection.exec_driver_sql(statement, tuple(chain.from_iterable(chunk)))
                start += size

    # -- spool -------------------------------------------------------------------------------

    def _spool(self, batch: Batch) -> None:
        line = json.dumps(batch.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n"
        self._spool_files.append(line)
        self.stats.spooled += len(batch)
        self.stored("spooled", len(batch))

    def replay_spool(self, force: bool = False) -> int:
        """Write spooled batches back, oldest first; returns how many batches were replayed.

        The live spool is first set aside, so batches failing meanwhile start a new one. A
        crash during replay leaves the set-aside file, which the next replay picks up again;
        a file another worker is replaying is left to it (`spool.SpoolDirectory`).
        """
        if not force and time.monotonic() < self._next_replay:
            return 0
        with self._replay_lock:
            replayed = 0

            def write_lines(path: Path, lines: list[str]) -> None:
                nonlocal replayed
                for number, line in enumerate(lines):
                    try:
                        batch = Batch.from_json(json.loads(line))
                    except (ValueError, KeyError, TypeError):
                        # A torn last line from a crash mid-append: the batch never completed
                        # its fsync, so it was never acknowledged as spooled.
                        log.error("%s line %d unreadable; skipped", path, number + 1)
                        continue
                    self.write(batch)
                    self.stats.replayed += len(batch)
                    self.stored("replayed", len(batch))
                    replayed += 1

            self._spool_files.set_aside()
            try:
                self._spool_files.replay(write_lines)
            except Exception as exc:
                log.warning("spool replay paused (%s); retrying later", exc)
                self._next_replay = time.monotonic() + self.retry_interval
            return replayed


def _sqlite_time(value: datetime) -> str:
    """As SQLAlchemy stores it in SQLite: "YYYY-MM-DD HH:MM:SS.ffffff" in UTC."""
    if value.tzinfo is not UTC:  # events are stamped in UTC; anything else is converted
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def _postgres_time(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime in a delivery event")
    return value


# Each event's values in its table's column order, read in one C call; the time comes last
# in an offer and third in an impression or click.
OFFER_COLUMNS = (
    "id", "booking_id", "placement_id", "creative_version_id", "shop_id", "resident_key",
    "age_band", "household", "district", "personalized", "position", "worker_id", "offered_at",
)  # fmt: skip
_offer_values = attrgetter("offer_id", *OFFER_COLUMNS[1:])
TRACKED_COLUMNS = ("offer_id", "booking_id", "occurred_at", "valid", "invalid_reason", "ip_prefix")
_tracked_values = attrgetter(*TRACKED_COLUMNS)
OPPORTUNITY_COLUMNS = ("batch_id", "placement_id", "hour_start", "worker_id", "slots")
ELIGIBLE_COLUMNS = ("batch_id", "booking_id", "hour_start", "worker_id", "slots")


# Rows per INSERT, largest first: a batch of any size in a few statements of a few shapes,
# each prepared once by the driver (SQLite and psycopg cache prepared statements by their text).
# 256 rows of 13 columns bind 3,328 values: within SQLite's limit (32,766) and PostgreSQL's.
ROWS_PER_STATEMENT = (256, 64, 16, 4, 1)


@lru_cache(maxsize=32)
def _insert_statement(table: str, columns: tuple[str, ...], rows: int, sqlite: bool) -> str:
    marker = "?" if sqlite else "%s"
    values = "(" + ", ".join([marker] * len(columns)) + ")"
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES {', '.join([values] * rows)} ON CONFLICT DO NOTHING"
    )
