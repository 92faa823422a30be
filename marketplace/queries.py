"""Read-only views the pages and the API show: dashboards, calendars, lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import inventory
from marketplace.booking_requests import first_bookable_week
from marketplace.calendar import tokyo_date
from marketplace.cancellation import CancellationTerms, cancellation_terms
from marketplace.creatives import shop_creatives, versions
from marketplace.errors import NotFound
from marketplace.lifecycle import SOLD_STATUSES, BookingStatus
from marketplace.models import Booking, Creative, CreativeVersion, Placement, Shop
from marketplace.placements import list_placements


@dataclass(frozen=True)
class CreativeSummary:
    creative: Creative
    latest: CreativeVersion
    approved: CreativeVersion | None


@dataclass(frozen=True)
class Dashboard:
    shop: Shop
    bookings: list[Booking]
    creatives: list[CreativeSummary]
    placements: dict[int, Placement]


@dataclass(frozen=True)
class PlacementCalendar:
    placement: Placement
    weeks: list[inventory.WeekAvailability]


def creative_summaries(session: Session, shop_id: int) -> list[CreativeSummary]:
    summaries = []
    for creative in shop_creatives(session, shop_id):
        history = versions(session, creative.id)
        approved = next((v for v in history if v.status.value == "approved"), None)
        summaries.append(CreativeSummary(creative, history[0], approved))
    return summaries


def shop_bookings(session: Session, shop_id: int) -> list[Booking]:
    return list(
        session.scalars(
            select(Booking).where(Booking.shop_id == shop_id).order_by(Booking.id.desc())
        )
    )


def dashboard(session: Session, shop_id: int) -> Dashboard:
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise NotFound("お店が見つかりません")
    placements = {p.id: p for p in list_placements(session)}
    return Dashboard(
        shop, shop_bookings(session, shop_id), creative_summaries(session, shop_id), placements
    )


def calendars(
    session: Session, now: datetime, weeks: int = 8, start: date | None = None
) -> list[PlacementCalendar]:
    """Sold, held and free shares per active placement for the coming weeks."""
    first = start or first_bookable_week(tokyo_date(now))
    week_list = inventory.week_range(first, weeks)
    return [
        PlacementCalendar(placement, inventory.availability(session, placement, week_list, now))
        for placement in list_placements(session, active_only=True)
    ]


def effective_status(booking: Booking, now: datetime) -> BookingStatus:
    """A hold past its expiry is shown as expired even before the sweeper marks it."""
    if (
        booking.status is BookingStatus.HELD
        and booking.hold_expires_at is not None
        and booking.hold_expires_at <= now
    ):
        return BookingStatus.EXPIRED
    return booking.status


def cancellation_preview(booking: Booking, now: datetime) -> CancellationTerms | None:
    if booking.status in (BookingStatus.CANCELLED, BookingStatus.COMPLETED, BookingStatus.EXPIRED):
        return None
    return cancellation_terms(
        weeks=tuple(inventory.week_range(booking.first_week, booking.weeks)),
        total_yen=booking.total_yen,
        paid=booking.status in SOLD_STATUSES,
        today=tokyo_date(now),
    )


def all_bookings(session: Session, limit: int = 200) -> list[tuple[Booking, Shop, Placement]]:
    rows = session.execute(
        select(Booking, Shop, Placement)
        .join(Shop, Shop.id == Booking.shop_id)
        .join(Placement, Placement.id == Booking.placement_id)
        .order_by(Booking.first_week.desc(), Booking.id.desc())
        .limit(limit)
    ).all()
    return [(row[0], row[1], row[2]) for row in rows]


def all_shops(session: Session) -> list[Shop]:
    return list(session.scalars(select(Shop).order_by(Shop.status, Shop.id.desc())))


def upcoming_mondays(today: date, count: int = 26) -> list[date]:
    first = first_bookable_week(today)
    return [first + timedelta(weeks=n) for n in range(count)]
