"""Billing fixtures: a configured issuer, shops, and the ledger check after every money test."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from billing.check import check_ledger
from billing.config import BillingConfig
from billing.invoices import LineDraft, issue_invoice
from billing.models import Invoice
from billing.tax import RoundingMode
from marketplace.booking_requests import BookingRequest
from marketplace.bookings import place_hold
from marketplace.db import utcnow
from marketplace.lifecycle import BookingStatus, PlacementKind
from marketplace.models import Booking, Placement, Shop
from marketplace.targeting import Targeting
from marketplace.vocab import ShopStatus
from tests.billing.fake_stripe import FakeStripe

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


@pytest.fixture
def placement(session: Session) -> Placement:
    placement = Placement(
        code="feed-card",
        name="フィード内カード",
        kind=PlacementKind.IN_FEED,
        feed_position=3,
        image_width=600,
        image_height=300,
        max_image_bytes=200_000,
        headline_max_chars=30,
        body_max_chars=80,
        shares_per_week=4,
        price_per_share_week_yen=11_000,
        out_of_city_price_per_share_week_yen=16_500,
    )
    session.add(placement)
    session.flush()
    return placement


@pytest.fixture
def make_booking(session: Session, placement: Placement) -> Callable[..., Booking]:
    """A booking row as the marketplace writes it (status and price already decided)."""
    counter = iter(range(1, 100_000))

    def make(
        shop: Shop,
        *,
        first_week: date = date(2026, 5, 4),
        weeks: int = 4,
        shares: int = 1,
        total_yen: int | None = None,
        status: BookingStatus = BookingStatus.HELD,
    ) -> Booking:
        total = total_yen if total_yen is not None else 11_000 * weeks * shares
        booking = Booking(
            shop_id=shop.id,
            placement_id=placement.id,
            shares=shares,
            first_week=first_week,
            last_week=first_week + timedelta(weeks=weeks - 1),
            weeks=weeks,
            status=status,
            hold_expires_at=utcnow() + timedelta(minutes=15),
            in_city_rate=True,
            unit_price_yen=11_000,
            list_price_yen=total,
            discount_yen=0,
            surcharge_yen=0,
            total_yen=total,
            tax_yen=total * 10 // 110,
            idempotency_key=f"test-{next(counter)}",
        )
        session.add(booking)
        session.flush()
        return booking

    return make


@pytest.fixture
def invoice_booking(session: Session, billing_config: BillingConfig) -> Callable[..., Invoice]:
    """An invoice for all of a booking's weeks at its total, issued on `issue_date`."""

    def issue(booking: Booking, issue_date: date, amount: int | None = None) -> Invoice:
        line = LineDraft(
            "広告",
            booking.total_yen if amount is None else amount,
            booking_id=booking.id,
            service_start=booking.first_week,
            service_end=booking.last_week + timedelta(days=6),
        )
        return issue_invoice(
            session,
            billing_config,
            shop_id=booking.shop_id,
            booking_id=booking.id,
            lines=[line],
            issue_date=issue_date,
        )

    return issue


@pytest.fixture
def simple_invoice(session: Session, billing_config: BillingConfig) -> Callable[..., Invoice]:
    def issue(shop: Shop, amount: int = 1_100, issue_date: date = date(2026, 5, 1)) -> Invoice:
        return issue_invoice(
            session,
            billing_config,
            shop_id=shop.id,
            lines=[LineDraft("広告", amount)],
            issue_date=issue_date,
        )

    return issue


NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)  # Monday 10:00 in Tokyo


@pytest.fixture
def hold(session: Session, placement: Placement) -> Callable[..., Booking]:
    """A real hold placed through the marketplace's own service."""
    counter = iter(range(1, 100_000))

    def make(
        shop: Shop, *, first_week: date = date(2026, 5, 4), weeks: int = 4, shares: int = 1
    ) -> Booking:
        request = BookingRequest(placement.id, first_week, weeks, shares, Targeting())
        return place_hold(session, shop.id, request, f"hold-{next(counter)}", now=NOW)

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """localstripe on 127.0.0.1 (through our wrapper), state in a temporary directory."""
    port = _free_port()
    folder = tmp_path_factory.mktemp("localstripe")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.billing.localstripe_server", str(port), str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("localstripe did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def fresh_localstripe(localstripe: str) -> str:
    httpx.delete(f"{localstripe}/_config/data").raise_for_status()
    return localstripe


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe().start()
    yield fake
    fake.stop()


class WebhookCapture:
    """Receives what a Stripe server posts, so a test can deliver the exact bytes to the app."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, str]] = []
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                capture.received.append((body, self.headers.get("Stripe-Signature", "")))
                self.send_response(200)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, event_type: str, timeout: float = 10.0) -> tuple[bytes, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for body, signature in self.received:
                if json.loads(body)["type"] == event_type:
                    return body, signature
            time.sleep(0.1)
        raise AssertionError(f"no {event_type} webhook within {timeout} s")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_capture() -> Iterator[WebhookCapture]:
    capture = WebhookCapture()
    yield capture
    capture.close()
