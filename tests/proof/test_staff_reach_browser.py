"""Forecast vs sold per placement-week (issue 20 item 3, staff part) in Debian's chromium, on
the seeded demo city: every placement's weeks at a phone's width and a desktop's, axe-core
finds nothing serious; screenshots under test-artifacts/browser/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from marketplace.calendar import tokyo_date, week_start
from marketplace.db import make_engine, make_session_factory, utcnow
from marketplace.errors import SharesUnavailable
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
from tests.support.reach_traffic import traffic
from tests.support.reach_world import oversold_week

pytestmark = pytest.mark.browser


def test_staff_see_forecast_vs_sold(
    live_site: LiveServer, seeded_database_url: str, browser: Browser
) -> None:
    engine = make_engine(seeded_database_url)
    with make_session_factory(engine).begin() as session:
        placement = session.scalars(select(Placement).where(Placement.code == "feed-3")).one()
        traffic(session, placement)
        shops = list(session.scalars(select(Shop).order_by(Shop.id).limit(3)))
        # The seeded world is shared with other browser tests that book early weeks: take the
        # first week the page shows (the running one and 7 after) with four shares free.
        for offset in range(2, 8):
            week = week_start(tokyo_date(utcnow())) + timedelta(weeks=offset)
            try:
                with session.begin_nested():
                    extra_id = oversold_week(session, placement, week, shops)
                break
            except SharesUnavailable:
                continue
        else:
            pytest.fail("no week the page shows has four free shares of feed-3")
    engine.dispose()
    page = staff_page(browser, live_site, StaffRole.REVIEWER)
    journey = Journey(page, artifact_dir("staff-reach"))
    for viewport, label in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page.set_viewport_size(viewport)  # type: ignore[arg-type]
        page.goto(f"{live_site.url}/marketplace/staff/inventory")
        page.get_by_role("link", name="販売と配信の見込み(広告枠・週別)").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "販売と配信の見込み(広告枠・週別)"
        )
        expect(page.locator("section.reach-placement")).not_to_have_count(0)
        # Other browser tests on the shared world may oversell a week of their own (the flyer
        # journey moves its booking into the running week): look at this test's week only.
        row = page.locator("tr", has_text=f"予約 #{extra_id}")
        expect(row).to_have_count(1)
        expect(row).to_have_class("oversold")
        expect(row).to_contain_text("売りすぎ")
        assert horizontal_overflow(page) == 0
        assert_accessible(page)
        journey.shot(f"reach-{label}")
    journey.assert_clean()
    page.context.close()
