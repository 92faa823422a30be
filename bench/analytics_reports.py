"""Benchmark: the offset report and a shop report over 3 fiscal years and ~10M impressions.

Creates a throwaway PostgreSQL database, seeds three fiscal years of bookings, invoices,
payments and revenue recognition through the real marketplace and billing services
(`portal_plugin.demo.history.seed_history`), generates ~10M offers and impressions (and ~1% clicks)
for those bookings with COPY, builds the hourly rollups with one set-based INSERT … SELECT that
groups exactly as `marketplace.delivery.rollups.roll_up_hour` does (checked on a sample hour),
then times, each in a fresh process so peak memory is the report's own:

* the offset report (`load_offset_report`) and the whole finance dashboard (`load_dashboard`),
* a shop report (`load_shop_report`) for the booking with the most impressions,
* a naive version: pandas over the raw impression events (read every valid impression, spread
  each booking's net amount over months by impressions), for comparison.

Usage: python bench/analytics_reports.py [--events 10000000] [--keep]
Needs BENCH_DATABASE_URL or TEST_DATABASE_URL (an admin URL to a PostgreSQL server).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from billing.config import BillingConfig
from marketplace.accounts.registration_number import make_invoice_registration_number
from marketplace.calendar import fiscal_year
from marketplace.db import make_engine, make_session_factory, normalise_database_url
from marketplace.delivery.rollups import roll_up_hour
from portal_plugin.demo.history import seed_history
from portal_plugin.migrate import upgrade

TODAY = date(2026, 11, 26)
CHUNK = 1_000_000
AGES = np.array(["0-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70+", "unknown"])
HOUSEHOLDS = np.array(
    ["single", "couple", "young_children", "school_children", "three_generation", "elderly_only"]
)
DISTRICTS = np.array(["tsuruga", "nisshin", "kita-aizu", "kawahigashi", "minato", "ikki", "monden"])
# Evening-heavy traffic: share of the day's impressions in each Tokyo hour.
HOUR_WEIGHTS = np.array(
    [1, 1, 1, 1, 1, 2, 4, 6, 6, 5, 5, 5, 6, 5, 4, 4, 5, 6, 8, 10, 10, 8, 5, 2], dtype=float
)


def admin_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not url:
        sys.exit("set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL admin URL")
    return normalise_database_url(url)


def create_database() -> tuple[str, str]:
    name = f"pm_bench_analytics_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, make_url(admin_url()).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    admin = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def seed_books(url: str) -> None:
    config = BillingConfig(
        issuer_name="会津若松市",
        issuer_registration_number=make_invoice_registration_number("000020072028"),
        bank_account="東邦銀行 会津支店 普通 1234567 アイヅワカマツシ",
    )
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        summary = seed_history(session, config, today=TODAY, years=3, shops=150, seed=11)
    engine.dispose()
    print(
        f"books: {summary.bookings} bookings, {summary.invoices} invoices, "
        f"{summary.payments} payments, {summary.credit_notes} cancellations credited, "
        f"¥{summary.recognised_revenue:,} recognised"
    )


def generate_events(url: str, total: int, seed: int = 7) -> None:
    """~`total` impressions spread over the bookings' days, written with COPY in chunks."""
    rng = np.random.default_rng(seed)
    engine = make_engine(url)
    with engine.connect() as connection:
        bookings = pd.read_sql(
            text(
                "SELECT id, placement_id, shop_id, first_week, last_week FROM bookings "
                "WHERE confirmed_at IS NOT NULL AND first_week <= :today"
            ),
            connection,
            params={"today": TODAY},
        )
    days = []
    for row in bookings.itertuples(index=False):
        last = min(row.last_week + timedelta(days=6), TODAY - timedelta(days=1))
        for offset in range((last - row.first_week).days + 1):
            days.append(
                (row.id, row.placement_id, row.shop_id, row.first_week + timedelta(days=offset))
            )
    plan = pd.DataFrame(days, columns=["booking_id", "placement_id", "shop_id", "day"])
    per_day = rng.poisson(total / len(plan), size=len(plan))
    print(f"events: {per_day.sum():,} impressions over {len(plan):,} booking-days")
    hour_p = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
    residents = 60_000
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        written, started = 0, time.perf_counter()
        index = np.repeat(np.arange(len(plan)), per_day)
        for start in range(0, len(index), CHUNK):
            rows = index[start : start + CHUNK]
            n = len(rows)
            chunk = plan.iloc[rows].reset_index(drop=True)
            hours = rng.choice(24, size=n, p=hour_p)
            seconds = rng.integers(0, 3600, size=n)
            day_start = pd.to_datetime(chunk["day"]).dt.tz_localize("Asia/Tokyo")
            at = (day_start + pd.to_timedelta(hours * 3600 + seconds, unit="s")).dt.tz_convert(
                "UTC"
            )
            stamps = at.dt.strftime("%Y-%m-%d %H:%M:%S+00").to_numpy()
            person = rng.integers(0, residents, size=n)
            anonymous = rng.random(n) < 0.15
            keys = np.where(anonymous, "", np.char.add("r", person.astype(str)))
            age = np.where(anonymous, "unknown", AGES[person % 7])
            household = np.where(anonymous, "unknown", HOUSEHOLDS[person % 6])
            district = np.where(anonymous, "unknown", DISTRICTS[person % 7])
            ids = np.char.add("b", (np.arange(n) + start + written * 0).astype(str))
            offers = pd.DataFrame(
                {
                    "id": ids,
                    "booking_id": chunk["booking_id"],
                    "placement_id": chunk["placement_id"],
                    "creative_version_id": 1,
                    "shop_id": chunk["shop_id"],
                    "resident_key": keys,
                    "age_band": age,
                    "household": household,
                    "district": district,
                    "personalized": ~anonymous,
                    "position": 3,
                    "worker_id": "bench",
                    "offered_at": stamps,
                }
            )
            _copy(cursor, "ad_offers", offers)
            valid = rng.random(n) > 0.02
            impressions = pd.DataFrame(
                {
                    "offer_id": ids,
                    "booking_id": chunk["booking_id"],
                    "occurred_at": stamps,
                    "valid": valid,
                    "invalid_reason": np.where(valid, "", "bot"),
                }
            )
            _copy(cursor, "ad_impressions", impressions)
            clicked = (rng.random(n) < 0.012) & valid
            clicks = impressions[clicked][["offer_id", "booking_id", "occurred_at"]].assign(
                valid=True
            )
            clicks["invalid_reason"] = ""
            _copy(cursor, "ad_clicks", clicks)
            raw.commit()
        elapsed = time.perf_counter() - started
        print(
            f"COPY: {len(index):,} offers+impressions in {elapsed:.1f}s ({len(index) / elapsed:,.0f}/s)"
        )
    finally:
        raw.close()
    engine.dispose()


