"""Loading one booking's shop report from the delivery rollups and the invoices.

All counting is SQL GROUP BY over `delivery_rollups` (valid impressions and clicks only), the
share delivered is the one delivery measure read by `measure_by_day`, exactly as billing's
make-goods read it, and the billed amount is the booking's invoices minus its credit notes. So
a shop's report and its invoices cannot disagree.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import distinct, func, select, tuple_
from sqlalchemy.orm import Session

from analytics import audience
from analytics.errors import UnknownBooking
from analytics.privacy import BREAKDOWN_COLUMNS, DIMENSIONS
from analytics.shop_report import BookingFacts, ShopReport, build_shop_report
from billing.models import DocumentKind, Invoice
from marketplace.calendar import start_of_tokyo_day
from marketplace.delivery.measure import ONE
from marketplace.delivery.measured import measure_by_day
from marketplace.delivery.models import DeliveryRollup
from marketplace.delivery.rollups import LATE_HOURS
from marketplace.models import Booking, Placement, Shop


def booking_facts(session: Session, booking_id: int, shop_id: int | None = None) -> BookingFacts:
    row = session.execute(
        select(Booking, Shop.business_name, Placement.name, Placement.shares_per_week)
        .join(Shop, Shop.id == Booking.shop_id)
        .join(Placement, Placement.id == Booking.placement_id)
        .where(Booking.id == booking_id)
    ).first()
    # A shop asking for another shop's booking gets the same answer as for a missing one.
    if row is None or (shop_id is not None and row[0].shop_id != shop_id):
        raise UnknownBooking(
            "{field}: 予約 {booking_id} は見つかりません", field="booking", booking_id=booking_id
        )
    booking, shop_name, placement_name, shares_per_week = row
    return BookingFacts(
        booking_id=booking.id,
        shop_id=booking.shop_id,
        shop_name=shop_name,
        placement_name=placement_name,
        first_day=booking.first_week,
        last_day=booking.last_week + timedelta(days=6),
        shares=booking.shares,
        shares_per_week=shares_per_week,
        billed_yen=billed_yen(session, booking.id),
    )


def billed_yen(session: Session, booking_id: int) -> int:
    """Invoiced minus credited for the booking, tax included."""
    invoiced = session.scalar(
        select(func.coalesce(func.sum(Invoice.total), 0)).where(
            Invoice.booking_id == booking_id, Invoice.kind == DocumentKind.INVOICE
        )
    )
    credited = session.scalar(
        select(func.coalesce(func.sum(Invoice.total), 0)).where(
            Invoice.booking_id == booking_id, Invoice.kind == DocumentKind.CREDIT_NOTE
        )
    )
    return int(invoiced or 0) - int(credited or 0)


def _tokyo_day(session: Session) -> Any:
    """The Tokyo calendar day of a rollup hour, computed by the database (Tokyo has no DST)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Tokyo", DeliveryRollup.hour_start))
    return func.date(DeliveryRollup.hour_start, "+9 hours")


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _aggregate(session: Session, *conditions: object) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per Tokyo day, and per cell of each audience dimension: impressions and clicks.

    PostgreSQL does it in one scan with GROUPING SETS; SQLite runs one query per grouping.
    """
    day = _tokyo_day(session).label("day")
    groupings = [day, *(getattr(DeliveryRollup, d) for d in DIMENSIONS)]
    sums = (func.sum(DeliveryRollup.impressions), func.sum(DeliveryRollup.clicks))
    rows: list[tuple[Any, ...]] = []
    if session.get_bind().dialect.name == "postgresql":
        query = (
            select(*groupings, func.grouping(*groupings), *sums)
            .where(*conditions)  # type: ignore[arg-type]
            .group_by(func.grouping_sets(*[tuple_(g) for g in groupings]))
        )
        rows = [tuple(row) for row in session.execute(query).tuples()]
    else:
        width = len(groupings)
        for position, column in enumerate(groupings):
            mask = (1 << width) - 1 - (1 << (width - 1 - position))
            for value, impressions, clicks in session.execute(
                select(column, *sums).where(*conditions).group_by(column)  # type: ignore[arg-type]
            ).tuples():
                values: list[Any] = [None] * width
                values[position] = value
                rows.append((*values, mask, impressions, clicks))
    daily: list[tuple[date, int, int]] = []
    cells: list[tuple[str, str, int, int]] = []
    width = len(groupings)
    for row in rows:
        mask, impressions, clicks = row[width], int(row[width + 1] or 0), int(row[width + 2] or 0)
        # grouping() has a 0 bit for the column this row is grouped by.
        position = next(i for i in range(width) if not mask & (1 << (width - 1 - i)))
        if position == 0:
            daily.append((_as_date(row[0]), impressions, clicks))
        else:
            cells.append((DIMENSIONS[position - 1], str(row[position]), impressions, clicks))
    return (
        pd.DataFrame(daily, columns=["day", "impressions", "clicks"]),
        pd.DataFrame(cells, columns=["dimension", "value", "impressions", "clicks"]),
    )


def _bounds(facts: BookingFacts) -> tuple[datetime, datetime]:
    return start_of_tokyo_day(facts.first_day), start_of_tokyo_day(
        facts.last_day + timedelta(days=1)
    )


def _with_residents(counts: pd.DataFrame, reach: pd.DataFrame) -> pd.DataFrame:
    if counts.empty:
        return pd.DataFrame(columns=BREAKDOWN_COLUMNS)
    merged = counts.merge(reach, on=["dimension", "value"], how="left")
    # A cell with impressions but no known residents counts as 0 known residents: it is then
    # suppressed unless it is genuinely empty, which is the safe side.
    merged["residents"] = (
        pd.to_numeric(merged["residents"], errors="coerce").fillna(0).astype("int64")
    )
    merged = merged[(merged["impressions"] > 0) | (merged["residents"] > 0)]
    return merged[BREAKDOWN_COLUMNS].reset_index(drop=True)


def load_shop_report(session: Session, booking_id: int, shop_id: int | None = None) -> ShopReport:
    facts = booking_facts(session, booking_id, shop_id)
    first, end = _bounds(facts)
    start, stop = DeliveryRollup.hour_start >= first, DeliveryRollup.hour_start < end
    booking = session.get_one(Booking, booking_id)
    placement_id = booking.placement_id
    own = DeliveryRollup.booking_id == booking_id
    same_placement = DeliveryRollup.placement_id == placement_id
    own_daily, own_cells = _aggregate(session, own)
    _, placement_counts = _aggregate(session, same_placement, start, stop)
    # Per day: the one delivery measure (eligible slots and valid impressions) and the clicks.
    measures = measure_by_day(session, booking)
    clicks = {day: int(n) for day, n in zip(own_daily["day"], own_daily["clicks"], strict=True)}
    joined = pd.DataFrame(
        [(day, m.impressions, clicks.get(day, 0), m.eligible_slots) for day, m in measures.items()],
        columns=["day", "impressions", "clicks", "eligible_slots"],
    )
    for column in ("impressions", "clicks", "eligible_slots"):
        joined[column] = joined[column].astype("int64")
    rate = next(iter(measures.values())).view_rate if measures else ONE
    # After the last day (and delivery's late re-rolls) the booking's reach cannot change.
    settled = end + timedelta(hours=LATE_HOURS + 1)
    reach = audience.reach(session, booking_id, final_after=settled)
    booking_cells = _with_residents(own_cells, reach)
    neighbours = session.scalars(
        select(Booking.id).where(
            Booking.placement_id == placement_id,
            Booking.first_week <= facts.last_day,
            Booking.last_week >= facts.first_day - timedelta(days=6),
        )
    ).all()
    placement_cells = _with_residents(
        placement_counts,
        audience.placement_reach(session, neighbours),
    )
    others = session.scalar(
        select(func.count(distinct(Booking.shop_id))).where(
            Booking.id.in_(neighbours),
            Booking.shop_id != facts.shop_id,
            Booking.confirmed_at.is_not(None),
        )
    )
    return build_shop_report(
        facts, joined, booking_cells, placement_cells, rate, other_shops=int(others or 0)
    )


def shop_bookings(session: Session, shop_id: int) -> list[tuple[int, str, date, date]]:
    rows = session.execute(
        select(Booking.id, Placement.name, Booking.first_week, Booking.last_week)
        .join(Placement, Placement.id == Booking.placement_id)
        .where(Booking.shop_id == shop_id, Booking.confirmed_at.is_not(None))
        .order_by(Booking.first_week.desc())
    ).tuples()
    return [(int(i), str(n), f, last + timedelta(days=6)) for i, n, f, last in rows]
