"""The one delivery measure (`measure.py`) of a booking, read from the hourly rollups.

Every reader of a booking's delivery (make-goods, the shop's report and booking page, the
finance dashboard) goes through `measure_booking` / `measure_by_day`, so they cannot disagree.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.calendar import start_of_tokyo_day, tokyo_date
from marketplace.delivery.measure import DeliveryMeasure, view_rate
from marketplace.delivery.models import DeliveryRollup, EligibleSlotRollup
from marketplace.models import Booking, Placement


def booking_period(booking: Booking) -> tuple[datetime, datetime]:
    """The booking's bought hours: from its first Tokyo Monday to the end of its last week."""
    return (
        start_of_tokyo_day(booking.first_week),
        start_of_tokyo_day(booking.last_week + timedelta(weeks=1)),
    )


def share_bought(session: Session, booking: Booking) -> Fraction:
    shares_per_week = session.scalar(
        select(Placement.shares_per_week).where(Placement.id == booking.placement_id)
    )
    return Fraction(booking.shares, int(shares_per_week or booking.shares))


def placement_view_rate(
    session: Session, placement_id: int, start: datetime, end: datetime
) -> Fraction:
    """Valid impressions ÷ offers of every booking on the placement in [start, end)."""
    impressions, offers = session.execute(
        select(
            func.coalesce(func.sum(DeliveryRollup.impressions), 0),
            func.coalesce(func.sum(DeliveryRollup.offers), 0),
        ).where(
            DeliveryRollup.placement_id == placement_id,
            DeliveryRollup.hour_start >= start,
            DeliveryRollup.hour_start < end,
        )
    ).one()
    return view_rate(int(impressions or 0), int(offers or 0))


def eligible_slots_by_hour(
    session: Session, booking_id: int, start: datetime, end: datetime
) -> dict[datetime, int]:
    """The booking's eligible slots in each hour of [start, end) that has any."""
    slots: dict[datetime, int] = defaultdict(int)
    for hour, count in session.execute(
        select(EligibleSlotRollup.hour_start, EligibleSlotRollup.slots).where(
            EligibleSlotRollup.booking_id == booking_id,
            EligibleSlotRollup.hour_start >= start,
            EligibleSlotRollup.hour_start < end,
        )
    ).tuples():
        slots[hour] += int(count)
    return dict(slots)


def measure_by_day(
    session: Session, booking: Booking, until: datetime | None = None
) -> dict[date, DeliveryMeasure]:
    """The measure for each Tokyo day of the booking that has slots or impressions.

    The view rate is the placement's over the whole period so far, so the days add up to
    `measure_booking` exactly.
    """
    return measures_by_day(session, [booking], until)[booking.id]


# Bookings per IN (...) list: well under SQLite's and PostgreSQL's limits on bound parameters.
CHUNK = 500


def _period(booking: Booking, until: datetime | None) -> tuple[datetime, datetime]:
    start, end = booking_period(booking)
    return start, end if until is None else min(end, until)


def _placement_hours(
    session: Session, placement_ids: set[int], start: datetime, end: datetime
) -> dict[int, tuple[list[datetime], list[int], list[int]]]:
    """Per placement: its hours in order with running totals of valid impressions and offers
    (totals before each hour), so any span's view rate is two subtractions."""
    rows = session.execute(
        select(
            DeliveryRollup.placement_id,
            DeliveryRollup.hour_start,
            func.sum(DeliveryRollup.impressions),
            func.sum(DeliveryRollup.offers),
        )
        .where(
            DeliveryRollup.placement_id.in_(sorted(placement_ids)),
            DeliveryRollup.hour_start >= start,
            DeliveryRollup.hour_start < end,
        )
        .group_by(DeliveryRollup.placement_id, DeliveryRollup.hour_start)
        .order_by(DeliveryRollup.placement_id, DeliveryRollup.hour_start)
    ).tuples()
    found: dict[int, tuple[list[datetime], list[int], list[int]]] = {}
    for placement_id, hour, impressions, offers in rows:
        hours, seen, offered = found.setdefault(placement_id, ([], [0], [0]))
        hours.append(hour)
        seen.append(seen[-1] + int(impressions or 0))
        offered.append(offered[-1] + int(offers or 0))
    return found


def _span_view_rate(
    hours: tuple[list[datetime], list[int], list[int]] | None, start: datetime, end: datetime
) -> Fraction:
    if hours is None:
        return view_rate(0, 0)
    times, seen, offered = hours
    first, last = bisect_left(times, start), bisect_left(times, end)
    return view_rate(seen[last] - seen[first], offered[last] - offered[first])


def measures_by_day(
    session: Session, bookings: Sequence[Booking], until: datetime | None = None
) -> dict[int, dict[date, DeliveryMeasure]]:
    """`measure_by_day` of many bookings at once (a few grouped queries, not a few each)."""
    if not bookings:
        return {}
    periods = {b.id: _period(b, until) for b in bookings}
    low = min(start for start, _ in periods.values())
    high = max(end for _, end in periods.values())
    placement_ids = {b.placement_id for b in bookings}
    shares_per_week = dict(
        session.execute(
            select(Placement.id, Placement.shares_per_week).where(
                Placement.id.in_(sorted(placement_ids))
            )
        )
        .tuples()
        .all()
    )
    placement_hours = _placement_hours(session, placement_ids, low, high)
    slots: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    impressions: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    ids = sorted(periods)
    for chunk in (ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)):
        for booking_id, hour, count in session.execute(
            select(
                EligibleSlotRollup.booking_id,
                EligibleSlotRollup.hour_start,
                EligibleSlotRollup.slots,
            ).where(
                EligibleSlotRollup.booking_id.in_(chunk),
                EligibleSlotRollup.hour_start >= low,
                EligibleSlotRollup.hour_start < high,
            )
        ).tuples():
            start, end = periods[booking_id]
            if start <= hour < end:
                slots[booking_id][tokyo_date(hour)] += int(count)
        for booking_id, hour, count in session.execute(
            select(
                DeliveryRollup.booking_id,
                DeliveryRollup.hour_start,
                func.sum(DeliveryRollup.impressions),
            )
            .where(
                DeliveryRollup.booking_id.in_(chunk),
                DeliveryRollup.hour_start >= low,
                DeliveryRollup.hour_start < high,
            )
            .group_by(DeliveryRollup.booking_id, DeliveryRollup.hour_start)
        ).tuples():
            start, end = periods[booking_id]
            if start <= hour < end:
                impressions[booking_id][tokyo_date(hour)] += int(count or 0)
    result: dict[int, dict[date, DeliveryMeasure]] = {}
    for booking in bookings:
        start, end = periods[booking.id]
        bought = Fraction(
            booking.shares, int(shares_per_week.get(booking.placement_id) or booking.shares)
        )
        rate = _span_view_rate(placement_hours.get(booking.placement_id), start, end)
        own_slots, own_impressions = slots.get(booking.id, {}), impressions.get(booking.id, {})
        result[booking.id] = {
            day: DeliveryMeasure(bought, own_slots.get(day, 0), own_impressions.get(day, 0), rate)
            for day in sorted(set(own_slots) | set(own_impressions))
        }
    return result


def measure_booking(
    session: Session, booking: Booking, until: datetime | None = None
) -> DeliveryMeasure:
    """The booking's delivery over its bought hours (up to `until`, when given)."""
    days = measure_by_day(session, booking, until)
    if not days:
        return DeliveryMeasure(share_bought(session, booking), 0, 0)
    spans = iter(days.values())
    total = next(spans)
    for day in spans:
        total = total + day
    return total
