"""Benchmark: concurrent holds on one placement-week on PostgreSQL.

Each round fires N concurrent hold requests (separate connections and threads, released
together by a barrier) at a fresh week with F free shares, and checks that exactly F succeed.
It reports successes per round, errors (deadlocks, serialisation failures), the wall time of a
round and per-request latency percentiles.

    python scripts/bench_marketplace_booking.py --admin-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from marketplace.bookings.requests import BookingRequest
from marketplace.bookings.services import place_hold
from marketplace.db import make_engine, normalise_database_url
from marketplace.errors import SharesUnavailable
from marketplace.inventory.targeting import EVERYONE
from marketplace.lifecycle import PlacementKind
from marketplace.models import Placement, Shop
from marketplace.vocab import ShopStatus
from portal_plugin.migrate import upgrade

NOW = datetime(2027, 3, 24, 1, 0, tzinfo=UTC)
FIRST_WEEK = date(2027, 3, 29)


def _setup(factory: sessionmaker, requests: int, free: int, round_no: int) -> tuple[list[int], int]:  # type: ignore[type-arg]
    with factory.begin() as session:
        shops = [
            Shop(
                business_name=f"bench {round_no}-{n}",
                category="retail",
                district="tsuruga",
                contact_name="bench",
                contact_email=f"bench{round_no}-{n}@example.jp",
                status=ShopStatus.APPROVED,
            )
            for n in range(requests)
        ]
        session.add_all(shops)
        placement = Placement(
            code=f"bench-{round_no}",
            name="bench",
            kind=PlacementKind.IN_FEED,
            feed_position=3,
            image_width=600,
            image_height=314,
            max_image_bytes=300_000,
            headline_max_chars=30,
            body_max_chars=80,
            shares_per_week=free,
            price_per_share_week_yen=2_750,
            out_of_city_price_per_share_week_yen=4_125,
        )
        session.add(placement)
        session.flush()
        return [shop.id for shop in shops], placement.id


def run_round(factory: sessionmaker, requests: int, free: int, round_no: int) -> dict[str, object]:  # type: ignore[type-arg]
    shops, placement_id = _setup(factory, requests, free, round_no)
    barrier = threading.Barrier(requests)
    week = FIRST_WEEK + timedelta(weeks=round_no % 50)

    def book(shop_id: int) -> tuple[str, float]:
        barrier.wait()
        started = time.perf_counter()
        try:
            with factory.begin() as session:
                place_hold(
                    session,
                    shop_id,
                    BookingRequest(placement_id, week, 1, 1, EVERYONE),
                    f"bench-{uuid.uuid4().hex}",
                    now=NOW,
                )
            outcome = "held"
        except SharesUnavailable:
            outcome = "sold_out"
        except Exception as exc:  # counted and reported, never hidden
            outcome = f"error:{type(exc).__name__}"
        return outcome, time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=requests) as pool:
        results = list(pool.map(book, shops))
    wall = time.perf_counter() - started
    outcomes = [outcome for outcome, _ in results]
    return {
        "held": outcomes.count("held"),
        "errors": [o for o in outcomes if o.startswith("error")],
        "wall": wall,
        "latencies": [latency for _, latency in results],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--admin-url", required=True, help="PostgreSQL URL allowed to CREATE DATABASE"
    )
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--free", type=int, default=4)
    parser.add_argument("--no-pool", action="store_true", help="a new connection per request")
    args = parser.parse_args()
    admin_url = normalise_database_url(args.admin_url)
    name = f"pm_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        # A warm pool, as in the running app; --no-pool opens a connection per request.
        engine = (
            make_engine(url, poolclass=NullPool)
            if args.no_pool
            else make_engine(url, pool_size=args.requests, max_overflow=0)
        )
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        rounds = [run_round(factory, args.requests, args.free, n) for n in range(args.rounds)]
        engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    held = [r["held"] for r in rounds]
    errors = [e for r in rounds for e in r["errors"]]  # type: ignore[attr-defined]
    latencies = sorted(x for r in rounds for x in r["latencies"])  # type: ignore[attr-defined]
    walls = [r["wall"] for r in rounds]

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    print(f"rounds: {args.rounds} × {args.requests} concurrent holds on {args.free} free shares")
    print(f"successful holds per round: min {min(held)}, max {max(held)} (expected {args.free})")
    print(f"errors (deadlocks, other): {len(errors)} {sorted(set(errors))}")
    print(
        f"round wall time: median {statistics.median(walls) * 1000:.0f} ms, max {max(walls) * 1000:.0f} ms"
    )  # type: ignore[arg-type]
    print(
        f"per-request latency: p50 {pct(0.5):.1f} ms, p95 {pct(0.95):.1f} ms, p99 {pct(0.99):.1f} ms"
    )


if __name__ == "__main__":
    main()
