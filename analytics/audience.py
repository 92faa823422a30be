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

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from analytics.models import AudienceReach
from analytics.privacy import DIMENSIONS
from marketplace.db import utcnow
from marketplace.delivery.models import AdImpression, AdOffer

REACH_COLUMNS = ["dimension", "value", "residents"]


def live_reach(session: Session, booking_id: int) -> pd.DataFrame:
    """Distinct residents per cell from the raw events still held (REACH_COLUMNS)."""
    rows: list[tuple[str, str, int]] = []
    base = (
        select()
        .select_from(AdOffer)
        .join(AdImpression, AdImpression.offer_id == AdOffer.id)
        .where(
            AdOffer.booking_id == booking_id,
            AdOffer.resident_key.is_not(None),
            AdImpression.valid.is_(True),
        )
    )
    distinct_residents = func.count(func.distinct(AdOffer.resident_key))
    total = session.execute(base.add_columns(distinct_residents)).scalar_one()
    rows.append(("total", "all", int(total or 0)))
    for dimension in DIMENSIONS:
        column = getattr(AdOffer, dimension)
        for value, count in session.execute(
            base.add_columns(column, distinct_residents).group_by(column)
        ).tuples():
            rows.append((dimension, str(value), int(count)))
    return pd.DataFrame(rows, columns=REACH_COLUMNS)


def stored_reach(session: Session, booking_id: int) -> pd.DataFrame:
    rows = session.execute(
        select(AudienceReach.dimension, AudienceReach.value, AudienceReach.residents).where(
            AudienceReach.booking_id == booking_id
        )
    ).tuples()
    return pd.DataFrame(list(rows), columns=REACH_COLUMNS)


def reach(session: Session, booking_id: int, store: bool = True) -> pd.DataFrame:
    """The best lower bound per cell: max(live, snapshot); saved back as the new snapshot."""
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
        reach(session, booking_id, store=True)
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
