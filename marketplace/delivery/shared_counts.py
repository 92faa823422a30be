"""What pacing and caps need from the database, the truth all workers agree on: the other
workers' counts of the current hour, each booking's hourly pace, today's per-resident offers.

* **Hourly pace** (`pacing.hourly_pace`): from the hourly rollups of the hours before this
  one — the booking's eligible slots and valid impressions, its placement's view rate — so every
  worker, whenever it started and however often it restarted, computes the same share. Worked
  out again every `PLAN_SECONDS` (late rollups, a booking resumed), at each new hour, and when
  the live bookings change.
* **The other workers' offers this hour and today's offers per resident**: re-counting every
  offer on each refresh (every two seconds) grows with traffic: at 160,000 offers it took 0.8 s
  of a worker's CPU. Instead each offer is read once: a refresh adds the offers made since the
  previous one ("folds" them in), up to `SETTLE_SECONDS` ago, so that batches still in flight
  have landed. An offer written later than that (a spool replayed after an outage) is counted
  at the next full recount, every `RECOUNT_SECONDS`, at each new hour and Tokyo day.
* **The other workers' eligible slots this hour**: each worker reports its counts at every
  refresh (one row per booking), summed on each refresh.

The local worker's own counts are always exact (`DeliveryLedger`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from marketplace.calendar import start_of_tokyo_day, tokyo_date
from marketplace.delivery.decision import CapCounts, SharedCounts
from marketplace.delivery.events import hour_start
from marketplace.delivery.measured import placement_view_rate
from marketplace.delivery.models import AdOffer, DeliveryRollup, EligibleSlot, EligibleSlotRollup
from marketplace.delivery.pacing import HourlyPace, hourly_pace
from marketplace.delivery.types import AdCandidate

SETTLE_SECONDS = 10.0
RECOUNT_SECONDS = 600.0
PLAN_SECONDS = 30.0
HOUR = timedelta(hours=1)


class SharedCountsReader:
    """One worker's running view of the database's counts."""

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self._folded_until: datetime | None = None  # offers before this are in the totals
        self._recounted_at: datetime | None = None
        self._hour: datetime | None = None
        self._hour_delivered: dict[int, int] = {}
        self._day: date | None = None
        self._caps: CapCounts = {}
        self._planned: tuple[datetime, datetime, frozenset[int]] | None = None
        self._paces: dict[int, HourlyPace] = {}

    def read(
        self, session: Session, bookings: Sequence[AdCandidate], now: datetime
    ) -> SharedCounts:
        settled = now - timedelta(seconds=SETTLE_SECONDS)
        day = tokyo_date(now)
        hour = hour_start(now)
        if (
            self._folded_until is None
            or self._recounted_at is None
            or now - self._recounted_at >= timedelta(seconds=RECOUNT_SECONDS)
            or day != self._day
            or hour != self._hour
            or settled < self._folded_until  # the clock went back
        ):
            self._recount(session, settled, day, hour)
            self._recounted_at = now
        else:
            self._fold(session, self._folded_until, settled)
        self._folded_until = settled
        live = frozenset(b.booking_id for b in bookings)
        planned = self._planned
        if (
            planned is None
            or planned[1] != hour
            or planned[2] != live
            or not timedelta(0) <= now - planned[0] < timedelta(seconds=PLAN_SECONDS)
        ):
            self._paces = hourly_paces(session, bookings, hour)
            self._planned = (now, hour, live)
        return SharedCounts(
            hour=hour,
            delivered={b: n for b, n in self._hour_delivered.items() if b in live},
            eligible=self._eligible(session, hour, live),
            hourly_pace=self._paces,
            day=day,
            caps=self._caps,  # never changed once handed out: folding copies it
        )

    def _others(self) -> ColumnElement[bool]:
        return AdOffer.worker_id != self.worker_id

    def _recount(self, session: Session, until: datetime, day: date, hour: datetime) -> None:
        """The other workers' offers of `hour` before `until`, and per resident for `day`."""
        self._hour = hour
        self._hour_delivered = {}
        self._add_offers(session, hour, until)
        self._day = day
        self._caps = {}
        self._add_caps(session, start_of_tokyo_day(day), until)

    def _fold(self, session: Session, since: datetime, until: datetime) -> None:
        """Add the offers made in [since, until) to the totals."""
        if until <= since:
            return
        if self._hour is not None:  # set by every recount, which comes first
            self._add_offers(session, max(since, self._hour), until)
        if self._day is not None:
            self._add_caps(session, max(since, start_of_tokyo_day(self._day)), until)

    def _add_offers(self, session: Session, since: datetime, until: datetime) -> None:
        if until <= since:
            return
        rows = session.execute(
            select(AdOffer.booking_id, func.count())
            .where(self._others(), AdOffer.offered_at >= since, AdOffer.offered_at < until)
            .group_by(AdOffer.booking_id)
        ).tuples()
        for booking, count in rows:
            key = int(booking)
            self._hour_delivered[key] = self._hour_delivered.get(key, 0) + int(count)

    def _add_caps(self, session: Session, since: datetime, until: datetime) -> None:
        if until <= since:
            return
        rows = session.execute(
            select(AdOffer.resident_key, AdOffer.booking_id, func.count())
            .where(
                self._others(),
                AdOffer.offered_at >= since,
                AdOffer.offered_at < until,
                AdOffer.resident_key.is_not(None),
            )
            .group_by(AdOffer.resident_key, AdOffer.booking_id)
        ).tuples()
        # The mapping handed out stays as it was: the bookings with new offers get new counts.
        changed: dict[int, dict[str, int]] = {}
        for key, booking_id, count in rows:
            booking = int(booking_id)
            counts = changed.get(booking)
            if counts is None:
                counts = changed[booking] = dict(self._caps.get(booking, {}))
            resident = str(key)
            counts[resident] = counts.get(resident, 0) + int(count)
        if changed:
            self._caps = {**self._caps, **changed}

    def _eligible(self, session: Session, hour: datetime, live: frozenset[int]) -> dict[int, int]:
        """Slots the other workers found each live booking eligible for in `hour`."""
        if not live:
            return {}
        rows = session.execute(
            select(EligibleSlot.booking_id, func.sum(EligibleSlot.slots))
            .where(
                EligibleSlot.hour_start == hour,
                EligibleSlot.worker_id != self.worker_id,
                EligibleSlot.booking_id.in_(live),
            )
            .group_by(EligibleSlot.booking_id)
        ).tuples()
        return {int(b): int(n or 0) for b, n in rows}


