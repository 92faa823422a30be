"""Distinct residents reached per booking and audience cell: the counts k-anonymity needs.

Counted from raw offers with a valid impression (`resident_key` is delivery's keyed hash; an
anonymous viewer has none and is never counted as a resident). Raw events are deleted after
the retention period, so counts are also kept as snapshots in `audience_reach`. A report uses
the larger of the live count and the snapshot: both are lower bounds of the true number (the
live one misses purged events, the snapshot misses later ones), so suppression decided on them
is conservative: it can hide more than needed, never less.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.orm import Session

from analytics.models import AudienceReach
from analytics.privacy import DIMENSIONS
from marketplace.db import utcnow
from marketplace.delivery.models import AdImpression, AdOffer

REACH_COLUMNS = ["dimension", "value", "residents"]
SNAPSHOT_MAX_AGE = timedelta(minutes=15)


def live_reach(session: Session, booking_id: int) -> pd.DataFrame:
    """Distinct residents per cell from the raw events still held (REACH_COLUMNS).

    PostgreSQL counts every cell in one scan with GROUPING SETS; elsewhere the distinct
    (resident, segment) pairs come back and pandas counts them.
    """
    condition = (
        AdOffer.booking_id == booking_id,
        # Redundant but lets PostgreSQL use the impressions' own booking index, instead of
        # hashing the whole impressions table for one booking.
        AdImpression.booking_id == booking_id,
        AdOffer.resident_key.is_not(None),
        AdImpression.valid.is_(True),
    )
    joined = select().select_from(AdOffer).join(AdImpression, AdImpression.offer_id == AdOffer.id)
    columns = [getattr(AdOffer, d) for d in DIMENSIONS]
    rows: list[tuple[str, str, int]] = []
    if session.get_bind().dialect.name == "postgresql":
        query = (
            joined.add_columns(
                *columns,
                func.grouping(*columns),
                func.count(func.distinct(AdOffer.resident_key)),
            )
            .where(*condition)
            .group_by(func.grouping_sets(tuple_(), *[tuple_(c) for c in columns]))
        )
        width = len(columns)
        for row in session.execute(query).tuples():
            mask, count = int(row[width]), int(row[width + 1])
            if mask == (1 << width) - 1:
                rows.append(("total", "all", count))
                continue
            position = next(i for i in range(width) if not mask & (1 << (width - 1 - i)))
            rows.append((DIMENSIONS[position], str(row[position]), count))
        if not any(kind == "total" for kind, _, _ in rows):
            rows.append(("total", "all", 0))
        return pd.DataFrame(rows, columns=REACH_COLUMNS)
    pairs = session.execute(
        joined.add_columns(AdOffer.resident_key, *columns).where(*condition).distinct()
    ).tuples()
    frame = pd.DataFrame(list(pairs), columns=["key", *DIMENSIONS])
    rows.append(("total", "all", int(frame["key"].nunique())))
    for dimension in DIMENSIONS:
        counts = frame.groupby(dimension)["key"].nunique()
        rows.extend((dimension, str(value), int(n)) for value, n in counts.items())
    return pd.DataFrame(rows, columns=REACH_COLUMNS)


def stored_reach(session: Session, booking_id: int) -> pd.DataFrame:
    rows = session.execute(
        select(AudienceReach.dimension, AudienceReach.value, AudienceReach.residents).where(
            AudienceReach.booking_id == booking_id
        )
    ).tuples()
    return pd.DataFrame(list(rows), columns=REACH_COLUMNS)


def reach(
    session: Session,
    booking_id: int,
    store: bool = True,
    final_after: datetime | None = None,
    force: bool = False,
) -> pd.DataFrame:
    """The best lower bound per cell: max(live, snapshot); saved back as the new snapshot.

    A snapshot taken after `final_after` (the booking's last event can no longer change) is
    final, and one younger than SNAPSHOT_MAX_AGE is fresh: both are returned without reading
    the raw events again.
    """
    taken = session.scalar(
        select(func.min(AudienceReach.computed_at)).where(AudienceReach.booking_id == booking_id)
    )
    if taken is not None and not force:
        final = final_after is not None and taken >= final_after
        # Any snapshot is a lower bound, so a recent one is safe to use as it is.
        if final or utcnow() - taken < SNAPSHOT_MAX_AGE:
            return stored_reach(session, booking_id)
    merged = pd.concat([live_reach(session, booking_id), stored_reach(session, booking_id)])
    if merged.empty:
        return pd.DataFrame(columns=REACH_COLUMNS)
    best = merged.groupby(["dimension", "value"], as_index=False).agg(
        residents=("residents", "max")
    )
    if store:
        _save(session, booking_id, best)
    return best


def _save(session: Session, booking_id: int, best: pd.DataFrame) -> None:
    session.execute(delete(AudienceReach).where(AudienceReach.booking_id == booking_id))
    now = utcnow()
    session.add_all(
        AudienceReach(
            booking_id=booking_id,
            dimension=str(row["dimension"]),
            value=str(row["value"]),
            residents=int(row["residents"]),
            computed_at=now,
        )
        for row in best.to_dict("records")
    )
    session.flush()


def snapshot(session: Session, booking_ids: Iterable[int]) -> int:
    """Save reach snapshots for these bookings (before their raw events are purged)."""
    count = 0
    for booking_id in booking_ids:
        reach(session, booking_id, store=True, force=True)
        count += 1
    return count


def placement_reach(session: Session, booking_ids: Iterable[int]) -> pd.DataFrame:
    """A lower bound of the placement's residents per cell: the largest booking's count."""
    ids = list(booking_ids)
    if not ids:
        return pd.DataFrame(columns=REACH_COLUMNS)
    rows = session.execute(
        select(AudienceReach.dimension, AudienceReach.value, func.max(AudienceReach.residents))
        .where(AudienceReach.booking_id.in_(ids))
        .group_by(AudienceReach.dimension, AudienceReach.value)
    ).tuples()
    return pd.DataFrame(list(rows), columns=REACH_COLUMNS)


def refresh_live_bookings(session: Session, now: datetime) -> int:
    """Snapshot the reach of every booking with raw events in the last day (a periodic job).

    Shop reports then find a fresh snapshot and never count raw events on a page view.
    """
    recent = session.scalars(
        select(AdOffer.booking_id).where(AdOffer.offered_at >= now - timedelta(days=1)).distinct()
    ).all()
    return snapshot(session, recent)
