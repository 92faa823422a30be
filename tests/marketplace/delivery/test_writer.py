from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.engine import Engine

from marketplace.db import make_engine
from marketplace.delivery import writer as writer_module
from marketplace.delivery.events import (
    Batch,
    EligibleCount,
    OfferEvent,
    OpportunityEvent,
    TrackedEvent,
)
from marketplace.delivery.models import (
    AdClick,
    AdImpression,
    AdOffer,
    EligibleSlot,
    SlotOpportunity,
)
from marketplace.delivery.writer import EventWriter
from tests.support.delivery_events import AT, counts, impression, offer


@pytest.fixture
def booking_id(engine: Engine) -> Iterator[int]:
    """A fresh id; the writer commits for real, so its rows are removed afterwards."""
    chosen = random.randint(10**6, 10**9)
    yield chosen
    with engine.begin() as c:
        c.execute(delete(AdClick).where(AdClick.booking_id == chosen))
        c.execute(delete(AdImpression).where(AdImpression.booking_id == chosen))
        c.execute(delete(AdOffer).where(AdOffer.booking_id == chosen))
        c.execute(delete(SlotOpportunity).where(SlotOpportunity.placement_id == chosen))
        c.execute(delete(EligibleSlot).where(EligibleSlot.booking_id.in_([chosen, chosen + 1])))


@pytest.fixture
def writer(engine: Engine, tmp_path: Path) -> Iterator[EventWriter]:
    writer = EventWriter(engine, tmp_path / "spool", flush_interval=0.02, retry_interval=0.0)
    yield writer
    writer.stop()


def submit_many(writer: EventWriter, booking_id: int, n: int) -> list[OfferEvent]:
    offers = [offer(booking_id) for _ in range(n)]
    for event in offers:
        writer.submit(event)
        writer.submit(impression(event))
        writer.submit(OpportunityEvent(booking_id, 2, AT))
    return offers


def test_batches_are_written_and_idempotent(
    writer: EventWriter, engine: Engine, booking_id: int
) -> None:
    writer.start()
    offers = submit_many(writer, booking_id, 300)
    assert writer.flush()
    assert counts(engine, booking_id) == (300, 300, 600)
    batch = Batch.of("w", [*offers[:10], impression(offers[0])])
    writer.write(batch)  # a replay of events already stored
    writer.write(Batch.from_json(batch.to_json()))
    assert counts(engine, booking_id) == (300, 300, 600)


def test_a_large_batch_goes_in_few_statements_and_keeps_every_value(
    writer: EventWriter, engine: Engine, booking_id: int
) -> None:
    """333 offers, one of them twice: 334 rows in statements of 256, 64, 4, 4, 4, 1 and 1."""
    offers = [offer(booking_id) for _ in range(333)]
    odd = offers[100]._replace(position=8, district="minato", personalized=False, resident_key=None)
    offers[100] = odd
    inserts: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO ad_offers"):
            inserts.append(statement)

    sqlalchemy_event.listen(engine, "before_cursor_execute", count)
    try:
        writer.write(Batch.of("w", [*offers, odd, *(impression(o) for o in offers[:5])]))
    finally:
        sqlalchemy_event.remove(engine, "before_cursor_execute", count)
    assert [s.count("), (") + 1 for s in inserts] == [256, 64, 4, 4, 4, 1, 1]
    assert counts(engine, booking_id) == (333, 5, 0)
    with engine.connect() as c:
        stored = c.execute(select(AdOffer).where(AdOffer.id == odd.offer_id)).one()
    assert (stored.position, stored.district, stored.personalized, stored.resident_key) == (
        8, "minato", False, None,
    )  # fmt: skip
    assert stored.offered_at.replace(tzinfo=UTC) == AT


def test_a_steady_trickle_is_written_in_a_few_large_batches(
    writer: EventWriter, engine: Engine, booking_id: int
) -> None:
    """300 events, one a millisecond, flushed every 0.2 s: one transaction per interval.

    A writer that went straight back for whatever arrived while it wrote would commit (and sync)
    every millisecond or two, each time a few events (15 transactions here when it did).
    """
    writer.flush_interval = 0.2
    writer.start()
    started = time.monotonic()
    for _ in range(300):
        writer.submit(offer(booking_id))
        time.sleep(0.001)
    assert writer.flush()
    elapsed = time.monotonic() - started  # longer on a loaded machine, and the bound with it
    assert counts(engine, booking_id) == (300, 0, 0) and writer.stats.written == 300
    assert 2 <= writer.stats.batches <= elapsed / writer.flush_interval + 2


def test_a_full_batch_is_written_without_waiting_for_the_interval(
    writer: EventWriter, engine: Engine, booking_id: int
) -> None:
    writer.flush_interval = 60.0
    writer.batch_size = 50
    writer.start()
    time.sleep(0.05)  # the thread is waiting out its interval
    for _ in range(120):
        writer.submit(offer(booking_id))
    deadline = time.monotonic() + 5
    while writer.stats.written < 100 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert writer.stats.written >= 100 and writer.stats.batches >= 2
    writer.stop()
    assert counts(engine, booking_id) == (120, 0, 0)


