from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from billing.check import check_ledger
from billing.config import BillingConfig
from billing.invoices import LineDraft, issue_invoice
from billing.models import Invoice
from billing.numbering import format_number, payment_reference, take_number
from marketplace.db import make_engine, make_session_factory
from marketplace.models import Shop
from marketplace.vocab import ShopStatus
from portal_plugin.migrate import upgrade
from tests.support.databases import throwaway_database
from tests.support.settings import TEST_BANK_ACCOUNT

CONFIG = BillingConfig(
    issuer_name="会津若松市",
    issuer_registration_number="T7000012050002",
    bank_account=TEST_BANK_ACCOUNT,
)


def test_formats() -> None:
    assert format_number("INV", 2026, 42) == "INV-2026-000042"
    assert payment_reference(2026, 42) == "26000042"


def test_numbers_continue_per_series(session) -> None:
    assert [take_number(session, "INV", 2030) for _ in range(3)] == [1, 2, 3]
    assert take_number(session, "CN", 2030) == 1


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL")
def test_concurrent_issuers_get_gapless_unique_numbers(tmp_path: Path) -> None:
    """Eight committed transactions at once: numbers 1..40, no gap, no duplicate."""
    with throwaway_database("postgresql", tmp_path) as url:
        upgrade(url)
        engine = make_engine(url, pool_size=10)
        factory = make_session_factory(engine)
        with factory.begin() as session:
            shop = Shop(
                business_name="会津の酒蔵",
                category="sake-brewery",
                district="tsuruga",
                contact_name="山田",
                contact_email="s@example.jp",
                status=ShopStatus.APPROVED,
            )
            session.add(shop)
        shop_id = shop.id

        def issue_five(worker: int) -> list[int]:
            numbers = []
            for n in range(5):
                with factory.begin() as session:
                    invoice = issue_invoice(
                        session,
                        CONFIG,
                        shop_id=shop_id,
                        lines=[LineDraft(f"広告 {worker}-{n}", 1_100)],
                        issue_date=date(2026, 5, 1),
                    )
                    numbers.append(invoice.sequence)
            return numbers

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = [n for batch in pool.map(issue_five, range(8)) for n in batch]
        assert sorted(results) == list(range(1, 41))
        with factory() as session:
            assert len(session.scalars(select(Invoice.number)).all()) == 40
            assert check_ledger(session).ok
        engine.dispose()
