"""Benchmark: month-end invoicing for 300 shops and ~1,000 bookings, with PDFs, then the ledger
check.

    /work/main/.venv/bin/python bench/billing_month_end.py [--shops 300] [--bookings 1000]
        [--database-url postgresql+psycopg://…] [--workers N] [--pdf-dir DIR]

Without --database-url it uses a fresh SQLite file in a temporary directory. The database must
be empty (migrations are applied). Bookings are written directly (the marketplace's inventory is
not what is measured); everything after that goes through billing's own services.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from billing.bookings import run_month_end
from billing.check import check_ledger
from billing.config import BillingConfig
from billing.recognition import recognise_revenue
from billing.rendering import invoice_document, invoice_view, render_pdfs
from marketplace.calendar import week_start
from marketplace.db import make_engine, make_session_factory
from marketplace.lifecycle import BookingStatus, PlacementKind
from marketplace.models import Booking, Placement, Shop
from marketplace.vocab import ShopStatus
from portal_plugin.migrate import upgrade

CONFIG = BillingConfig(
    issuer_name="会津若松市 スマートシティ推進室",
    issuer_registration_number="T7000012050002",
    bank_account="東邦銀行 本店営業部 普通 1234567",
)
CLOSING_DAY = date(2026, 5, 31)


def seed(factory, shops: int, bookings: int, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    with factory.begin() as session:
        placements = [
            Placement(
                code=f"bench-{i}",
                name=name,
                kind=PlacementKind.IN_FEED,
                image_width=600,
                image_height=300,
                max_image_bytes=200_000,
                headline_max_chars=30,
                body_max_chars=80,
                shares_per_week=12,
                price_per_share_week_yen=price,
                out_of_city_price_per_share_week_yen=price * 3 // 2,
            )
            for i, (name, price) in enumerate(
                [("フィード内カード", 2_750), ("サイドガジェット", 1_925)]
            )
        ]
        session.add_all(placements)
        shop_rows = [
            Shop(
                business_name=f"会津の店 {n:03d} 号",
                business_name_kana=f"アイヅノミセ{n}",
                category="restaurant",
                district="tsuruga",
                contact_name="会津 太郎",
                contact_email=f"shop{n}@example.jp",
                status=ShopStatus.APPROVED,
            )
            for n in range(shops)
        ]
        session.add_all(shop_rows)
        session.flush()
        for n in range(bookings):
            shop = shop_rows[n % shops]
            placement = rng.choice(placements)
            weeks = rng.randint(6, 26)
            first = week_start(CLOSING_DAY - timedelta(days=rng.randint(0, 60)))
            shares = rng.randint(1, 3)
            total = placement.price_per_share_week_yen * shares * weeks
            session.add(
                Booking(
                    shop_id=shop.id,
                    placement_id=placement.id,
                    shares=shares,
                    first_week=first,
                    last_week=first + timedelta(weeks=weeks - 1),
                    weeks=weeks,
                    status=BookingStatus.SCHEDULED,
                    in_city_rate=True,
                    unit_price_yen=placement.price_per_share_week_yen,
                    list_price_yen=total,
                    discount_yen=0,
                    surcharge_yen=0,
                    total_yen=total,
                    tax_yen=total * 10 // 110,
                    idempotency_key=f"bench-{n}",
                )
            )


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shops", type=int, default=300)
    parser.add_argument("--bookings", type=int, default=1000)
    parser.add_argument("--database-url")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--pdf-dir", type=Path)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{tmp.name}/bench.db"
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    seed(factory, args.shops, args.bookings, random.Random(7))

    started, started_cpu = time.perf_counter(), _cpu()
    with factory.begin() as session:
        result = run_month_end(session, CONFIG, CLOSING_DAY)
        invoiced, invoiced_cpu = time.perf_counter(), _cpu()
        documents = [invoice_document(invoice_view(session, CONFIG, i)) for i in result.invoices]
        lines = sum(len(i.lines) for i in result.invoices)
        amount = sum(i.total for i in result.invoices)
    html_done = time.perf_counter()
    cpu_before = _cpu()
    pdfs = render_pdfs(documents, args.workers)
    finished = time.perf_counter()
    pdf_cpu = _cpu() - cpu_before
    if args.pdf_dir:
        args.pdf_dir.mkdir(parents=True, exist_ok=True)
        for invoice, pdf in zip(result.invoices, pdfs, strict=True):
            (args.pdf_dir / f"{invoice.number}.pdf").write_bytes(pdf)

    with factory.begin() as session:
        t0, c0 = time.perf_counter(), _cpu()
        recognised = recognise_revenue(session, CLOSING_DAY)
        t1, c1 = time.perf_counter(), _cpu()
    with factory() as session:
        report = check_ledger(session)
        t2, c2 = time.perf_counter(), _cpu()

    backend = engine.dialect.name
    print(
        f"backend: {backend}; {args.shops} shops, {args.bookings} bookings "
        f"({result.bookings_seen} due)"
    )
    print(
        f"month-end invoicing: {len(result.invoices)} invoices, {lines} lines, "
        f"¥{amount:,} in {invoiced - started:.2f} s wall, {invoiced_cpu - started_cpu:.2f} s CPU"
    )
    print(f"HTML documents: {html_done - invoiced:.2f} s")
    print(
        f"PDFs: {len(pdfs)} in {finished - html_done:.2f} s wall, {pdf_cpu:.2f} s CPU "
        f"({sum(map(len, pdfs)) / max(len(pdfs), 1) / 1024:.0f} KiB each, "
        f"{args.workers or os.cpu_count()} workers, load average {os.getloadavg()[0]:.1f})"
    )
    print(f"total month-end incl. PDFs: {finished - started:.2f} s (target < 30 s)")
    print(
        f"revenue recognition through {CLOSING_DAY}: ¥{recognised.amount:,} "
        f"({recognised.legs} legs) in {t1 - t0:.2f} s wall, {c1 - c0:.2f} s CPU"
    )
    print(
        f"ledger check: {'OK' if report.ok else 'FAILED'} in {t2 - t1:.2f} s wall, {c2 - c1:.2f} s CPU"
    )
    for line in report.lines():
        print("  " + line)
    engine.dispose()
    tmp.cleanup()
    if not report.ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
