"""The shop's booking page in Debian's chromium: delivered vs owed so far on the one measure,
a meter, and the reason when behind, at a phone's width and a desktop's; axe-core finds
nothing serious; screenshots under test-artifacts/browser/ (issue 20 item 4)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from marketplace.audit import SYSTEM
from marketplace.bookings.controls import pause_booking, resume_booking
from marketplace.bookings.requests import BookingRequest
from marketplace.bookings.services import place_hold
from marketplace.calendar import tokyo_date
from marketplace.db import make_engine, make_session_factory, utcnow
from marketplace.delivery.measured import booking_period
from marketplace.inventory.targeting import Targeting
from marketplace.lifecycle import BookingStatus
from marketplace.models import Placement, Shop
from marketplace.vocab import ShopStatus
from tests.proof.browser import DESKTOP, PHONE, Journey, assert_accessible, horizontal_overflow
from tests.proof.journey_steps import sign_up_shop
from tests.proof.livesite import LiveServer
from tests.support.delivery_rows import rollup_hour

pytestmark = pytest.mark.browser


def test_a_paused_booking_shows_its_delivery_and_the_reason(
    live_site: LiveServer, seeded_database_url: str, journey: Journey
) -> None:
    base = live_site.url + "/marketplace"
    name = f"会津の菓子店{uuid.uuid4().hex[:4]}"
    sign_up_shop(journey, base, name)
    engine = make_engine(seeded_database_url)
    with make_session_factory(engine).begin() as session:
        shop = session.scalars(select(Shop).where(Shop.business_name == name)).one()
        shop.status = ShopStatus.APPROVED
        placement = session.scalars(select(Placement).where(Placement.code == "feed-8")).one()
        today = tokyo_date(utcnow())
        monday = today - timedelta(days=today.weekday())
        request = BookingRequest(placement.id, monday, 1, 1, Targeting())
        booking = place_hold(
            session, shop.id, request, uuid.uuid4().hex, now=utcnow() - timedelta(days=14)
        )
        booking.status = BookingStatus.LIVE
        start, _ = booking_period(booking)
        slots = 10 * placement.shares_per_week
        for h in range(12):  # twelve hours; staff paused it for hours 4 to 7
            rollup_hour(session, booking, start + timedelta(hours=h),
                        0 if 4 <= h < 8 else 10, slots)  # fmt: skip
        session.flush()
        pause_booking(session, booking.id, SYSTEM, "表示内容の確認", now=start + timedelta(hours=4))
        resume_booking(session, booking.id, SYSTEM, now=start + timedelta(hours=8))
        booking_id = booking.id
    engine.dispose()
    page = journey.page
    for viewport, label in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page.set_viewport_size(viewport)  # type: ignore[arg-type]
        page.goto(f"{base}/shop/bookings/{booking_id}")
        section = page.locator("section.delivery")
        expect(section).to_contain_text("配信の状況")
        expect(section).to_contain_text("80回")
        expect(section).to_contain_text("120回")
        expect(section).to_contain_text("予定より表示が少なくなっています。")
        expect(section).to_contain_text("理由: 市の職員による一時停止")
        expect(page.get_by_label("予定に対する配信: 66%")).to_have_attribute("value", "66")
        assert horizontal_overflow(page) == 0
        assert_accessible(page)
        section.scroll_into_view_if_needed()
        journey.shot(f"booking-delivery-{label}")
    journey.assert_clean()
