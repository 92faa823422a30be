"""An oversold week for the forecast-vs-sold page: two narrow bookings of two shares and a
fifth share sold to the same residents (as if staff lowered the placement's shares)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from marketplace.bookings.requests import BookingRequest
from marketplace.bookings.services import place_hold
from marketplace.inventory.targeting import parse_targeting
from marketplace.lifecycle import BookingStatus
from marketplace.models import Booking, Placement, Shop

OLD_TSURUGA = {"age_bands": ["70+"], "districts": ["tsuruga"]}


def oversold_week(session: Session, placement: Placement, week: date, shops: list[Shop]) -> int:
    """Three scheduled bookings of `week` on `placement` (one per shop); returns the extra one's
    id. The placement needs traffic of residents over 70 in tsuruga."""
    sold = [
        place_hold(session, owner.id,
                   BookingRequest(placement.id, week, 1, 2, parse_targeting(OLD_TSURUGA)),
                   f"oversold-{week}-{owner.id}")
        for owner in shops[:2]
    ]  # fmt: skip
    extra = Booking(**{
        column.key: getattr(sold[1], column.key)
        for column in Booking.__table__.columns
        if column.key not in {"id", "created_at", "updated_at"}
    })  # fmt: skip
    extra.shares, extra.shop_id = 1, shops[2].id
    extra.idempotency_key = f"oversold-{week}-extra"
    session.add(extra)
    for booking in (*sold, extra):
        booking.status = BookingStatus.SCHEDULED
    session.flush()
    return extra.id
