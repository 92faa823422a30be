"""The finance dashboard's delivery (issue 20 item 2) in Debian's chromium: the table per
placement and month and its chart render at a phone's width and a desktop's, under the strict
CSP; axe-core finds nothing serious; screenshots under test-artifacts/browser/."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from marketplace.bookings.requests import BookingRequest
from marketplace.bookings.services import place_hold
from marketplace.calendar import fiscal_year, tokyo_date
from marketplace.db import make_engine, make_session_factory, utcnow
from marketplace.delivery.measured import booking_period
from marketplace.inventory.targeting import Targeting
from marketplace.lifecycle import BookingStatus
from marketplace.models import Placement, Shop
from marketplace.vocab import StaffRole
from tests.proof.browser import (
    DESKTOP,
    PHONE,
    Journey,
    artifact_dir,
    assert_accessible,
    horizontal_overflow,
)
from tests.proof.journey_steps import staff_page
from tests.proof.livesite import LiveServer
from tests.support.delivery_rows import rollup_hour

pytestmark = pytest.mark.browser


def test_finance_sees_delivery_per_placement_and_month(
    live_site: LiveServer, seeded_database_url: str, browser: Browser
) -> None:
    engine = make_engine(seeded_database_url)
    with make_session_factory(engine).begin() as session:
        shop = session.scalars(select(Shop).order_by(Shop.id)).first()
        assert shop is not None
        placement = session.scalars(select(Placement).where(Placement.code == "feed-8")).one()
        today = tokyo_date(utcnow())
        monday = today - timedelta(days=today.weekday())
        booking = place_hold(
            session, shop.id, BookingRequest(placement.id, monday, 1, 1, Targeting()),
            uuid.uuid4().hex, now=utcnow() - timedelta(days=14),
        )  # fmt: skip
        booking.status = BookingStatus.LIVE
        start, _ = booking_period(booking)
        for h in range(6):
            rollup_hour(session, booking, start + timedelta(hours=h), 5 if h < 3 else 10,
                        10 * placement.shares_per_week)  # fmt: skip
    engine.dispose()
    page = staff_page(browser, live_site, StaffRole.FINANCE)
    journey = Journey(page, artifact_dir("finance-delivery"))
    year = fiscal_year(today)
    for viewport, label in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page.set_viewport_size(viewport)  # type: ignore[arg-type]
        page.goto(f"{live_site.url}/marketplace/finance/?fiscal_year={year}")
        table = page.locator("#table-delivery")
        expect(table).to_contain_text("広告枠・月別の配信（予定比）")
        expect(table).to_contain_text("予定表示回数")
        expect(table).to_contain_text("配信不足の補償")
        chart = page.locator('.chart-view[data-chart="delivery"]')
        expect(chart.locator("canvas")).to_have_count(1)
        assert horizontal_overflow(page) == 0
        assert_accessible(page)
        journey.shot(f"finance-{label}")
        # The new parts on their own, to look at.
        chart.locator("xpath=..").screenshot(path=journey.folder / f"delivery-chart-{label}.png")
        table.screenshot(path=journey.folder / f"delivery-table-{label}.png")
    journey.assert_clean()
    page.context.close()
