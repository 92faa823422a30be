"""Delivery on the finance dashboard: per placement and month, on the one delivery measure.

Each booking is measured day by day with `marketplace.delivery.measured.measures_by_day` (the
measure the shop's booking page, report and make-goods read), and the days' measures are
added up per placement and Tokyo month: impressions owed and valid impressions delivered, the
shares as slot-weighted averages over the bookings (owed ÷ seen eligible slots, delivered ÷
seen eligible slots), delivered ÷ owed, and the make-goods credited in the month (credit notes
issued then, tax included, from `billing.make_goods.make_good_credits`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.make_goods import make_good_credits
from marketplace.calendar import fiscal_year_bounds
from marketplace.delivery.measured import measures_by_day
from marketplace.lifecycle import SOLD_STATUSES, BookingStatus
from marketplace.models import Booking, Placement

DELIVERY_COLUMNS = [
    "placement",
    "month",
    "owed",
    "delivered",
    "share_bought",
    "share_delivered",
    "delivery_rate",
    "make_good_yen",
]
MEASURED_STATUSES = SOLD_STATUSES | {BookingStatus.COMPLETED}


@dataclass
class _Month:
    owed: Fraction = Fraction(0)
    delivered: int = 0
    seen_slots: Fraction = Fraction(0)
    make_good_yen: int = 0

    def row(self, placement: str, month: date) -> list[object]:
        seen = self.seen_slots
        return [
            placement,
            f"{month:%Y-%m}",
            math.floor(self.owed),
            self.delivered,
            float(self.owed / seen) if seen else None,
            float(self.delivered / seen) if seen else None,
            float(self.delivered / self.owed) if self.owed else None,
            self.make_good_yen,
        ]


def delivery_by_placement_month(session: Session, year: int, now: datetime) -> pd.DataFrame:
    """One row per placement and Tokyo month of the fiscal year with delivery or make-goods."""
    first_day, last_day = fiscal_year_bounds(year)
    names = dict(session.execute(select(Placement.id, Placement.name)).tuples().all())
    months: dict[tuple[int, date], _Month] = defaultdict(_Month)
    bookings = session.scalars(
        select(Booking)
        .where(
            Booking.status.in_(MEASURED_STATUSES),
            Booking.last_week >= first_day - timedelta(days=6),
            Booking.first_week <= last_day,
        )
        .order_by(Booking.id)
    ).all()
    placement_of = {booking.id: booking.placement_id for booking in bookings}
    for booking_id, days in measures_by_day(session, bookings, until=now).items():
        for day, measure in days.items():
            if not first_day <= day <= last_day:
                continue
            month = months[(placement_of[booking_id], day.replace(day=1))]
            month.owed += measure.owed
            month.delivered += measure.impressions
            month.seen_slots += measure.seen_slots
    for placement_id, issued, yen in make_good_credits(session, first_day, last_day):
        months[(placement_id, issued.replace(day=1))].make_good_yen += yen
    rows = [
        months[key].row(names.get(key[0], str(key[0])), key[1])
        for key in sorted(months, key=lambda k: (names.get(k[0], ""), k[1]))
    ]
    return pd.DataFrame(rows, columns=DELIVERY_COLUMNS)