def hourly_paces(
    session: Session, bookings: Sequence[AdCandidate], hour: datetime
) -> dict[int, HourlyPace]:
    """Each booking's pace in `hour` (`pacing.hourly_pace`), from the
    hourly rollups of its live hours before `hour`: the same for every worker. The eligible
    slots still to come are expected at the booking's mean over its hours with eligible slots
    so far (an hour with none — an outage, a host that sent no traffic — is not averaged in)."""
    ids = sorted({b.booking_id for b in bookings})
    if not ids:
        return {}
    eligible: dict[int, int] = defaultdict(int)
    active_hours: dict[int, int] = defaultdict(int)
    impressions: dict[int, int] = defaultdict(int)
    for booking_id, slots, hours in session.execute(
        select(
            EligibleSlotRollup.booking_id,
            func.sum(EligibleSlotRollup.slots),
            func.count(),
        )
        .where(
            EligibleSlotRollup.booking_id.in_(ids),
            EligibleSlotRollup.hour_start < hour,
            EligibleSlotRollup.slots > 0,
        )
        .group_by(EligibleSlotRollup.booking_id)
    ).tuples():
        eligible[int(booking_id)] = int(slots or 0)
        active_hours[int(booking_id)] = int(hours or 0)
    for booking_id, shown in session.execute(
        select(DeliveryRollup.booking_id, func.sum(DeliveryRollup.impressions))
        .where(DeliveryRollup.booking_id.in_(ids), DeliveryRollup.hour_start < hour)
        .group_by(DeliveryRollup.booking_id)
    ).tuples():
        impressions[int(booking_id)] = int(shown or 0)
    rates = _view_rates(session, bookings, hour)
    paces: dict[int, HourlyPace] = {}
    for booking in bookings:
        if booking.booking_id in paces:
            continue
        paces[booking.booking_id] = hourly_pace(
            booking.share,
            eligible_before=eligible[booking.booking_id],
            impressions_before=impressions[booking.booking_id],
            view_rate=rates.get(booking.placement_id, 1.0),
            # Hours with eligible slots: the rate per hour the remaining hours are expected at.
            hours_before=float(active_hours[booking.booking_id]),
            hours_left=max(0.0, (booking.ends_at - hour) / HOUR),
        )
    return paces


def _view_rates(
    session: Session, bookings: Sequence[AdCandidate], hour: datetime
) -> dict[int, float]:
    """Each placement's valid impressions per offer since its earliest live booking began."""
    since: dict[int, datetime] = {}
    for booking in bookings:
        start = since.get(booking.placement_id)
        if start is None or booking.starts_at < start:
            since[booking.placement_id] = booking.starts_at
    return {
        placement_id: float(placement_view_rate(session, placement_id, hour_start(start), hour))
        for placement_id, start in since.items()
    }
