"""The rest of the journey in a real browser: pay by card, go live, be seen, be clicked, be counted.

What is real and what is stood in for (this machine is offline):

- Real: every page below is the live app under uvicorn, driven by Debian's chromium; the shop's
  card PaymentIntent is created by the app against localstripe (a local Stripe API), the app
  reads the paid intent back from localstripe when the browser returns from the payment, and the
  booking is confirmed and invoiced by billing's own code. Delivery, the impression pixel, the
  click redirect, the event writer, the hourly rollups, the shop's report, revenue recognition
  and the finance dashboard are the production code paths.
- Stood in for: (1) Stripe.js cannot load from js.stripe.com, so the browser requests the
  PaymentIntent exactly as billing-card.js does, and the test confirms it against localstripe
  with the real `stripe` library and a test-card PaymentMethod, as Stripe.js would; then the
  browser goes to the return URL as Stripe.js does. (2) A booking starts on the next Monday at
  the earliest; instead of waiting for it, the test moves the paid booking (and its invoice
  lines' service period) back to the current week in the database, then runs the scheduler's
  `advance_schedule` so it is live now. The inventory calendar and the invoice's service period
  (write-once) stay on the booked weeks, so revenue recognition does not see it yet.
  (3) The landing page is on the internet; Playwright answers it locally and the test checks the
  URL the click redirect sent the browser to. (4) The hourly rollup and revenue recognition are
  the jobs cron would run; the test calls their services.
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import stripe
from playwright.sync_api import Browser, Page, Route, expect
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from billing.recognition import recognise_revenue
from marketplace.bookings.controls import advance_schedule
from marketplace.calendar import tokyo_date, week_start
from marketplace.db import make_engine, make_session_factory, utcnow
from marketplace.delivery.rollups import roll_up_recent
from marketplace.lifecycle import BookingStatus
from marketplace.models import Booking, Resident
from marketplace.vocab import AgeBand, StaffRole
from portal_plugin.demo.app import create_demo_app
from tests.proof.browser import (
    DESKTOP,
    PHONE,
    Journey,
    assert_accessible,
    enlarge_text,
    horizontal_overflow,
)
from tests.proof.callers import STRIPE_API_KEY, STRIPE_WEBHOOK_SECRET
from tests.proof.journey_steps import approve_ad, approve_shop, sign_up_shop, staff_page, submit_ad
from tests.proof.livesite import LiveServer, live_server
from tests.support.localstripe import Localstripe
from tests.support.settings import make_settings

pytestmark = [pytest.mark.browser, pytest.mark.stripe]
TARGET_BAND = AgeBand.AGE_30S
HEADLINE = "会津塗の箸、名入れします"
LANDING_URL = "https://urushi.example.jp/hashi"
# A resident's everyday browser. Headless chromium says "HeadlessChrome", which the click
# counter rightly treats as a bot.
RESIDENT_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
ANNUAL_COST_YEN = 3_000_000


@pytest.fixture(scope="module")
def stripe_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Localstripe]:
    server = Localstripe(tmp_path_factory.mktemp("localstripe"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def paying_site(
    seeded_database_url: str, stripe_api: Localstripe, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The demo portal with card payments on (localstripe) and delivery refreshing fast."""
    folder = tmp_path_factory.mktemp("paying-site")
    settings = make_settings(
        seeded_database_url,
        session_cookie_secure=False,
        model_store_dir=folder / "models",
        delivery_spool_dir=folder / "spool",
        delivery_refresh_seconds=0.5,
        # This city lets one shop hold a whole placement-week (the default keeps shares free
        # for rivals: HOLD_MAX_SHARES_PER_WEEK); the journey buys all four shares of feed-8.
        hold_max_shares_per_week=4,
        stripe_api_key=STRIPE_API_KEY,
        stripe_webhook_secret=STRIPE_WEBHOOK_SECRET,
        stripe_publishable_key="pk_test_journey",
        stripe_api_base=stripe_api.url,
        invoice_issuer_name="会津若松市 スマートシティ推進室",
        invoice_issuer_registration_number="T7000012050002",
    )
    with live_server(create_demo_app(settings)) as server:
        yield server


