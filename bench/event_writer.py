"""Benchmark: the batching event writer into PostgreSQL (target: at least 5,000 events/s).

Submits offers, impressions and slot counts as the feed does (two offers, one impression and one
slot event per feed view), then waits until every event is committed, and checks the counts in
the database. Uses a throwaway database on BENCH_POSTGRES_URL (default: the local server).

    .venv/bin/python bench/event_writer.py [--events 200000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from marketplace.db import make_engine
from marketplace.delivery.events import (
    OfferEvent,
    OpportunityEvent,
    TrackedEvent,
    new_id,
)
from marketplace.delivery.models import AdImpression, AdOffer
from marketplace.delivery.writer import EventWriter
from portal_plugin.migrate import upgrade
from tests.support.databases import throwaway_database

TARGET = 5_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault(
        "TEST_DATABASE_URL",
        os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    )
    views = args.events // 4
    with (
        tempfile.TemporaryDirectory() as folder,
        throwaway_database("postgresql", Path(folder)) as url,
    ):
        upgrade(url)
        engine = make_engine(url)
        writer = EventWriter(engine, Path(folder) / "spool")
        writer.start()
        now = datetime.now(UTC)
        started = time.perf_counter()
        for n in range(views):
            offers = [
                OfferEvent(new_id(), 1 + (n + k) % 6, 1 + k, 1, 1, f"r{n % 20_000}", "70+",
                           "single", "ohto", True, 3 + 5 * k, writer.worker_id, now)
                for k in range(2)
            ]  # fmt: skip
            for offer in offers:
                writer.submit(offer)
            writer.submit(
                TrackedEvent("impression", offers[0].offer_id, offers[0].booking_id, now, True)
            )
            writer.submit(OpportunityEvent(1, 2, now))
        submitted = time.perf_counter() - started
        assert writer.flush(timeout=600), "the writer did not drain"
        elapsed = time.perf_counter() - started
        writer.stop()
        with engine.connect() as connection:
            offers_stored = connection.scalar(select(func.count()).select_from(AdOffer))
            impressions_stored = connection.scalar(select(func.count()).select_from(AdImpression))
        engine.dispose()
    total = views * 4
    rate = total / elapsed
    result = {
        "events": total,
        "seconds": round(elapsed, 2),
        "events_per_second": round(rate),
        "submit_seconds": round(submitted, 2),
        "offers_stored": offers_stored,
        "impressions_stored": impressions_stored,
        "spooled": writer.stats.spooled,
        "target_met": rate >= TARGET and offers_stored == 2 * views,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{total:,} events in {elapsed:.2f}s: {rate:,.0f} events/s (target >= {TARGET:,})")
    print(f"stored {offers_stored:,} offers and {impressions_stored:,} impressions; "
          f"spooled {writer.stats.spooled}")  # fmt: skip


if __name__ == "__main__":
    main()
