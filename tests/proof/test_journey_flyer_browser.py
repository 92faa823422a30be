"""A shop without a website advertises its printed flyer from a phone; a resident reads it.

In a real browser at 375 px: a shop signs up (no website anywhere), fills in its shop page,
uploads a two-page PDF flyer (made here with weasyprint); a reviewer sees its pages and the text
read from them and approves it; the shop books a targeted week with the flyer and confirms by
invoice. Then a resident in the targeted age band sees the flyer card in the feed, clicks it
(counted through /c/…), reads the flyer in the viewer (zoom by button and keyboard, printed text
for screen readers) and reaches the shop page with its tap-to-call link. Every page the shop and
the resident see is checked with axe at 375 px, and for sideways scrolling.

Stood in for, as in test_journey_pay_and_deliver.py: a booking starts next Monday at the
earliest, so the test moves the confirmed booking into the current week in the database and
runs the scheduler's `advance_schedule` to make it live now.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from marketplace.bookings.controls import advance_schedule
from marketplace.business_days import is_business_day
from marketplace.calendar import tokyo_date, week_start
from marketplace.db import make_engine, make_session_factory, utcnow
from marketplace.delivery.models import SlotOpportunity
from marketplace.lifecycle import BookingStatus
from marketplace.models import Booking, Placement, Resident
from marketplace.vocab import AgeBand, StaffRole
from portal_plugin.demo.app import create_demo_app
from tests.proof.browser import (
    PHONE,
    Journey,
    artifact_dir,
    assert_accessible,
    enlarge_text,
    horizontal_overflow,
)
from tests.proof.journey_steps import approve_shop, sign_up_shop, staff_page
from tests.proof.livesite import LiveServer, live_server
from tests.support.flyer_files import flyer_pdf
from tests.support.settings import make_settings

pytestmark = pytest.mark.browser
TARGET_BAND = AgeBand.AGE_30S
HEADLINE = "冬の大感謝祭"
RESIDENT_AGENT = (
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)


@pytest.fixture(scope="module")
def flyer_site(
    seeded_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("flyer-site")
    settings = make_settings(
        seeded_database_url,
        session_cookie_secure=False,
        model_store_dir=folder / "models",
        delivery_spool_dir=folder / "spool",
        delivery_refresh_seconds=0.5,
        # This city lets one shop hold a whole placement-week (the default keeps shares free
        # for rivals: HOLD_MAX_SHARES_PER_WEEK); the journey buys all four shares of feed-8.
        hold_max_shares_per_week=4,
    )
    with live_server(create_demo_app(settings)) as server:
        yield server


@pytest.fixture
def feed_traffic(seeded_database_url: str) -> Iterator[None]:
    """Two weeks of feed-3 slots as the workers count them, so the quote forecasts reach;
    removed afterwards (the seeded database is shared with other tests)."""
    batch = f"flyer-{uuid.uuid4().hex[:16]}"

    def add(session: Session) -> None:
        placement = session.scalars(select(Placement).where(Placement.code == "feed-3")).one()
        hour = utcnow().replace(minute=0, second=0, microsecond=0)
        for day in range(14):
            session.add(SlotOpportunity(
                batch_id=f"{batch}-{day}", placement_id=placement.id,
                hour_start=hour - timedelta(days=day, hours=1), worker_id="w", slots=400))  # fmt: skip

    in_db(seeded_database_url, add)
    yield
    in_db(seeded_database_url, lambda session: session.execute(
        delete(SlotOpportunity).where(SlotOpportunity.batch_id.startswith(batch))))  # fmt: skip


def in_db(url: str, work):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    try:
        with make_session_factory(engine).begin() as session:
            return work(session)
    finally:
        engine.dispose()


def targeted_resident(session: Session) -> str:
    found = session.scalars(
        select(Resident.external_id).where(
            Resident.personalization_consent.is_(True), Resident.age_band == TARGET_BAND
        )
    ).first()
    assert found, "the seeded city needs a consenting resident aged 30-39"
    return found


def go_live_now(session: Session, booking_id: int) -> BookingStatus:
    booking = session.get_one(Booking, booking_id)
    shift = booking.first_week - week_start(tokyo_date(utcnow()))
    booking.first_week -= shift
    booking.last_week -= shift
    session.flush()
    advance_schedule(session)
    return booking.status


def phone_check(page: Page) -> None:
    """No sideways scroll at 375 px, nor with 200 % text; axe finds nothing serious."""
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
            .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"""
    )
    assert horizontal_overflow(page) == 0, f"{page.url} scrolls sideways at 375 px: {wide[:8]}"
    assert_accessible(page)
    enlarge_text(page)
    assert horizontal_overflow(page) == 0, f"{page.url} scrolls sideways with 200 % text"
    page.reload()