def in_db(url: str, work):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    try:
        with make_session_factory(engine).begin() as session:
            return work(session)
    finally:
        engine.dispose()


def two_residents(session: Session) -> tuple[str, str]:
    """A consenting resident in the targeted age band and a consenting one outside it."""
    consenting = select(Resident.external_id).where(Resident.personalization_consent.is_(True))
    inside = session.scalars(consenting.where(Resident.age_band == TARGET_BAND)).first()
    outside = session.scalars(consenting.where(Resident.age_band != TARGET_BAND)).first()
    assert inside and outside, "the seeded city needs consenting residents in and out of 30-39"
    return inside, outside


def go_live_now(session: Session, booking_id: int) -> BookingStatus:
    """Stand-in for waiting until the booked Monday: move the booking into this week."""
    booking = session.get_one(Booking, booking_id)
    shift = booking.first_week - week_start(tokyo_date(utcnow()))
    assert shift >= timedelta(weeks=1)
    booking.first_week -= shift
    booking.last_week -= shift
    session.flush()
    assert advance_schedule(session) >= 1
    return booking.status


def roll_up(url: str) -> None:
    """The hourly rollup job, once. On SQLite it can meet the live server's writer holding the
    lock; like the service's own loop, the next round redoes it."""
    with contextlib.suppress(OperationalError):
        in_db(url, lambda s: roll_up_recent(s, utcnow()))


def kpis(page: Page) -> dict[str, str]:
    labels = page.locator(".kpi .kpi-label").all_inner_texts()
    values = page.locator(".kpi .kpi-value").all_inner_texts()
    return dict(zip(labels, values, strict=True))


def yen_value(text: str) -> int:
    """`¥1,234（0.4%）` -> 1234."""
    return int(re.sub(r"[^0-9-]", "", re.split(r"[（(]", text)[0]) or 0)


def offset_ratio(text: str) -> float:
    """`¥1,234（0.4%）` -> 0.4."""
    match = re.search(r"([0-9.]+)%", text)
    assert match, text
    return float(match.group(1))


def check_small_and_large(page: Page) -> None:
    """The current page at phone width and with 200 % text: no sideways scroll, axe clean."""
    url = page.url
    page.set_viewport_size(PHONE)
    page.goto(url)
    assert horizontal_overflow(page) == 0, f"{url} scrolls sideways at 375 px"
    enlarge_text(page)
    assert horizontal_overflow(page) == 0, f"{url} scrolls sideways with 200 % text"
    assert_accessible(page)
    page.set_viewport_size(DESKTOP)
    page.goto(url)


def our_ad(page: Page, shop_name: str):  # type: ignore[no-untyped-def]
    return page.locator("li.card.ad", has_text=shop_name)


def show_feed_until_ad(page: Page, url: str, shop_name: str, seconds: float = 30) -> None:
    """Open the feed until this shop's ad is in it (bounded): the delivery snapshot refreshes
    every 0.5 s, and pacing lets a booking that is behind its share catch up within a few views."""
    deadline = time.monotonic() + seconds
    while True:
        page.goto(url)
        if our_ad(page, shop_name).count() or time.monotonic() > deadline:
            return
        time.sleep(0.3)


