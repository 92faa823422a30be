"""Billing fixtures: a configured issuer, shops, and the ledger check after every money test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from billing.check import check_ledger
from billing.config import BillingConfig
from billing.tax import RoundingMode
from marketplace.models import Shop
from marketplace.vocab import ShopStatus

ISSUER_NAME = "会津若松市 スマートシティ推進室"
ISSUER_NUMBER = "T7000012050002"


@pytest.fixture
def billing_config() -> BillingConfig:
    return BillingConfig(
        issuer_name=ISSUER_NAME,
        issuer_registration_number=ISSUER_NUMBER,
        rounding=RoundingMode.FLOOR,
        due_days=30,
        monthly_after_weeks=5,
        bank_account="東邦銀行 本店営業部 普通 1234567 アイヅワカマツシ",
    )


@pytest.fixture
def make_shop(session: Session) -> Callable[..., Shop]:
    counter = iter(range(1, 10_000))

    def make(**overrides: Any) -> Shop:
        n = next(counter)
        values: dict[str, Any] = {
            "business_name": f"会津の酒蔵 {n}号店",
            "business_name_kana": f"アイヅノサカグラ{n}",
            "category": "sake-brewery",
            "district": "tsuruga",
            "contact_name": "山田 花子",
            "contact_email": f"shop{n}@example.jp",
            "status": ShopStatus.APPROVED,
        }
        values.update(overrides)
        shop = Shop(**values)
        session.add(shop)
        session.flush()
        return shop

    return make


@pytest.fixture(autouse=True)
def ledger_is_consistent(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every billing test that used the database, the whole ledger check must pass."""
    if "session_factory" not in request.fixturenames:
        yield
        return
    # Requested before the test so that the rolled-back connection outlives this check.
    factory: sessionmaker[Session] = request.getfixturevalue("session_factory")
    yield
    with factory() as session:
        report = check_ledger(session)
        assert report.ok, "\n".join(report.lines())