def test_graceful_stop_flushes_the_queue(
    writer: EventWriter, engine: Engine, booking_id: int
) -> None:
    writer.flush_interval = 5.0  # the thread would otherwise sleep past the submits
    writer.start()
    submit_many(writer, booking_id, 50)
    writer.stop()
    assert counts(engine, booking_id) == (50, 50, 100)


@pytest.mark.fault
def test_a_writer_failing_mid_batch_loses_and_duplicates_nothing(
    engine: Engine, tmp_path: Path, booking_id: int
) -> None:
    failures = {"left": 2}

    def fail_after_offers(stage: str) -> None:
        if stage == "impressions" and failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("writer crashed mid-batch")

    writer = EventWriter(
        engine, tmp_path / "spool", flush_interval=0.02, retry_interval=0.0,
        fault_hook=fail_after_offers,
    )  # fmt: skip
    writer.start()
    submit_many(writer, booking_id, 200)
    assert writer.flush()
    writer.replay_spool(force=True)
    writer.stop()
    assert writer.stats.failures >= 1
    assert counts(engine, booking_id) == (200, 200, 400)
    assert not list((tmp_path / "spool").glob("*.jsonl"))


@pytest.mark.fault
def test_database_down_spools_then_replays_exactly(
    engine: Engine, tmp_path: Path, booking_id: int, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        dead = make_engine(f"sqlite:///{tmp_path}/missing/dir/db.sqlite")
    else:
        dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    writer = EventWriter(dead, tmp_path / "spool", flush_interval=0.02, retry_interval=0.0)
    writer.start()
    submit_many(writer, booking_id, 120)
    assert writer.flush()
    writer.stop()
    assert writer.stats.spooled == 120 * 4 and counts(engine, booking_id) == (0, 0, 0)
    # The database is back: a writer on the same spool replays it, twice for good measure.
    revived = EventWriter(engine, tmp_path / "spool", retry_interval=0.0)
    assert revived.replay_spool(force=True) >= 1
    assert counts(engine, booking_id) == (120, 120, 240)
    (tmp_path / "spool").mkdir(exist_ok=True)
    assert revived.replay_spool(force=True) == 0
    assert counts(engine, booking_id) == (120, 120, 240)
    dead.dispose()


@pytest.mark.fault
def test_workers_sharing_a_spool_replay_each_batch_once(
    engine: Engine, tmp_path: Path, booking_id: int, database_url: str, caplog: Any
) -> None:
    """Two workers of one server spool to the same directory while the database is down, then
    both replay it at once: every event stored once, each batch replayed by one of them, and
    neither trips over a file the other took (they used to, and logged the error)."""
    if database_url.startswith("sqlite"):
        dead = make_engine(f"sqlite:///{tmp_path}/missing/dir/db.sqlite")
    else:
        dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    spooling = [EventWriter(dead, tmp_path / "spool", batch_size=20) for _ in range(2)]
    for number in range(8):  # eight set-aside files of two batches each
        for worker in spooling:
            submit_many(worker, booking_id, 10)
            worker.write_queued()
        spooling[number % 2].replay_spool(force=True)  # fails: sets the spool aside, keeps it
    assert sum(w.stats.spooled for w in spooling) == 2 * 8 * 10 * 4
    caplog.clear()  # the warnings of the outage
    replaying = [EventWriter(engine, tmp_path / "spool") for _ in range(2)]
    threads = [threading.Thread(target=w.replay_spool, args=(True,)) for w in replaying]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert counts(engine, booking_id) == (160, 160, 320)
    assert sum(w.stats.replayed for w in replaying) == 2 * 8 * 10 * 4
    assert not list((tmp_path / "spool").glob("*.jsonl"))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    dead.dispose()


@pytest.mark.fault
@pytest.mark.postgres
def test_connection_killed_mid_batch_on_postgres(
    engine: Engine, tmp_path: Path, booking_id: int, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL")
    own = make_engine(database_url)
    admin = make_engine(database_url)
    killed = {"done": False}

    def kill_my_connection(stage: str) -> None:
        if stage == "offers" and not killed["done"]:
            killed["done"] = True
            with admin.begin() as c:
                c.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                        "AND state = 'idle in transaction'"
                    )
                )

    writer = EventWriter(
        own, tmp_path / "spool", flush_interval=0.02, retry_interval=0.0,
        fault_hook=kill_my_connection,
    )  # fmt: skip
    writer.start()
    submit_many(writer, booking_id, 150)
    assert writer.flush()
    writer.replay_spool(force=True)
    writer.stop()
    assert killed["done"] and writer.stats.failures >= 1
    assert counts(engine, booking_id) == (150, 150, 300)
    own.dispose()
    admin.dispose()


