"""A small booked and delivered world for analytics tests, built through the real services."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from billing.bookings import accept_invoice
from billing.config import BillingConfig
from marketplace.accounts.registration_number import make_invoice_registration_number
from marketplace.bookings.requests import BookingRequest
from marketplace.bookings.services import place_hold
from marketplace.calendar import TOKYO
from marketplace.delivery.models import AdClick, AdImpression, AdOffer, EligibleSlot
from marketplace.delivery.rollups import roll_up_hour
from marketplace.inventory.targeting import Targeting
from marketplace.models import Booking, Shop
from marketplace.vocab import ShopStatus
from portal_plugin.demo.inventory import seed_inventory

# The city as issuer; the finance and transparency tests seed their history with it too.
CONFIG = BillingConfig(
    issuer_name="会津若松市",
    issuer_registration_number=make_invoice_registration_number("000020072028"),
    bank_account="東邦銀行 会津支店 普通 1234567 アイヅワカマツシ",
)
_ids = itertools.count(1)


def shop(session: Session, name: str = "鶴ヶ城そば") -> Shop:
    n = next(_ids)
    row = Shop(
        business_name=f"{name}{n}",
        business_name_kana=f"ツルガジョウソバ{n}",
        category="restaurant",
        district="tsuruga",
        contact_name="会津 花子",
        contact_email=f"shop{n}@example.jp",
        status=ShopStatus.APPROVED,
    )
    session.add(row)
    session.flush()
    return row


def book(
    session: Session, owner: Shop, first_week: date, weeks: int = 1, shares: int = 1
) -> Booking:
    placement = seed_inventory(session)[0]
    now = datetime.combine(first_week - timedelta(days=10), time(10), tzinfo=TOKYO)
    request = BookingRequest(placement.id, first_week, weeks, shares, Targeting())
    hold = place_hold(session, owner.id, request, f"t-{next(_ids)}", now=now)
    accept_invoice(session, CONFIG, hold.id, shop_id=owner.id, now=now)
    return hold


Viewer = tuple[str | None, str, str, str]  # resident key, age band, household, district


def deliver(
    session: Session,
    booking: Booking,
    viewers: Sequence[Viewer],
    at: datetime,
    clicks_every: int = 0,
    invalid_every: int = 0,
    slots: int | None = None,
) -> None:
    """One offer and impression per viewer at `at` (a click every n-th), and `slots` slots the
    booking was eligible for (by default one per viewer: the booking won every slot it could),
    then roll the hour up."""
    session.add(
        EligibleSlot(
            batch_id=f"b{next(_ids):031d}",
            booking_id=booking.id,
            hour_start=at.astimezone(UTC).replace(minute=0, second=0, microsecond=0),
            worker_id="test",
            slots=len(viewers) if slots is None else slots,
        )
    )
    for index, (key, age, household, district) in enumerate(viewers, start=1):
        offer_id = f"o{next(_ids):031d}"
        session.add(
            AdOffer(
                id=offer_id,
                booking_id=booking.id,
                placement_id=booking.placement_id,
                creative_version_id=1,
                shop_id=booking.shop_id,
                resident_key=key,
                age_band=age,
                household=household,
                district=district,
                personalized=key is not None,
                position=3,
                worker_id="test",
                offered_at=at,
            )
        )
        valid = not (invalid_every and index % invalid_every == 0)
        session.add(
            AdImpression(
                offer_id=offer_id,
                booking_id=booking.id,
                occurred_at=at,
                valid=valid,
                invalid_reason=None if valid else "bot",
            )
        )
        if clicks_every and index % clicks_every == 0:
            session.add(
                AdClick(offer_id=offer_id, booking_id=booking.id, occurred_at=at, valid=True)
            )
    session.flush()
    roll_up_hour(session, at)
