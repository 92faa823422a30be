"""Loading one booking's shop report from the delivery rollups and the invoices.

All counting is SQL GROUP BY over `delivery_rollups` (valid impressions and clicks only), the
same rows billing's make-goods measure, and the billed amount is the booking's invoices minus
its credit notes. So a shop's report and its invoices cannot disagree.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics import audience
from analytics.errors import UnknownBooking
from analytics.privacy import BREAKDOWN_COLUMNS, DIMENSIONS
from analytics.shop_report import BookingFacts, ShopReport, build_shop_report
from billing.models import DocumentKind, Invoice
from marketplace.calendar import TOKYO, start_of_tokyo_day
from marketplace.delivery.models import DeliveryRollup
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
        raise UnknownBooking(f"booking: 予約 {booking_id} は見つかりません", "booking")
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


def _hourly(session: Session, *conditions: object) -> pd.DataFrame:
    rows = session.execute(
        select(
            DeliveryRollup.hour_start,
            func.sum(DeliveryRollup.impressions),
            func.sum(DeliveryRollup.clicks),
        )
        .where(*conditions)  # type: ignore[arg-type]
        .group_by(DeliveryRollup.hour_start)
    ).tuples()
    return pd.DataFrame(list(rows), columns=["hour_start", "impressions", "clicks"])


def _by_day(hourly: pd.DataFrame) -> pd.DataFrame:
    if hourly.empty:
        return pd.DataFrame(columns=["day", "impressions", "clicks"])
    days = [moment.astimezone(TOKYO).date() for moment in hourly["hour_start"]]
    frame = hourly.assign(day=days).groupby("day", as_index=False)[["impressions", "clicks"]].sum()
    return frame


def _window(facts: BookingFacts) -> tuple[object, object]:
    start = start_of_tokyo_day(facts.first_day)
    end = start_of_tokyo_day(facts.last_day + timedelta(days=1))
    return DeliveryRollup.hour_start >= start, DeliveryRollup.hour_start < end


def _breakdown(session: Session, *conditions: object) -> pd.DataFrame:
    frames = []
    for dimension in DIMENSIONS:
        column = getattr(DeliveryRollup, dimension)
        rows = session.execute(
            select(column, func.sum(DeliveryRollup.impressions), func.sum(DeliveryRollup.clicks))
            .where(*conditions)  # type: ignore[arg-type]
            .group_by(column)
        ).tuples()
        frame = pd.DataFrame(list(rows), columns=["value", "impressions", "clicks"])
        frame.insert(0, "dimension", dimension)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


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
    start, end = _window(facts)
    placement_id = session.scalar(select(Booking.placement_id).where(Booking.id == booking_id))
    own = DeliveryRollup.booking_id == booking_id
    same_placement = DeliveryRollup.placement_id == placement_id
    daily = _by_day(_hourly(session, own))
    placement_daily = _by_day(_hourly(session, same_placement, start, end)).rename(
        columns={"impressions": "placement_impressions"}
    )
    if daily.empty:
        joined = pd.DataFrame(columns=["day", "impressions", "clicks", "placement_impressions"])
    else:
        joined = daily.merge(
            placement_daily[["day", "placement_impressions"]], on="day", how="left"
        )
        joined["placement_impressions"] = (
            pd.to_numeric(joined["placement_impressions"], errors="coerce")
            .fillna(0)
            .astype("int64")
        )
    reach = audience.reach(session, booking_id)
    booking_cells = _with_residents(_breakdown(session, own), reach)
    neighbours = session.scalars(
        select(Booking.id).where(
            Booking.placement_id == placement_id,
            Booking.first_week <= facts.last_day,
            Booking.last_week >= facts.first_day - timedelta(days=6),
        )
    ).all()
    placement_cells = _with_residents(
        _breakdown(session, same_placement, start, end),
        audience.placement_reach(session, neighbours),
    )
    return build_shop_report(facts, joined, booking_cells, placement_cells)


def shop_bookings(session: Session, shop_id: int) -> list[tuple[int, str, date, date]]:
    rows = session.execute(
        select(Booking.id, Placement.name, Booking.first_week, Booking.last_week)
        .join(Placement, Placement.id == Booking.placement_id)
        .where(Booking.shop_id == shop_id, Booking.confirmed_at.is_not(None))
        .order_by(Booking.first_week.desc())
    ).tuples()
    return [(int(i), str(n), f, last + timedelta(days=6)) for i, n, f, last in rows]
