"""Hourly rollups per booking, placement and audience segment, from the raw events; and each
booking's eligible slots per hour (the one delivery measure's denominator, `measure.py`).

Rolling an hour up is idempotent: counts are recomputed from the raw offers, impressions and
clicks, so late events (a replayed spool) are picked up by rolling the hour again. The unit
price is written when a row is first created and never changed afterwards, so a later price
change cannot rewrite what an hour was worth.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from marketplace.delivery.events import hour_start
from marketplace.delivery.models import (
    AdClick,
    AdImpression,
    AdOffer,
    DeliveryRollup,
    EligibleSlot,
    EligibleSlotRollup,
)
from marketplace.models import Booking

Key = tuple[int, int, str, str, str]  # booking, placement, age band, household, district
COUNTS = ("offers", "impressions", "invalid_impressions", "clicks", "invalid_clicks")
LATE_HOURS = 3
KEY_COLUMNS = ("hour_start", "booking_id", "placement_id", "age_band", "household", "district")


def roll_up_hour(session: Session, hour: datetime) -> int:
    """Recompute the rollup rows of the hour starting at `hour`; returns the rows touched."""
    start = hour_start(hour)
    end = start + timedelta(hours=1)
    return _roll_up_eligible(session, start, end) + _roll_up_events(session, start, end)


def _roll_up_eligible(session: Session, start: datetime, end: datetime) -> int:
    """Each booking's eligible slots in [start, end), summed over workers and batches."""
    rows = session.execute(
        select(EligibleSlot.booking_id, Booking.placement_id, func.sum(EligibleSlot.slots))
        .join(Booking, Booking.id == EligibleSlot.booking_id)
        .where(EligibleSlot.hour_start >= start, EligibleSlot.hour_start < end)
        .group_by(EligibleSlot.booking_id, Booking.placement_id)
    ).tuples()
    upserts = [
        {"hour_start": start, "booking_id": int(b), "placement_id": int(p), "slots": int(n)}
        for b, p, n in rows
    ]
    if upserts:
        _upsert(session, EligibleSlotRollup, ("booking_id", "hour_start"), ("slots",), upserts)
    return len(upserts)


def _roll_up_events(session: Session, start: datetime, end: datetime) -> int:
    totals: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    segment = (
        AdOffer.booking_id,
        AdOffer.placement_id,
        AdOffer.age_band,
        AdOffer.household,
        AdOffer.district,
    )
    for *raw, n in session.execute(
        select(*segment, func.count())
        .where(AdOffer.offered_at >= start, AdOffer.offered_at < end)
        .group_by(*segment)
    ).tuples():
        totals[_key(raw)]["offers"] = int(n)
    for model, valid_name, invalid_name in (
        (AdImpression, "impressions", "invalid_impressions"),
        (AdClick, "clicks", "invalid_clicks"),
    ):
        rows = session.execute(
            select(*segment, model.valid, func.count())
            .join(AdOffer, AdOffer.id == model.offer_id)
            .where(and_(model.occurred_at >= start, model.occurred_at < end))
            .group_by(*segment, model.valid)
        ).tuples()
        for *raw, valid, n in rows:
            totals[_key(raw)][valid_name if valid else invalid_name] += int(n)
    if not totals:
        return 0
    prices = dict(
        session.execute(
            select(Booking.id, Booking.unit_price_yen).where(
                Booking.id.in_({key[0] for key in totals})
            )
        )
        .tuples()
        .all()
    )
    upserts = [
        {
            "hour_start": start,
            **dict(zip(KEY_COLUMNS[1:], key, strict=True)),
            **counts,
            "unit_price_yen": int(prices.get(key[0], 0)),
        }
        for key, counts in totals.items()
    ]
    _upsert(session, DeliveryRollup, KEY_COLUMNS, COUNTS, upserts)
    return len(totals)


def _upsert(
    session: Session,
    model: type[DeliveryRollup] | type[EligibleSlotRollup],
    keys: Sequence[str],
    counts: Sequence[str],
    rows: list[dict[str, Any]],
) -> None:
    """INSERT … ON CONFLICT (the hour and segment) DO UPDATE the counts, on both backends.

    Several workers may roll up the same hour at once; the second one updates the counts the
    first inserted (both computed them from the same raw events) instead of failing on the
    unique constraint. The unit price of an existing row is never changed.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(model)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: statement.excluded[name] for name in counts},
    )
    # The rows as executemany parameters, not a multi-row VALUES: a VALUES statement compiles
    # anew for every row count, and each worker's compiled-statement cache kept every one of
    # them (the soak saw each worker grow ~10 MB at its first rollup).
    session.connection().execute(statement, rows)
    # Rows this session had loaded now hold stale counts.
    for instance in list(session.identity_map.values()):
        if isinstance(instance, model):
            session.expire(instance)


def roll_up_recent(session: Session, now: datetime, hours: int = LATE_HOURS) -> int:
    """Roll up the last `hours` hours, the current one included (it is re-rolled later)."""
    current = hour_start(now)
    return sum(roll_up_hour(session, current - timedelta(hours=h)) for h in range(hours + 1))


def _key(values: Sequence[Any]) -> Key:
    booking, placement, age, household, district = values
    return (int(booking), int(placement), str(age), str(household), str(district))
