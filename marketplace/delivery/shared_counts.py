"""The other workers' counts (offers per booking, today's per-resident offers, slots offered),
read from the database, which is the truth all workers agree on.

Re-counting every offer of every live booking on each refresh (every two seconds) grows with
traffic over a booking's life: at 160,000 offers it took 0.8 s of a worker's CPU. Instead
`SharedCountsReader` reads each offer once: a refresh adds the offers made since the previous
one to running totals ("folds" them in), up to `SETTLE_SECONDS` ago, so that batches still in
flight have landed. An offer written later than that (a spool replayed after an outage) is
counted at the next full recount, every `RECOUNT_SECONDS`. Pacing and caps tolerate either
delay; the local worker's own counts are always exact (`DeliveryLedger`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from marketplace.calendar import start_of_tokyo_day, tokyo_date
from marketplace.delivery.decision import CapCounts, SharedCounts
from marketplace.delivery.models import AdOffer, SlotOpportunity
from marketplace.delivery.types import AdCandidate

SETTLE_SECONDS = 10.0
RECOUNT_SECONDS = 600.0


class SharedCountsReader:
    """One worker's running view of every other worker's counts."""

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self._folded_until: datetime | None = None  # offers before this are in the totals
        self._recounted_at: datetime | None = None
        self._delivered: dict[int, int] = {}
        self._day: date | None = None
        self._caps: CapCounts = {}

    def read(
        self, session: Session, bookings: Sequence[AdCandidate], now: datetime
    ) -> SharedCounts:
        settled = now - timedelta(seconds=SETTLE_SECONDS)
        day = tokyo_date(now)
        if (
            self._folded_until is None
            or self._recounted_at is None
            or now - self._recounted_at >= timedelta(seconds=RECOUNT_SECONDS)
            or day != self._day
            or settled < self._folded_until  # the clock went back
        ):
            self._recount(session, settled, day)
            self._recounted_at = now
        else:
            self._fold(session, self._folded_until, settled)
        self._folded_until = settled
        live = {b.booking_id for b in bookings}
        return SharedCounts(
            delivered={b: n for b, n in self._delivered.items() if b in live},
            opportunities=self._opportunities(session, bookings),
            day=day,
            caps=self._caps,  # never changed once handed out: folding copies it
        )

    def _others(self) -> ColumnElement[bool]:
        return AdOffer.worker_id != self.worker_id

    def _recount(self, session: Session, until: datetime, day: date) -> None:
        """Every offer before `until`: per booking, and per resident and booking for `day`."""
        rows = session.execute(
            select(AdOffer.booking_id, func.count())
            .where(self._others(), AdOffer.offered_at < until)
            .group_by(AdOffer.booking_id)
        ).tuples()
        self._delivered = {int(booking): int(count) for booking, count in rows}
        self._day = day
        self._caps = {}
        self._add_caps(session, start_of_tokyo_day(day), until)

    def _fold(self, session: Session, since: datetime, until: datetime) -> None:
        """Add the offers made in [since, until) to the totals."""
        if until <= since:
            return
        rows = session.execute(
            select(AdOffer.booking_id, func.count())
            .where(self._others(), AdOffer.offered_at >= since, AdOffer.offered_at < until)
            .group_by(AdOffer.booking_id)
        ).tuples()
        for booking, count in rows:
            self._delivered[int(booking)] = self._delivered.get(int(booking), 0) + int(count)
        if self._day is not None:  # set by every recount, which comes first
            self._add_caps(session, max(since, start_of_tokyo_day(self._day)), until)

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

    def _opportunities(self, session: Session, bookings: Sequence[AdCandidate]) -> dict[int, int]:
        """Slots the other workers offered in each booking's placement during its period."""
        windows: dict[tuple[int, datetime, datetime], int] = {}
        opportunities: dict[int, int] = {}
        for booking in bookings:
            key = (booking.placement_id, booking.starts_at, booking.ends_at)
            if key not in windows:
                windows[key] = int(
                    session.scalar(
                        select(func.coalesce(func.sum(SlotOpportunity.slots), 0)).where(
                            SlotOpportunity.placement_id == booking.placement_id,
                            SlotOpportunity.hour_start >= booking.starts_at,
                            SlotOpportunity.hour_start < booking.ends_at,
                            SlotOpportunity.worker_id != self.worker_id,
                        )
                    )
                    or 0
                )
            opportunities[booking.booking_id] = windows[key]
        return opportunities
