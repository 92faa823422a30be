"""Read-only views the pages and the API show: dashboards, calendars, lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.bookings.cancellation import CancellationTerms, cancellation_terms
from marketplace.bookings.requests import first_bookable_week
from marketplace.calendar import tokyo_date
from marketplace.creatives.services import shop_creatives, versions
from marketplace.delivery.layout import HostLayout
from marketplace.errors import NotFound
from marketplace.inventory import stock
from marketplace.inventory.placements import list_placements, sellable_placements
from marketplace.lifecycle import SOLD_STATUSES, BookingStatus
from marketplace.models import Booking, Creative, CreativeVersion, Placement, Shop


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
    weeks: list[stock.WeekAvailability]


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
    session: Session,
    now: datetime,
    weeks: int = 8,
    start: date | None = None,
    host: HostLayout | None = None,
) -> list[PlacementCalendar]:
    """Sold, held and free shares per active placement for the coming weeks (with `host`, only
    the placements its pages show: what shops may book)."""
    first = start or first_bookable_week(tokyo_date(now))
    week_list = stock.week_range(first, weeks)
    placements = (
        list_placements(session, active_only=True)
        if host is None
        else sellable_placements(session, host)
    )
    return [
        PlacementCalendar(placement, stock.availability(session, placement, week_list, now))
        for placement in placements
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
        weeks=tuple(stock.week_range(booking.first_week, booking.weeks)),
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


@dataclass(frozen=True)
class WeekChoice:
    """One Monday the booking form offers, with each placement's free shares that week."""

    week_start: date
    free: dict[int, int]


@dataclass(frozen=True)
class BookingOpening:
    """Where the booking form opens: a placement and its first week with a free share."""

    placement_id: int | None
    first_week: date | None
    weeks: list[WeekChoice]


def week_choices(grid: list[PlacementCalendar]) -> list[WeekChoice]:
    if not grid:
        return []
    starts = [week.week_start for week in grid[0].weeks]
    free = {cal.placement.id: {w.week_start: w.free for w in cal.weeks} for cal in grid}
    return [
        WeekChoice(start, {pid: weeks.get(start, 0) for pid, weeks in free.items()})
        for start in starts
    ]


def booking_opening(grid: list[PlacementCalendar], placement_id: int | None) -> BookingOpening:
    """The placement asked for (else the first one with a free share in the coming weeks) and
    its first week with a free share, so the form never opens on a sold-out week."""
    weeks = week_choices(grid)
    ids = [cal.placement.id for cal in grid]
    if placement_id not in ids:
        placement_id = next(
            (pid for pid in ids if any(week.free[pid] > 0 for week in weeks)),
            ids[0] if ids else None,
        )
    first_week = next(
        (week.week_start for week in weeks if placement_id and week.free[placement_id] > 0), None
    )
    return BookingOpening(placement_id, first_week, weeks)


def booking_opening_for(
    session: Session, now: datetime, host: HostLayout, placement_id: int | None, weeks: int = 26
) -> BookingOpening:
    return booking_opening(calendars(session, now, weeks, host=host), placement_id)
