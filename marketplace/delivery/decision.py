"""The ad decision for one feed slot: candidates, targeting, caps, pacing, relevance.

`DeliveryLedger` holds the counts pacing and frequency caps need. Counts made by this process
are exact and local; counts made by other workers arrive with each refresh from the database
(`SharedCounts`), which is the truth all workers agree on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from marketplace.calendar import start_of_tokyo_day, tokyo_date
from marketplace.delivery import pacing
from marketplace.delivery.reach import ReachIndex
from marketplace.delivery.relevance import AdRelevance
from marketplace.delivery.types import AdCandidate, Audience

# Today's ads shown, per booking and resident: booking id -> resident key -> count.
#
# Nested, not keyed by (resident, booking) pairs: an inner dict holds only strings and ints,
# which the garbage collector does not track, so its full passes never walk them. A dict of
# ~90,000 tuple-keyed pairs (a busy day, per worker, and as many again for the other workers)
# made every full collection take 20-40 ms of CPU, a pause every few seconds under load and
# most of the feed's p99 (see docs/delivery.md).
CapCounts = Mapping[int, Mapping[str, int]]
NOT_SHOWN: Mapping[str, int] = {}  # never written to


@dataclass(frozen=True)
class SharedCounts:
    """What the other workers have done, as last read from the database."""

    delivered: Mapping[int, int] = field(default_factory=dict)  # booking -> offers
    opportunities: Mapping[int, int] = field(default_factory=dict)  # booking -> slots offered
    day: date | None = None
    caps: CapCounts = field(default_factory=dict)


class DeliveryLedger:
    """Pacing and frequency-cap counters of one worker, plus the shared counts of the others.

    Only the event loop that serves feeds mutates the local counters; a refresh replaces
    `shared` with one assignment, so readers always see a consistent snapshot.
    """

    def __init__(self) -> None:
        self.shared = SharedCounts()
        self._delivered: dict[int, int] = defaultdict(int)
        self._opportunities: dict[int, int] = defaultdict(int)
        self._cap_day: date | None = None
        self._caps: dict[int, dict[str, int]] = {}

    def pace(self, booking: AdCandidate) -> pacing.PaceState:
        booking_id = booking.booking_id
        return pacing.PaceState(
            share=booking.share,
            opportunities=self._opportunities[booking_id]
            + self.shared.opportunities.get(booking_id, 0),
            delivered=self._delivered[booking_id] + self.shared.delivered.get(booking_id, 0),
        )

    def record_opportunity(self, live: Sequence[AdCandidate]) -> None:
        for booking in live:
            self._opportunities[booking.booking_id] += 1

    def record_delivery(self, booking: AdCandidate, resident_key: str | None, day: date) -> None:
        self._delivered[booking.booking_id] += 1
        if resident_key is not None:
            self._roll_day(day)
            counts = self._caps.get(booking.booking_id)
            if counts is None:
                counts = self._caps[booking.booking_id] = {}
            counts[resident_key] = counts.get(resident_key, 0) + 1

    def caps_on(self, day: date) -> tuple[CapCounts, CapCounts]:
        """Today's ads shown per booking and resident: this worker's, and the other workers'."""
        self._roll_day(day)
        shared = self.shared
        return self._caps, shared.caps if shared.day == day else {}

    def local_totals(self) -> tuple[dict[int, int], dict[int, int]]:
        """This worker's (delivered, opportunities) per booking, for reports and tests."""
        return dict(self._delivered), dict(self._opportunities)

    def _roll_day(self, day: date) -> None:
        if self._cap_day != day:
            self._cap_day = day
            self._caps = {}


LIVE_CACHE = 256
# No day yet: an empty range, so the first slot works the day out.
NO_DAY = (date.min, datetime.max.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC))


@dataclass(frozen=True)
class LiveBookings:
    """A placement's live bookings at some moment, and how long that stays true.

    The list only changes when a booking starts or ends, so it is worked out (and indexed by
    targeting) once per snapshot (the candidate tuple) and reused until the next start or end.
    """

    candidates: Sequence[AdCandidate]  # kept, so the cache key's id() cannot be reused
    live: list[AdCandidate]
    index: ReachIndex
    valid_from: datetime | None
    valid_until: datetime | None

    @classmethod
    def at(cls, candidates: Sequence[AdCandidate], now: datetime) -> LiveBookings:
        live = [c for c in candidates if c.live_at(now)]
        edges = [t for c in candidates for t in (c.starts_at, c.ends_at)]
        return cls(
            candidates,
            live,
            ReachIndex(live),
            max((t for t in edges if t <= now), default=None),
            min((t for t in edges if t > now), default=None),
        )

    def holds_at(self, now: datetime) -> bool:
        return (self.valid_from is None or self.valid_from <= now) and (
            self.valid_until is None or now < self.valid_until
        )

    def reaching(self, audience: Audience) -> tuple[AdCandidate, ...]:
        """The live bookings whose targeting reaches this viewer (see `reaches`)."""
        return self.index.reaching(audience)


@dataclass
class AdDecider:
    """Chooses the booking for one ad slot, or none, and records the choice in the ledger."""

    ledger: DeliveryLedger
    params: pacing.PacingParams
    frequency_cap_per_day: int
    relevance: AdRelevance
    _live: dict[int, LiveBookings] = field(default_factory=dict, repr=False)
    _today: tuple[date, datetime, datetime] = field(default=NO_DAY, repr=False)

    def live(self, candidates: Sequence[AdCandidate], now: datetime) -> LiveBookings:
        """The live bookings among `candidates`, remembered per (immutable) candidate tuple."""
        if not isinstance(candidates, tuple):  # a list may change under the same id
            return LiveBookings.at(candidates, now)
        found = self._live.get(id(candidates))
        if found is None or found.candidates is not candidates or not found.holds_at(now):
            if len(self._live) >= LIVE_CACHE:
                self._live.clear()  # a new snapshot's tuples replace the old ones
            found = self._live[id(candidates)] = LiveBookings.at(candidates, now)
        return found

    def pick(
        self,
        candidates: Sequence[AdCandidate],
        audience: Audience,
        excluded_shops: frozenset[int],
        now: datetime,
    ) -> AdCandidate | None:
        day = self._day(now)
        live = self.live(candidates, now)
        self.ledger.record_opportunity(live.live)
        allowed = [c for c in live.reaching(audience) if c.shop_id not in excluded_shops]
        key = audience.key
        if key is not None and allowed:
            local, shared = self.ledger.caps_on(day)
            cap = self.frequency_cap_per_day
            allowed = [
                c
                for c in allowed
                if local.get(c.booking_id, NOT_SHOWN).get(key, 0)
                + shared.get(c.booking_id, NOT_SHOWN).get(key, 0)
                < cap
            ]
        if not allowed:
            return None
        states = [self.ledger.pace(c) for c in allowed]
        relevances = self.relevance.of(audience, allowed)
        if relevances is None:
            relevances = [self.params.neutral_relevance] * len(allowed)
        index = pacing.choose(states, relevances, self.params)
        if index is None:
            return None
        chosen = allowed[index]
        self.ledger.record_delivery(chosen, audience.key, day)
        return chosen

    def _day(self, now: datetime) -> date:
        """The Tokyo day of `now`, worked out once per day rather than once per slot."""
        day, start, end = self._today
        if not start <= now < end:
            day = tokyo_date(now)
            start = start_of_tokyo_day(day)
            self._today = day, start, start_of_tokyo_day(day + timedelta(days=1))
        return day