def first_free_week(page: Page) -> str:
    """The first week the form offers that has a free share for the chosen placement."""
    found: str = page.evaluate(
        """() => { const id = document.getElementById('placement_id').value;
            const week = [...document.getElementById('first_week').options]
              .find(o => parseInt(o.getAttribute('data-free-' + id) || '0', 10) > 0);
            return week ? week.value : ''; }"""
    )
    return found


def touch_targets_too_small(page: Page, selector: str) -> list[str]:
    return list(
        page.evaluate(
            """sel => [...document.querySelectorAll(sel)]
                .filter(e => e.offsetParent !== null)
                .filter(e => { const r = e.getBoundingClientRect(); return r.height < 44; })
                .map(e => e.outerHTML.slice(0, 80))""",
            selector,
        )
    )


def test_a_shop_without_a_website_advertises_its_flyer_and_a_resident_reads_it(
    flyer_site: LiveServer, seeded_database_url: str, browser: Browser, feed_traffic: None
) -> None:
    site, base = flyer_site.url, flyer_site.url + "/marketplace"
    folder = artifact_dir("flyer_journey_375")
    context = browser.new_context(viewport=PHONE, locale="ja-JP", has_touch=True)
    context.set_default_timeout(20_000)
    journey = Journey(context.new_page(), folder)
    shop = journey.page
    name = f"会津ストア{uuid.uuid4().hex[:4]}"
    inside = in_db(seeded_database_url, targeted_resident)

    # 1. Sign-up on a phone (nothing asks for a website), and the city approves the shop.
    sign_up_shop(journey, base, name)
    reviewer = staff_page(browser, flyer_site, StaffRole.REVIEWER)
    approve_shop(reviewer, base, name)

    # 2. The shop page: address, hours, a phone number.
    shop.goto(base + "/shop/page")
    shop.get_by_label("住所").fill("会津若松市追手町1-1")
    shop.get_by_label("営業時間").fill("9:00〜20:00")
    shop.get_by_label("定休日").fill("毎週水曜日")
    shop.get_by_label("お店の電話番号(ページに表示され、タップで電話できます)").fill("0242-39-1111")
    shop.get_by_role("button", name="保存する").click()
    expect(shop.get_by_role("status")).to_contain_text("保存しました")
    journey.shot("shop-page-settings")
    phone_check(shop)

    # 3. The flyer: a two-page PDF, its dates, no website.
    pdf = Path(folder) / "flyer.pdf"
    pdf.write_bytes(flyer_pdf(["冬の大感謝祭 白菜1玉198円", "営業時間 9:00〜20:00"]))
    today = tokyo_date(utcnow())
    shop.goto(base + "/shop/flyers/new")
    phone_check(shop)
    shop.get_by_label("チラシのファイル").set_input_files(str(pdf))
    shop.get_by_label("チラシの管理名(お客様には表示されません)").fill("冬の折込")
    shop.locator("#headline").fill(HEADLINE)
    shop.locator("#shown_from").fill(today.isoformat())
    shop.locator("#shown_until").fill((today + timedelta(days=20)).isoformat())
    shop.locator("#sale_from").fill(today.isoformat())
    shop.locator("#sale_until").fill((today + timedelta(days=3)).isoformat())
    journey.shot("flyer-form")
    shop.get_by_role("button", name="審査に出す").click()
    expect(shop.locator("main")).to_contain_text("v1 審査中")
    expect(shop.locator(".flyer-pages-small img")).to_have_count(2)
    journey.shot("flyer-submitted")
    phone_check(shop)

    # 4. The reviewer sees both pages and the text read from them, and approves.
    reviewer.goto(base + "/staff/review")
    reviewer.locator("tr", has_text=HEADLINE).get_by_role("link", name="審査する").click()
    expect(reviewer.locator(".review-page img")).to_have_count(2)
    expect(reviewer.locator("main")).to_contain_text("読み取った文字")
    reviewer.get_by_role("button", name="承認する").click()
    reviewer.screenshot(path=str(folder / "reviewer-approved-flyer.png"), full_page=True)
    reviewer.context.close()

    # 5. Book the whole feed-3 placement for residents in their 30s, from the first week with a
    # free share (the form opens on it), in at most five screens: the form (flyer, weeks,
    # targeting), the quote with its reach forecast, the hold, and the invoice.
    screens: list[str] = []
    shop.on("load", lambda _page: screens.append(shop.url))
    shop.goto(base + "/shop/book")
    phone_check(shop)
    shop.get_by_label("広告枠").select_option(
        label=shop.locator("#placement_id option", has_text="3件目").first.inner_text()
    )
    weeks = shop.get_by_label("開始週(月曜日)")
    assert weeks.input_value() == first_free_week(shop), "the form opens on a sold-out week"
    shop.get_by_label("期間(週)").fill("1")
    shop.get_by_label("枠数").fill("4")
    option = shop.locator("#creative_id optgroup[label='チラシ'] option", has_text="冬の折込")
    shop.get_by_label("広告素材").select_option(value=option.get_attribute("value"))
    shop.locator(f"input[name='targeting.age_bands'][value='{TARGET_BAND.value}']").check()
    journey.shot("booking-form")
    shop.get_by_role("button", name="見積もりを見る").click()
    expect(shop.locator("main")).to_contain_text("合計")
    expect(shop.locator("main")).to_contain_text("表示回数の見込み")
    journey.shot("quote")
    shop.get_by_role("button", name="15分間仮押さえする").click()
    expect(shop.locator("main")).to_contain_text("仮押さえの期限")
    journey.shot("hold")
    phone_check(shop)
    booking_id = int(re.search(r"/shop/bookings/(\d+)", shop.url).group(1))  # type: ignore[union-attr]
    shop.get_by_role("button", name="請求書払いに同意して確定する").click()
    expect(shop.locator("main")).to_contain_text("適格請求書")
    journey.shot("invoice")
    # The invoice can be paid: a bank account to transfer to, due on a business day.
    expect(shop.locator(".bank-account")).to_contain_text("振込先: ")
    due = re.search(
        r"お支払期限\s*(\d{4})年(\d{1,2})月(\d{1,2})日", shop.locator("main").inner_text()
    )
    assert due, "the invoice shows no due date"
    assert is_business_day(date(*map(int, due.groups())))
    phone_check(shop)
    distinct = list(dict.fromkeys(url for url in screens))
    assert len(distinct) <= 5, f"booking took {len(distinct)} screens: {distinct}"
    assert in_db(seeded_database_url, lambda s: go_live_now(s, booking_id)) is BookingStatus.LIVE

    # 6. A resident in their 30s, on a phone, sees the flyer card in the feed.
    resident_context = browser.new_context(
        viewport=PHONE, locale="ja-JP", user_agent=RESIDENT_AGENT, has_touch=True
    )
    resident_context.set_default_timeout(20_000)
    resident = Journey(resident_context.new_page(), folder / "resident")
    resident.folder.mkdir(exist_ok=True)
    card = resident.page.locator("li.card.flyer", has_text=name)
    deadline = time.monotonic() + 40
    while True:
        resident.page.goto(f"{site}/?resident={inside}")
        if card.count() or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    expect(card).to_have_count(1)
    expect(card.locator(".ad-badge")).to_have_text("広告")
    expect(card).to_contain_text("特売期間")
    resident.shot("feed-flyer-card")
    assert horizontal_overflow(resident.page) == 0
    assert_accessible(resident.page)

    # 7. The card's click is counted (/c/…) and opens the viewer.
    with resident.page.expect_response(lambda r: "/marketplace/c/" in r.url) as redirect:
        card.get_by_role("link").first.click()
    assert redirect.value.status == 302
    assert re.search(r"/marketplace/flyers/\d+$", redirect.value.headers["location"])
    expect(resident.page.get_by_role("heading", level=1)).to_have_text(HEADLINE)
    viewer = resident.page
    expect(viewer.locator(".flyer-page img")).to_have_count(2)
    resident.shot("viewer")
    phone_check(viewer)
    # Zoom by keyboard: the button, then the + key; the level is announced.
    viewer.get_by_role("button", name="拡大").focus()
    viewer.keyboard.press("Enter")
    expect(viewer.get_by_role("status")).to_have_text("拡大率 150%")
    viewer.keyboard.press("+")
    expect(viewer.get_by_role("status")).to_have_text("拡大率 200%")
    width = viewer.evaluate("() => document.querySelector('.flyer-stage img').clientWidth")
    frame = viewer.evaluate("() => document.querySelector('.flyer-stage').clientWidth")
    assert width >= 1.9 * frame  # the page is twice as wide, inside its own scrolling frame
    assert horizontal_overflow(viewer) == 0
    resident.shot("viewer-zoomed")
    # The printed text is there for screen readers.
    viewer.get_by_text("1ページ目に書かれている文字").click()
    expect(viewer.locator(".printed").first).to_contain_text("白菜1玉198円")
    assert not touch_targets_too_small(viewer, ".flyer-viewer button, .flyer-viewer .button-link")

    # 8. On to the shop page: tap to call, a plain map link, the current flyer.
    viewer.get_by_role("link", name="お店のページ(住所・電話・地図)").click()
    expect(viewer.get_by_role("heading", level=1)).to_have_text(name)
    expect(viewer.get_by_role("link", name=re.compile("電話をかける"))).to_have_attribute(
        "href", "tel:0242391111"
    )
    expect(viewer.get_by_role("link", name=re.compile("地図で場所を見る"))).to_have_attribute(
        "href", re.compile(r"^https://www\.google\.com/maps/search/\?api=1&query=")
    )
    expect(viewer.locator(".flyer-list")).to_contain_text(HEADLINE)
    resident.shot("shop-page")
    phone_check(viewer)
    assert not touch_targets_too_small(viewer, ".shop-page .button-link")
    resident.assert_clean()
    journey.assert_clean()
    resident_context.close()
    context.close()