def test_shop_pays_by_card_resident_sees_and_clicks_shop_and_finance_see_it(
    paying_site: LiveServer,
    stripe_api: Localstripe,
    seeded_database_url: str,
    journey: Journey,
    browser: Browser,
) -> None:
    started = time.monotonic()
    site, base = paying_site.url, paying_site.url + "/marketplace"
    shop = journey.page
    name = f"会津塗はし{uuid.uuid4().hex[:4]}"
    inside, outside = in_db(seeded_database_url, two_residents)

    # 0. Finance records the year's running cost and notes the dashboard before the sale.
    finance = staff_page(browser, paying_site, StaffRole.FINANCE)
    finance.goto(base + "/finance/costs")
    finance.locator("select[name=service]").select_option(index=0)
    finance.locator("input[name=amount_yen]").fill(str(ANNUAL_COST_YEN))
    finance.get_by_role("button", name="保存", exact=True).click()
    finance.goto(base + "/finance/")
    before = kpis(finance)
    finance.screenshot(path=str(journey.folder / "finance-before.png"), full_page=True)

    # 1. Sign-up, approval and an approved ad (the other journey test shows the rejection).
    sign_up_shop(journey, base, name)
    reviewer = staff_page(browser, paying_site, StaffRole.REVIEWER)
    approve_shop(reviewer, base, name)
    submit_ad(journey, base, HEADLINE, LANDING_URL)
    approve_ad(reviewer, base, HEADLINE)
    reviewer.context.close()

    # 2. Two weeks of the whole feed-8 placement (all 4 shares), for residents in their 30s.
    shop.goto(base + "/shop/book")
    shop.get_by_label("広告枠").select_option(
        label=shop.locator("#placement_id option", has_text="8件目").first.inner_text()
    )
    shop.get_by_label("開始週(月曜日)").select_option(index=0)
    shop.get_by_label("期間(週)").fill("2")
    shop.get_by_label("枠数").fill("4")
    shop.locator(f"input[name='targeting.age_bands'][value='{TARGET_BAND.value}']").check()
    shop.get_by_role("button", name="見積もりを見る").click()
    expect(shop.locator("main")).to_contain_text("合計")
    shop.get_by_role("button", name="15分間仮押さえする").click()
    expect(shop.locator("main")).to_contain_text("仮押さえの期限")
    booking_id = int(re.search(r"/shop/bookings/(\d+)", shop.url).group(1))  # type: ignore[union-attr]
    journey.shot("held-targeted")

    # 3. The pay page, as far as Stripe.js would take over. js.stripe.com is refused here, so
    #    billing-card.js stays idle (it checks for Stripe) and nothing is sent off the machine.
    shop.route("https://js.stripe.com/**", lambda route: route.abort())
    shop.goto(f"{base}/shop/bookings/{booking_id}/pay")
    expect(shop.get_by_role("heading", name="お支払方法の選択")).to_be_visible()
    card = shop.locator("#card-payment")
    expect(card).to_contain_text("カードで支払う")
    assert_accessible(shop)
    journey.shot("pay-page")
    # What billing-card.js does first: ask our server for the PaymentIntent (CSRF header on).
    intent = shop.evaluate(
        """async () => {
          const s = document.getElementById('card-payment');
          const r = await fetch(s.dataset.intentUrl, {method: 'POST', credentials: 'same-origin',
            headers: {'X-CSRF-Token': s.dataset.csrfToken, 'Accept': 'application/json'}});
          return {status: r.status, body: await r.json(), returnUrl: s.dataset.returnUrl};
        }"""
    )
    assert intent["status"] == 200, intent
    secret = intent["body"]["client_secret"]
    intent_id = secret.split("_secret_")[0]
    # Standing in for Stripe.js: confirm the intent with a test card against localstripe.
    client = stripe.StripeClient(
        STRIPE_API_KEY, base_addresses={"api": stripe_api.url}, max_network_retries=0
    )
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    # Attach, then confirm (localstripe does not take payment_method on confirm itself).
    client.v1.payment_intents.update(intent_id, params={"payment_method": str(method.id)})
    confirmed = client.v1.payment_intents.confirm(intent_id)
    assert confirmed.status == "succeeded"
    # Then Stripe.js sends the browser to the return URL; the app reads the intent back.
    shop.goto(site + intent["returnUrl"])
    expect(shop.locator("main")).to_contain_text("お支払いが完了し、お申し込みが確定しました")
    journey.shot("paid-by-card")
    shop.goto(f"{base}/shop/bookings/{booking_id}")
    expect(shop.locator("main")).to_contain_text("掲載予定")
    shop.goto(base + "/shop/billing")
    expect(shop.locator("main")).to_contain_text("カード")
    journey.shot("billing-after-card")

    # 4. Live now (stand-in for waiting until Monday), then the delivery snapshot picks it up.
    status = in_db(seeded_database_url, lambda s: go_live_now(s, booking_id))
    assert status is BookingStatus.LIVE
    shop.goto(f"{base}/shop/bookings/{booking_id}")
    expect(shop.locator("main")).to_contain_text("掲載中")
    journey.shot("booking-live")

    # 5. A resident in their 30s sees the ad, labelled 「広告」, with the shop's name.
    resident_context = browser.new_context(
        viewport=DESKTOP, locale="ja-JP", user_agent=RESIDENT_AGENT
    )
    resident_context.set_default_timeout(15_000)
    resident = Journey(resident_context.new_page(), journey.folder / "resident")
    resident.folder.mkdir(exist_ok=True)
    pixels: list[int] = []
    resident.page.on(
        "response", lambda r: pixels.append(r.status) if "/marketplace/i/" in r.url else None
    )
    show_feed_until_ad(resident.page, f"{site}/?resident={inside}", name)
    ad = our_ad(resident.page, name)
    expect(ad).to_have_count(1)
    expect(ad.locator(".ad-badge")).to_have_text("広告")
    expect(ad).to_contain_text(HEADLINE)
    pixel = ad.locator("img.pixel")
    resident.page.wait_for_function(
        "img => img.complete", arg=pixel.element_handle(), timeout=10_000
    )
    assert 204 in pixels, pixels  # the impression was counted before any click
    resident.shot("resident-sees-ad")

    # 6. The resident clicks through: /c/… answers 302 to the shop's landing page, which is on
    #    the internet, so Playwright answers it here and the test checks where the browser went.
    landed: list[str] = []

    def landing(route: Route) -> None:
        landed.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<title>landing</title>ok")

    resident.page.route("https://urushi.example.jp/**", landing)
    with resident.page.expect_response(lambda r: "/marketplace/c/" in r.url) as redirect:
        ad.get_by_role("link", name=HEADLINE).click()
    assert redirect.value.status == 302
    assert redirect.value.headers["location"].startswith(LANDING_URL)
    resident.page.wait_for_url(LANDING_URL + "**")
    assert landed and landed[0].startswith(LANDING_URL)
    # The resident's home at phone width and with large text (the ad may be capped by now).
    resident.page.goto(f"{site}/?resident={inside}")
    check_small_and_large(resident.page)
    resident.shot("resident-home-phone-large-text")
    resident.assert_clean()
    resident_context.close()

    # 7. A resident outside the targeted ages does not see it, however often they look.
    other_context = browser.new_context(viewport=DESKTOP, locale="ja-JP", user_agent=RESIDENT_AGENT)
    other = other_context.new_page()
    for _ in range(5):
        other.goto(f"{site}/?resident={outside}")
        expect(other.locator("#feed-heading")).to_be_visible()
        assert our_ad(other, name).count() == 0
    other.screenshot(path=str(resident.folder / "other-resident-no-ad.png"), full_page=True)
    other_context.close()

    # 8. The shop's report shows the click, once the writer has flushed and the hour rolled up.
    deadline = time.monotonic() + 20
    while True:
        roll_up(seeded_database_url)
        shop.goto(f"{base}/shop/reports/{booking_id}")
        report = kpis(shop)
        if report.get("有効クリック", "").startswith("1（") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert report["有効クリック"].startswith("1（"), report
    assert yen_value(report["表示回数"]) >= 1, report
    assert_accessible(shop)
    journey.shot("shop-report-click")
    check_small_and_large(shop)

    # 9. Finance sees the paid booking move the year-end forecast and its offset ratio (the
    #    forecast counts confirmed bookings). Recognised revenue follows the invoice's service
    #    period, which still starts next Monday (invoice lines are write-once), so the nightly
    #    recognition posts nothing for it yet and the recognised figure must stay as it was.
    recognised = in_db(seeded_database_url, lambda s: recognise_revenue(s, tokyo_date(utcnow())))
    finance.goto(base + "/finance/")
    after = kpis(finance)
    revenue, forecast = "認識済み広告収入（税抜）", "年度末の予測"
    assert after[revenue] == before[revenue] and recognised.amount == 0, (before, after)
    assert yen_value(after[forecast]) > yen_value(before[forecast]), (before, after)
    ratio_before, ratio_after = (offset_ratio(k[forecast]) for k in (before, after))
    assert ratio_after > ratio_before, (before, after)
    finance.screenshot(path=str(journey.folder / "finance-after.png"), full_page=True)
    assert_accessible(finance)
    check_small_and_large(finance)
    finance.context.close()

    journey.assert_clean()
    assert time.monotonic() - started < 180
