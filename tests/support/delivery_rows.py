"""Delivery rows written straight to the tables, for the rollup tests: a live booking, offers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from marketplace.delivery.models import AdOffer, DeliveryRollup, EligibleSlotRollup
from marketplace.lifecycle import BookingStatus
from marketplace.models import Booking
from tests.support.marketplace_factories import make_placement, make_shop


def live_booking(session: Session) -> Booking:
    """A live one-week booking (week of 2026-11-02) of a new shop on a new placement."""
    shop, placement = make_shop(session), make_placement(session)
    row = Booking(
        shop_id=shop.id, placement_id=placement.id, shares=1, first_week=date(2026, 11, 2),
        last_week=date(2026, 11, 2), weeks=1, targeting={}, status=BookingStatus.LIVE,
        in_city_rate=True, unit_price_yen=2_750, list_price_yen=2_750, discount_yen=0,
        surcharge_yen=0, total_yen=2_750, tax_yen=250, idempotency_key="rollup",
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def offer_row(session: Session, b: Booking, n: int, at: datetime, age: str = "70+") -> AdOffer:
    """Offer number `n` of booking `b` at `at` (its id is `n`, zero-padded to 32 digits)."""
    row = AdOffer(
        id=f"{n:032d}", booking_id=b.id, placement_id=b.placement_id, creative_version_id=1,
        shop_id=b.shop_id, resident_key=None, age_band=age, household="single",
        district="ohto", personalized=True, position=3, worker_id="w", offered_at=at,
    )  # fmt: skip
    session.add(row)
    return row


def rollup_hour(
    session: Session,
    b: Booking,
    at: datetime,
    impressions: int,
    slots: int,
    offers: int | None = None,
    seen: bool = True,
) -> None:
    """One hour of booking `b` as the rollups hold it: `slots` eligible slots, `offers` offers
    (default: one per impression) of which `impressions` were seen (none when `seen` is False:
    the counting failed)."""
    session.add(
        EligibleSlotRollup(hour_start=at, booking_id=b.id, placement_id=b.placement_id,
                           slots=slots)
    )  # fmt: skip
    session.add(
        DeliveryRollup(
            hour_start=at, booking_id=b.id, placement_id=b.placement_id, age_band="30-39",
            household="couple", district="tsuruga",
            offers=impressions if offers is None else offers,
            impressions=impressions if seen else 0, invalid_impressions=0, clicks=0,
            invalid_clicks=0, unit_price_yen=b.unit_price_yen,
        )
    )  # fmt: skip
