"""Reading a placement's recent traffic for the reach forecast, as aggregate counts.

Slots come from `slot_opportunities` (what the workers counted), who opens the portal from the
residents' article views (`interaction_events`) joined to their coarse profile. Only counts
per profile leave this module: residents are folded into (profile, views a day) cells at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.delivery.forecast import PlacementTraffic, ProfileTraffic
from marketplace.delivery.models import SlotOpportunity
from marketplace.lru import LruCache
from marketplace.models import InteractionEvent, Resident
from marketplace.vocab import InteractionKind

REFERENCE_DAYS: Final = 28
# Views a day are rounded to this step before residents are folded into cells.
VIEWS_STEP: Final = 0.05
# How long one reading of a placement's traffic serves the quotes of a process.
REUSE_SECONDS: Final = 300

# (session, placement id, now) -> the placement's traffic: `load_traffic` or a `RecentTraffic`.
TrafficReader = Callable[[Session, int, datetime], PlacementTraffic | None]


def load_traffic(
    session: Session, placement_id: int, now: datetime, days: int = REFERENCE_DAYS
) -> PlacementTraffic | None:
    """The placement's traffic over the last `days` (fewer if it is newer); None without any."""
    since = now - timedelta(days=days)
    slots, first = session.execute(
        select(
            func.coalesce(func.sum(SlotOpportunity.slots), 0), func.min(SlotOpportunity.hour_start)
        )
        .where(SlotOpportunity.placement_id == placement_id)
        .where(SlotOpportunity.hour_start >= since, SlotOpportunity.hour_start < now)
    ).one()
    if not slots or first is None:
        return None
    slot_days = max(1.0, (now - first).total_seconds() / 86_400)
    views_first = session.scalar(
        select(func.min(InteractionEvent.occurred_at)).where(
            InteractionEvent.kind == InteractionKind.VIEW,
            InteractionEvent.occurred_at >= since,
            InteractionEvent.occurred_at < now,
        )
    )
    if views_first is None:
        return None
    view_days = max(1.0, (now - views_first).total_seconds() / 86_400)
    per_resident = (
        select(InteractionEvent.resident_id.label("rid"), func.count().label("views"))
        .where(InteractionEvent.kind == InteractionKind.VIEW)
        .where(InteractionEvent.occurred_at >= since, InteractionEvent.occurred_at < now)
        .group_by(InteractionEvent.resident_id)
        .subquery()
    )
    cells: dict[tuple[object, ...], dict[float, int]] = defaultdict(lambda: defaultdict(int))
    rows = session.execute(
        select(
            Resident.age_band,
            Resident.household,
            Resident.district,
            Resident.interests,
            Resident.personalization_consent,
            per_resident.c.views,
        ).join(per_resident, per_resident.c.rid == Resident.id)
    ).tuples()
    for age, household, district, interests, consent, views in rows:
        key = (
            None if age is None else str(age),
            None if household is None else str(household),
            district,
            tuple(sorted(str(i) for i in interests or ())),
            bool(consent),
        )
        per_day = round(int(views) / view_days / VIEWS_STEP) * VIEWS_STEP
        cells[key][per_day] += 1
    profiles = tuple(
        ProfileTraffic(
            age_band=key[0],  # type: ignore[arg-type]
            household=key[1],  # type: ignore[arg-type]
            district=key[2],  # type: ignore[arg-type]
            interests=key[3],  # type: ignore[arg-type]
            consent=key[4],  # type: ignore[arg-type]
            daily_views=tuple(sorted(histogram.items())),
        )
        for key, histogram in cells.items()
    )
    return PlacementTraffic(slots_per_day=int(slots) / slot_days, profiles=profiles)


class RecentTraffic:
    """`load_traffic`, read at most once per placement and `reuse_seconds` period per process.

    Every quote, and the reach check of every hold, forecasts from its placement's last 28
    days: reading and folding them is almost all of a quote's cost (about 60 ms of CPU and
    50 ms of database time with 5,000 residents), while the 28 days move by minutes. Quotes of
    one placement within one period (a wall-clock period of `now`) share a reading; the sold
    shares they forecast against are always read afresh by the caller.
    """

    def __init__(self, reuse_seconds: float = REUSE_SECONDS, placements: int = 256) -> None:
        if reuse_seconds <= 0:
            raise ValueError("reuse_seconds must be positive")
        self.reuse_seconds = reuse_seconds
        # A 1-tuple, so that "no traffic yet" (None) is remembered too.
        self._readings: LruCache[tuple[int, int], tuple[PlacementTraffic | None]] = LruCache(
            placements
        )

    def __call__(
        self, session: Session, placement_id: int, now: datetime
    ) -> PlacementTraffic | None:
        period = int(now.timestamp() // self.reuse_seconds)
        reading = self._readings.get_or_make(
            (placement_id, period), lambda: (load_traffic(session, placement_id, now),)
        )
        return reading[0]
