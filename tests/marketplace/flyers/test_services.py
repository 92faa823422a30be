"""Flyers through the creatives' own machinery: versions, pre-check, review, booking, delivery."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from marketplace.bookings.requests import BookingRequest
from marketplace.bookings.services import place_hold, quote_booking
from marketplace.calendar import start_of_tokyo_day, tokyo_date, week_start
from marketplace.creatives.images import process_image
from marketplace.creatives.services import create_creative, edit_creative, parse_creative_text
from marketplace.delivery.layout import HostLayout
from marketplace.delivery.serving import load_snapshot
from marketplace.errors import InvalidInput, NotFound
from marketplace.flyers.files import process_images, process_pdf
from marketplace.flyers.periods import FlyerPeriods
from marketplace.flyers.services import (
    create_flyer,
    current_flyers,
    edit_flyer,
    flyer_pages,
    public_flyer,
)
from marketplace.inventory.targeting import EVERYONE
from marketplace.lifecycle import BookingStatus, CreativeKind
from marketplace.models import Booking, Creative
from marketplace.review.services import approve_version
from marketplace.review.standards import load_policy
from tests.support.flyer_files import flyer_pdf
from tests.support.images import png_bytes
from tests.support.marketplace_factories import (
    NOW,
    WEEK,
    make_placement,
    make_reviewer,
    make_shop,
)

POLICY = load_policy()
TEXT = parse_creative_text("春の折込", "春の大感謝祭", "全品ポイント2倍", "")
PERIODS = FlyerPeriods(date(2027, 3, 24), date(2027, 4, 6), date(2027, 3, 27), date(2027, 3, 29))


def two_pages() -> object:
    return process_images([png_bytes(800, 1100, "red"), png_bytes(800, 1100, "blue")])


def test_the_text_printed_on_a_pdf_flyer_is_pre_checked(session: Session) -> None:
    shop = make_shop(session)
    flyer = process_pdf(flyer_pdf(["会津で絶対に一番安い", "裏面"]))
    version = create_flyer(session, shop.id, TEXT, PERIODS, flyer, POLICY)
    assert session.get_one(Creative, version.creative_id).kind is CreativeKind.FLYER
    # The heading and the paragraph of page 1 both say it; page 2 and the title are clean.
    assert {(flag["field"], flag["text"]) for flag in version.precheck_flags} == {
        ("page_1", "絶対")
    }
    pages = flyer_pages(session, version.id)
    assert [p.number for p in pages] == [1, 2] and "一番安い" in pages[0].text
    assert (version.shown_from, version.sale_until) == (PERIODS.shown_from, PERIODS.sale_until)
    assert version.image_width == 600  # the first page, small, is the version's own image


def test_an_edit_keeps_the_pages_and_an_ad_form_cannot_edit_a_flyer(session: Session) -> None:
    shop = make_shop(session)
    first = create_flyer(session, shop.id, TEXT, PERIODS, two_pages(), POLICY)  # type: ignore[arg-type]
    later = FlyerPeriods(date(2027, 3, 25), date(2027, 4, 7))
    second = edit_flyer(session, shop.id, first.creative_id, TEXT, later, None, POLICY)
    assert second.version == 2 and second.shown_from == date(2027, 3, 25)
    assert [p.image_sha256 for p in flyer_pages(session, second.id)] == [
        p.image_sha256 for p in flyer_pages(session, first.id)
    ]
    with pytest.raises(NotFound):
        edit_creative(session, shop.id, first.creative_id, TEXT, None, POLICY)
    with pytest.raises(NotFound):
        edit_flyer(session, make_shop(session).id, first.creative_id, TEXT, later, None, POLICY)


def test_residents_see_an_approved_flyer_only_within_its_display_period(session: Session) -> None:
    shop = make_shop(session)
    version = create_flyer(session, shop.id, TEXT, PERIODS, two_pages(), POLICY)  # type: ignore[arg-type]
    inside = date(2027, 3, 30)
    with pytest.raises(NotFound):
        public_flyer(session, version.creative_id, inside)  # not approved yet
    approve_version(session, version.id, make_reviewer(session), now=NOW)
    shown = public_flyer(session, version.creative_id, inside)
    assert shown.version.id == version.id and len(shown.pages) == 2
    assert current_flyers(session, shop.id, inside) == [version]
    for outside in (
        PERIODS.shown_from - timedelta(days=1),
        PERIODS.shown_until + timedelta(days=1),
    ):
        with pytest.raises(NotFound):
            public_flyer(session, version.creative_id, outside)
        assert current_flyers(session, shop.id, outside) == []


def test_a_flyer_books_like_an_ad_but_only_for_weeks_it_is_shown(session: Session) -> None:
    shop, placement = make_shop(session), make_placement(session)
    version = create_flyer(session, shop.id, TEXT, PERIODS, two_pages(), POLICY)  # type: ignore[arg-type]
    # WEEK (29 March) has shown days; the image rules of the banner placement do not apply.
    quote_booking(
        session,
        shop.id,
        BookingRequest(placement.id, WEEK, 1, 1, EVERYONE, version.creative_id),
        NOW,
    )
    with pytest.raises(InvalidInput, match="掲載期間") as error:
        place_hold(
            session,
            shop.id,
            BookingRequest(placement.id, WEEK, 3, 1, EVERYONE, version.creative_id),
            "flyer-key-0001",
            now=NOW,
        )
    assert error.value.field == "creative_id"


def _live_booking(
    session: Session, shop_id: int, placement_id: int, creative_id: int, monday: date
) -> Booking:
    booking = Booking(
        shop_id=shop_id, placement_id=placement_id, creative_id=creative_id, shares=1,
        first_week=monday, last_week=monday, weeks=1, targeting={}, status=BookingStatus.LIVE,
        in_city_rate=True, unit_price_yen=2_750, list_price_yen=2_750, discount_yen=0,
        surcharge_yen=0, total_yen=2_750, tax_yen=250, idempotency_key=f"live-{creative_id}",
    )  # fmt: skip
    session.add(booking)
    session.flush()
    return booking


def test_delivery_serves_a_flyer_within_its_period_and_clicks_open_its_viewer(
    session: Session,
) -> None:
    now = NOW
    today = tokyo_date(now)
    monday = week_start(today)
    shop, placement = make_shop(session), make_placement(session, feed_position=3)
    reviewer = make_reviewer(session)
    periods = FlyerPeriods(today, today + timedelta(days=2), today, today + timedelta(days=1))
    flyer = create_flyer(session, shop.id, TEXT, periods, two_pages(), POLICY)  # type: ignore[arg-type]
    approve_version(session, flyer.id, reviewer, now=now)
    ad_text = parse_creative_text("看板", "会津の地酒", "", "")  # no website
    ad = create_creative(session, shop.id, ad_text, process_image(png_bytes()), POLICY)
    approve_version(session, ad.id, reviewer, now=now)
    flyer_booking = _live_booking(session, shop.id, placement.id, flyer.creative_id, monday)
    _live_booking(session, shop.id, placement.id, ad.creative_id, monday)

    snapshot = load_snapshot(session, now, HostLayout())
    served = {c.booking_id: c for c in snapshot.bookings}
    candidate = served[flyer_booking.id]
    assert candidate.kind == "flyer" and candidate.sale_until == today + timedelta(days=1)
    # Live from the booked Monday (or the flyer's first day) to the end of its last day.
    assert candidate.starts_at == max(start_of_tokyo_day(monday), start_of_tokyo_day(today))
    assert candidate.ends_at == start_of_tokyo_day(today + timedelta(days=3))
    assert snapshot.landing_urls[flyer.id] == f"/flyers/{flyer.creative_id}"
    assert snapshot.landing_urls[ad.id] == f"/shops/{shop.id}"

    # After its 掲載期間 the flyer is not served, whatever was booked; the ad still is.
    later = load_snapshot(session, now + timedelta(days=3), HostLayout())
    assert flyer_booking.id not in {c.booking_id for c in later.bookings}
    assert len(later.bookings) == 1
