"""Benchmark: seeding the full Aizu-scale synthetic city.

Prints the time to generate and load ~115k residents, ~2k articles, ~300 shops and ~2M events
into SQLite (and PostgreSQL when BENCH_POSTGRES_URL is set, e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/test). The reference, measured in the same run,
is a plain ORM insert of a sample of the same events, extrapolated to the full count.

    .venv/bin/python bench/seed_city.py [--residents 115000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from marketplace.db import make_engine, make_session_factory
from marketplace.models import InteractionEvent
from marketplace.synthetic import generate_city
from marketplace.synthetic.loader import load_city
from portal_plugin.migrate import upgrade
from tests.support.databases import throwaway_database

TARGET_SECONDS = 60.0
ORM_SAMPLE = 20_000


def seed_into(url: str, city: object) -> float:
    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    with make_session_factory(engine).begin() as session:
        load_city(session, city)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def orm_reference(url: str, city: object) -> float:
    """Seconds a row-by-row ORM insert would need for all events (sampled, extrapolated)."""
    engine = make_engine(url)
    events = city.events.head(ORM_SAMPLE)  # type: ignore[attr-defined]
    with make_session_factory(engine)() as session:
        from sqlalchemy import select

        from marketplace.models import Article, Resident

        resident_id = session.scalar(select(Resident.id).limit(1))
        article_id = session.scalar(select(Article.id).limit(1))
        started = time.perf_counter()
        for row in events.itertuples(index=False):
            session.add(
                InteractionEvent(
                    resident_id=resident_id,
                    article_id=article_id,
                    kind=row.kind,
                    occurred_at=row.occurred_at.to_pydatetime(),
                )
            )
        session.flush()
        elapsed = time.perf_counter() - started
        session.rollback()
    engine.dispose()
    return elapsed * len(city.events) / len(events)  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=115_000)
    args = parser.parse_args()

    started = time.perf_counter()
    city = generate_city(args.residents)
    generate_seconds = time.perf_counter() - started
    print(
        f"city: {len(city.residents):,} residents, {len(city.articles):,} articles, "
        f"{len(city.shops):,} shops, {len(city.events):,} events"
    )
    print(f"generate (numpy, in memory)        {generate_seconds:6.1f} s")
    backends = ["sqlite"] + (["postgresql"] if os.environ.get("BENCH_POSTGRES_URL") else [])
    for backend in backends:
        if backend == "postgresql":
            os.environ["TEST_DATABASE_URL"] = os.environ["BENCH_POSTGRES_URL"]
        with (
            tempfile.TemporaryDirectory() as folder,
            throwaway_database(backend, Path(folder)) as url,
        ):
            load_seconds = seed_into(url, city)
            reference = orm_reference(url, city)
        total = generate_seconds + load_seconds
        verdict = "OK" if total < TARGET_SECONDS else "OVER TARGET"
        print(f"load into {backend:<10}              {load_seconds:6.1f} s")
        print(f"total {backend:<10} (target < {TARGET_SECONDS:.0f} s) {total:6.1f} s  {verdict}")
        print(
            f"reference: row-by-row ORM insert of the events on {backend}, "
            f"extrapolated from {ORM_SAMPLE:,} rows: {reference:6.1f} s "
            f"({reference / load_seconds:.1f}x the bulk load)"
        )


if __name__ == "__main__":
    main()