def test_spooled_batches_round_trip() -> None:
    event = offer(5)
    batch = Batch.of(
        "w",
        [
            event,
            impression(event),
            OpportunityEvent(5, 2, AT + timedelta(hours=1)),
            EligibleCount(5, AT, 1),
            EligibleCount(6, AT, 1),
        ],
    )
    again = Batch.from_json(batch.to_json())
    assert again.offers == batch.offers and again.tracked == batch.tracked
    assert again.opportunities == batch.opportunities and again.batch_id == batch.batch_id
    assert (
        again.eligible
        == batch.eligible
        == {(5, AT.replace(minute=0, second=0)): 1, (6, AT.replace(minute=0, second=0)): 1}
    )
    # A spool written before eligible slots were counted still replays.
    old = batch.to_json()
    del old["eligible"]
    assert Batch.from_json(old).eligible == {}


def test_eligible_slots_are_written_once_per_batch(
    writer: EventWriter, engine: Engine, booking_id: int
) -> None:
    events: list[Any] = [EligibleCount(booking_id, AT, 2), EligibleCount(booking_id + 1, AT, 3)]
    events += [
        EligibleCount(booking_id, AT, 1),
        EligibleCount(booking_id, AT + timedelta(hours=1), 1),
    ]
    batch = Batch.of("w", events)
    writer.write(batch)
    writer.write(Batch.from_json(batch.to_json()))  # replayed: counted once
    with engine.connect() as c:
        rows = c.execute(
            select(EligibleSlot.booking_id, EligibleSlot.slots)
            .where(EligibleSlot.booking_id.in_([booking_id, booking_id + 1]))
            .order_by(EligibleSlot.booking_id, EligibleSlot.hour_start)
        ).all()
    assert [tuple(r) for r in rows] == [(booking_id, 3), (booking_id, 1), (booking_id + 1, 3)]


def test_the_writers_column_lists_are_the_tables_and_the_events_fields() -> None:
    def columns(model: Any) -> set[str]:
        return {c.name for c in model.__table__.columns}

    assert set(writer_module.OFFER_COLUMNS) == columns(AdOffer)
    assert set(writer_module.TRACKED_COLUMNS) == columns(AdImpression) == columns(AdClick)
    assert set(writer_module.OPPORTUNITY_COLUMNS) == columns(SlotOpportunity)
    assert set(writer_module.ELIGIBLE_COLUMNS) == columns(EligibleSlot)
    offer_fields = list(OfferEvent._fields)
    assert offer_fields == ["offer_id", *writer_module.OFFER_COLUMNS[1:]]
    tracked_fields = list(TrackedEvent._fields)
    assert tracked_fields == ["kind", *writer_module.TRACKED_COLUMNS]


def test_slot_counts_are_summed_per_placement_and_tokyo_aligned_hour() -> None:
    at = datetime(2026, 11, 3, 10, 59, 59, 999_999, tzinfo=UTC)
    tokyo = timezone(timedelta(hours=9))
    events: list[Any] = [
        OpportunityEvent(1, 2, at),
        OpportunityEvent(1, 1, at + timedelta(microseconds=1)),  # the next hour
        OpportunityEvent(2, 1, at - timedelta(minutes=30)),  # back in the first hour
        OpportunityEvent(1, 3, (at + timedelta(hours=1, microseconds=1)).astimezone(tokyo)),
    ]
    hour = datetime(2026, 11, 3, 10, tzinfo=UTC)
    assert Batch.of("w", events).opportunities == {
        (1, hour): 2,
        (1, hour + timedelta(hours=1)): 1,
        (2, hour): 1,
        (1, hour + timedelta(hours=2)): 3,
    }


@pytest.mark.parametrize(
    "moment",
    [
        AT,
        AT.astimezone(timezone(timedelta(hours=9))),  # stamped in Tokyo time
        AT.astimezone(ZoneInfo("UTC")),  # UTC, but not the `datetime.UTC` object
        AT.astimezone(ZoneInfo("Asia/Tokyo")),
    ],
)
def test_sqlite_timestamps_are_utc_text_whatever_the_events_zone(moment: datetime) -> None:
    """The same instant is the same text (as SQLAlchemy stores it), so ranges and sorting hold."""
    assert writer_module._sqlite_time(moment) == "2026-11-03 03:15:00.000000"
    later = moment + timedelta(microseconds=7)
    assert writer_module._sqlite_time(later) == "2026-11-03 03:15:00.000007"


def test_an_offer_stamped_in_tokyo_time_is_stored_at_its_utc_instant(
    writer: EventWriter, engine: Engine, booking_id: int
) -> None:
    tokyo = offer(booking_id)._replace(offered_at=AT.astimezone(ZoneInfo("Asia/Tokyo")))
    writer.write(Batch.of("w", [tokyo]))
    with engine.connect() as c:
        stored = c.scalar(select(AdOffer.offered_at).where(AdOffer.id == tokyo.offer_id))
    assert stored is not None and stored.replace(tzinfo=UTC) == AT
