"""Reach before sale in Debian's chromium: a shop's quote for a narrowly targeted booking shows
the impressions to expect and names the cause in Japanese, at a phone's width and a desktop's;
axe-core finds nothing serious; screenshots under test-artifacts/browser/."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from marketplace.db import make_engine, make_session_factory, utcnow
from marketplace.delivery.models import SlotOpportunity
from marketplace.models import Placement, Shop
from marketplace.vocab import ShopStatus
from tests.proof.browser import DESKTOP, PHONE, Journey, assert_accessible, horizontal_overflow
from tests.proof.journey_steps import sign_up_shop
from tests.proof.livesite import LiveServer
from tests.support.marketplace_http import monday

pytestmark = pytest.mark.browser


def test_a_narrow_quote_warns_before_payment(
    live_site: LiveServer, seeded_database_url: str, journey: Journey
) -> None:
    base = live_site.url + "/marketplace"
    name = f"会津の整骨院{uuid.uuid4().hex[:4]}"
    sign_up_shop(journey, base, name)
    engine = make_engine(seeded_database_url)
    with make_session_factory(engine).begin() as session:
        session.execute(update(Shop).where(Shop.business_name == name).values(
            status=ShopStatus.APPROVED))  # fmt: skip
        placement = session.scalars(select(Placement).where(Placement.code == "feed-3")).one()
        hour = utcnow().replace(minute=0, second=0, microsecond=0)
        for day in range(14):  # two weeks of the placement's slots, as the workers count them
            session.add(SlotOpportunity(
                batch_id=uuid.uuid4().hex, placement_id=placement.id,
                hour_start=hour - timedelta(days=day, hours=1), worker_id="w", slots=400))  # fmt: skip
        placement_id = placement.id
    engine.dispose()
    page = journey.page
    query = (f"placement_id={placement_id}&first_week={monday().isoformat()}&weeks=2&shares=2"
             "&targeting.age_bands=30-39")  # fmt: skip
    for viewport, label in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page.set_viewport_size(viewport)  # type: ignore[arg-type]
        page.goto(f"{base}/shop/book/quote?{query}")
        main = page.locator("main")
        expect(main).to_contain_text("表示回数の見込み")
        expect(main).to_contain_text("最近の閲覧から見込める表示回数")
        expect(main).to_contain_text("絞り込みなしで同じ枠数なら")
        expect(main).to_contain_text("対象が狭すぎます")
        assert horizontal_overflow(page) == 0
        assert_accessible(page)
        journey.shot(f"reach-quote-{label}")
        expect(page.get_by_role("button", name="15分間仮押さえする")).to_be_visible()
        # Two residents of a small district: refused, with no figure about them.
        page.goto(f"{base}/shop/book/quote?{query}&targeting.districts=ohto")
        expect(main).to_contain_text("お申し込みいただけません")
        expect(main).not_to_contain_text("最近の閲覧から見込める表示回数")
        expect(page.get_by_role("button", name="15分間仮押さえする")).to_have_count(0)
        assert_accessible(page)
        journey.shot(f"reach-refused-{label}")
    journey.assert_clean()