def _copy(cursor: object, table: str, frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="")
    columns = ", ".join(frame.columns)
    # Empty strings are NULL (anonymous viewers, valid events without a reason).
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '')") as copy:  # type: ignore[attr-defined]
        copy.write(buffer.getvalue())


ROLLUP_SQL = """
INSERT INTO delivery_rollups (hour_start, booking_id, placement_id, age_band, household, district,
    offers, impressions, invalid_impressions, clicks, invalid_clicks, unit_price_yen)
SELECT date_trunc('hour', o.offered_at), o.booking_id, o.placement_id, o.age_band, o.household,
    o.district, count(*),
    count(*) FILTER (WHERE i.valid), count(*) FILTER (WHERE NOT i.valid),
    count(c.offer_id) FILTER (WHERE c.valid), count(c.offer_id) FILTER (WHERE NOT c.valid),
    max(b.unit_price_yen)
FROM ad_offers o
JOIN bookings b ON b.id = o.booking_id
LEFT JOIN ad_impressions i ON i.offer_id = o.id
LEFT JOIN ad_clicks c ON c.offer_id = o.id
GROUP BY 1, 2, 3, 4, 5, 6
"""


def build_rollups(url: str) -> None:
    engine = make_engine(url)
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
        rows = connection.execute(text(ROLLUP_SQL)).rowcount
        connection.execute(text("ANALYZE"))
    print(f"rollups: {rows:,} hourly rows in {time.perf_counter() - started:.1f}s")
    # What autovacuum does soon after a bulk load: the visibility map makes the covering
    # index scans of the shop report index-only.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE delivery_rollups"))
    # The set-based build must match delivery's own roll-up on a busy hour.
    with make_session_factory(engine).begin() as session:
        hour = session.execute(
            text(
                "SELECT hour_start FROM delivery_rollups GROUP BY 1 ORDER BY sum(impressions) DESC LIMIT 1"
            )
        ).scalar_one()
        before = session.execute(
            text(
                "SELECT sum(impressions), sum(clicks) FROM delivery_rollups WHERE hour_start = :h"
            ),
            {"h": hour},
        ).one()
        roll_up_hour(session, hour)
        after = session.execute(
            text(
                "SELECT sum(impressions), sum(clicks) FROM delivery_rollups WHERE hour_start = :h"
            ),
            {"h": hour},
        ).one()
        assert tuple(before) == tuple(after), (before, after)
    engine.dispose()


MEASURE = r"""
import json, sys, time
from datetime import date
sys.path.insert(0, {root!r})
from marketplace.db import make_engine, make_session_factory
engine = make_engine({url!r})
factory = make_session_factory(engine)
what = {what!r}
result = {{}}
with factory() as session:
    if what == "offset":
        from analytics.dashboard import load_offset_report
        start = time.perf_counter(); report = load_offset_report(session, {year}); result["seconds"] = time.perf_counter() - start
        start = time.perf_counter(); load_offset_report(session, {year}); result["warm_seconds"] = time.perf_counter() - start
        result["revenue"] = report.revenue_recognised; result["ratio"] = report.offset_ratio
    elif what == "dashboard":
        from analytics.dashboard import load_dashboard
        start = time.perf_counter(); d = load_dashboard(session, {year}, date(2026, 11, 26)); result["seconds"] = time.perf_counter() - start
        start = time.perf_counter(); load_dashboard(session, {year}, date(2026, 11, 26)); result["warm_seconds"] = time.perf_counter() - start
        result["revenue"] = d.report.revenue_recognised
    elif what == "shop":
        from sqlalchemy import text
        from analytics.shop_report_source import load_shop_report
        booking = session.execute(text("SELECT booking_id FROM delivery_rollups GROUP BY 1 ORDER BY sum(impressions) DESC LIMIT 1")).scalar_one()
        session.execute(text("DELETE FROM audience_reach WHERE booking_id = :b"), {{"b": booking}})
        start = time.perf_counter(); report = load_shop_report(session, booking); result["no_snapshot_seconds"] = time.perf_counter() - start
        # As in production: the refresh-reach job has saved the reach; the page reads it.
        from analytics.audience import snapshot
        snapshot(session, [booking]); session.commit()
        engine.dispose(); session.close()
        start = time.perf_counter(); report = load_shop_report(session, booking); result["seconds"] = time.perf_counter() - start
        start = time.perf_counter(); load_shop_report(session, booking); result["warm_seconds"] = time.perf_counter() - start
        result["impressions"] = report.impressions; result["booking"] = booking
    elif what == "naive":
        import pandas as pd
        from sqlalchemy import text
        start = time.perf_counter()
        with engine.connect() as connection:
            events = pd.read_sql(text("SELECT booking_id, occurred_at FROM ad_impressions WHERE valid"), connection)
            bookings = pd.read_sql(text("SELECT id AS booking_id, total_yen - tax_yen AS net FROM bookings"), connection)
        events["month"] = events["occurred_at"].dt.tz_convert("Asia/Tokyo").dt.strftime("%Y-%m")
        counts = events.groupby(["booking_id", "month"]).size().rename("n").reset_index()
        counts = counts.merge(bookings, on="booking_id")
        counts["revenue"] = counts["net"] * counts["n"] / counts.groupby("booking_id")["n"].transform("sum")
        months = counts.groupby("month")["revenue"].sum()
        result["seconds"] = time.perf_counter() - start
        result["revenue"] = int(months[(months.index >= "{year}-04") & (months.index <= "{next_year}-03")].sum())
# VmHWM is this process's own peak (ru_maxrss would include the parent's, kept across exec).
with open("/proc/self/status") as status:
    result["peak_rss_mb"] = next(int(l.split()[1]) for l in status if l.startswith("VmHWM")) / 1024
print(json.dumps(result))
"""


def measure(url: str, what: str, year: int) -> dict[str, float]:
    code = MEASURE.format(
        root=str(Path(__file__).resolve().parent.parent),
        url=url,
        what=what,
        year=year,
        next_year=year + 1,
    )
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="NAME", help="measure a database kept by --keep")
    parser.add_argument("--skip-naive", action="store_true", help="do not run the naive version")
    args = parser.parse_args()
    if args.reuse:
        name = args.reuse
        url = make_url(admin_url()).set(database=name).render_as_string(hide_password=False)
        args.keep = True
    else:
        name, url = create_database()
    print(f"database {name}")
    try:
        if not args.reuse:
            upgrade(url)
            started = time.perf_counter()
            seed_books(url)
            print(f"seeding the books took {time.perf_counter() - started:.1f}s")
            generate_events(url, args.events)
            build_rollups(url)
        year = fiscal_year(TODAY)
        kinds = ("offset", "dashboard", "shop") + (() if args.skip_naive else ("naive",))
        figures = {what: measure(url, what, year) for what in kinds}
        print()
        print("| report | first call | warm call | peak RSS | target |")
        print("| --- | --- | --- | --- | --- |")
        targets: dict[str, str] = {
            "offset": "< 5 s, < 2 GB",
            "dashboard": "—",
            "shop": "< 1 s",
            "naive": "(comparison)",
        }
        for what, result in figures.items():
            warm = result.get("warm_seconds")
            warm_text = "—" if warm is None else f"{warm:.3f} s"
            print(
                f"| {what} | {result['seconds']:.3f} s | {warm_text} | "
                f"{result['peak_rss_mb']:.0f} MB | {targets[what]} |"
            )
        if "no_snapshot_seconds" in figures["shop"]:
            print(
                f"shop report before any reach snapshot (counts raw events): "
                f"{figures['shop']['no_snapshot_seconds']:.3f} s"
            )
        print()
        print(json.dumps(figures, ensure_ascii=False))
        ok = (
            figures["offset"]["seconds"] < 5
            and figures["offset"]["peak_rss_mb"] < 2048
            and figures["shop"]["seconds"] < 1
        )
        print("targets met" if ok else "TARGETS MISSED")
        if not ok:
            sys.exit(1)
    finally:
        if not args.keep:
            drop_database(name)


if __name__ == "__main__":
    main()
