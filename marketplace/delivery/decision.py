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
from marketplace.delivery.events import EligibleCount, hour_start
from marketplace.delivery.reach import ReachIndex
from marketplace.delivery.relevance import AdRelevance
from marketplace.delivery.types import AdCandidate, Audience
from marketplace.lru import LruCache

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
    """What the database says, as last read: the other workers' counts of the current hour,
    each live booking's hourly share (catch-up included), and today's per-resident offers."""

    hour: datetime | None = None  # the hour `delivered` and `eligible` are of (UTC start)
    delivered: Mapping[int, int] = field(default_factory=dict)  # booking -> others' offers
    eligible: Mapping[int, int] = field(default_factory=dict)  # booking -> others' slots
    # booking -> its pace this hour (`pacing.hourly_pace`: share to win, slots ahead), worked
    # out from the database, so every worker paces on the same one.
    hourly_pace: Mapping[int, pacing.HourlyPace] = field(default_factory=dict)
    day: date | None = None
    caps: CapCounts = field(default_factory=dict)


class DeliveryLedger:
    """Pacing and frequency-cap counters of one worker, plus the shared counts of the others.

    Pacing works on the current hour: this worker's exact counts of the hour (eligible slots,
    offers) plus the other workers' from the database. Only the event loop that serves feeds
    mutates the local counters; a refresh replaces `shared` with one assignment, so readers
    always see a consistent snapshot.
    """

    def __init__(self) -> None:
        self.shared = SharedCounts()
        self._hour: datetime | None = None
        self._hour_end: datetime | None = None
        self._delivered_hour: dict[int, int] = defaultdict(int)
        self._eligible_hour: dict[int, int] = defaultdict(int)
        self._delivered: dict[int, int] = defaultdict(int)
        self._eligible: dict[int, int] = defaultdict(int)
        self._active_hours: dict[int, int] = defaultdict(int)  # hours with eligible slots
        # Eligible slots per (booking, hour), and how many of them were reported to the
        # database: the refresh thread reads these while the event loop counts, so it reports
        # the difference (an increment racing with a report is reported next time).
        self._eligible_by_hour: dict[tuple[int, datetime], int] = defaultdict(int)
        self._reported: dict[tuple[int, datetime], int] = {}
        self._cap_day: date | None = None
        self._caps: dict[int, dict[str, int]] = {}

    def pace(self, booking: AdCandidate) -> pacing.PaceState:
        booking_id = booking.booking_id
        shared = self.shared
        same_hour = shared.hour == self._hour
        # The pace of the previous hour holds until a refresh brings this hour's.
        plan = shared.hourly_pace.get(booking_id)
        ahead = 0.0 if plan is None else plan.ahead
        opportunities = self._eligible_hour[booking_id] + (
            shared.eligible.get(booking_id, 0) if same_hour else 0
        )
        return pacing.PaceState(
            share=booking.share if plan is None else plan.share,
            opportunities=opportunities,
            delivered=self._delivered_hour[booking_id]
            + (shared.delivered.get(booking_id, 0) if same_hour else 0)
            + ahead,
            owed_before=0.0 if plan is None else plan.owed_before,
            # This hour's offers may reach RATE_CEILING × the share bought, one more at most.
            ceiling=pacing.RATE_CEILING * booking.share * opportunities + ahead,
        )

    def at(self, now: datetime) -> None:
        """Move the hourly counters to the hour of `now` (cheap when it has not changed)."""
        if (
            self._hour_end is not None
            and self._hour is not None
            and self._hour <= now < self._hour_end
        ):
            return
        self._hour = hour_start(now)
        self._hour_end = self._hour + timedelta(hours=1)
        self._delivered_hour = defaultdict(int)
        self._eligible_hour = defaultdict(int)

    def record_eligible(self, eligible: Sequence[AdCandidate]) -> None:
        hour = self._hour
        assert hour is not None, "at() comes first"
        for booking in eligible:
            booking_id = booking.booking_id
            if not self._eligible_hour[booking_id]:
                self._active_hours[booking_id] += 1
            self._eligible_hour[booking_id] += 1
            self._eligible[booking_id] += 1
            self._eligible_by_hour[(booking_id, hour)] += 1

    def drain_eligible(self) -> list[EligibleCount]:
        """The eligible slots counted since the last call, for the database."""
        counts: list[EligibleCount] = []
        current = self._hour
        for key, total in list(self._eligible_by_hour.items()):
            reported = self._reported.get(key, 0)
            if total > reported:
                counts.append(EligibleCount(key[0], key[1], total - reported))
                self._reported[key] = total
            elif key[1] != current:  # a past hour, all reported: forget it
                self._reported.pop(key, None)
                self._eligible_by_hour.pop(key, None)
        return counts

    def record_delivery(self, booking: AdCandidate, resident_key: str | None, day: date) -> None:
        self._delivered_hour[booking.booking_id] += 1
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
        """This worker's (offers, eligible slots) per booking since it started, for reports,
        the simulation and tests."""
        return dict(self._delivered), dict(self._eligible)

    def local_hourly_pace(
        self, bookings: Sequence[AdCandidate], now: datetime
    ) -> dict[int, pacing.HourlyPace]:
        """Each booking's pace for the hour starting at `now` from this ledger's own totals,
        every offer taken as seen: what `shared_counts.hourly_paces` works out from the
        database, for a single worker without one (the delivery simulation)."""
        hour = hour_start(now)
        return {
            b.booking_id: pacing.hourly_pace(
                b.share,
                eligible_before=self._eligible[b.booking_id],
                impressions_before=self._delivered[b.booking_id],
                view_rate=1.0,
                hours_before=float(self._active_hours[b.booking_id]),
                hours_left=max(0.0, (b.ends_at - hour) / timedelta(hours=1)),
            )
            for b in bookings
        }

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
    _live: LruCache[int, LiveBookings] = field(
        default_factory=lambda: LruCache(LIVE_CACHE), repr=False
    )
    _today: tuple[date, datetime, datetime] = field(default=NO_DAY, repr=False)

    def live(self, candidates: Sequence[AdCandidate], now: datetime) -> LiveBookings:
        """The live bookings among `candidates`, remembered per (immutable) candidate tuple."""
        if not isinstance(candidates, tuple):  # a list may change under the same id
            return LiveBookings.at(candidates, now)
        found = self._live.get(id(candidates))
        # The tuple is kept in the entry, so its id is not reused while the entry lives.
        if found is None or found.candidates is not candidates or not found.holds_at(now):
            found = self._live.put(id(candidates), LiveBookings.at(candidates, now))
        return found

    def pick(
        self,
        candidates: Sequence[AdCandidate],
        audience: Audience,
        excluded_shops: frozenset[int],
        now: datetime,
        hidden_shops: frozenset[int] = frozenset(),
    ) -> AdCandidate | None:
        """The booking for this slot, or None. `excluded_shops` may not be shown here (already
        on the page, or hidden); `hidden_shops` (the resident hid them) are not even eligible.
        """
        day = self._day(now)
        allowed = self.eligible(candidates, audience, hidden_shops, now, day)
        allowed = [c for c in allowed if c.serving and c.shop_id not in excluded_shops]
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

    def eligible(
        self,
        candidates: Sequence[AdCandidate],
        audience: Audience,
        hidden_shops: frozenset[int],
        now: datetime,
        day: date | None = None,
    ) -> Sequence[AdCandidate]:
        """The bookings eligible for this slot, counted in the ledger (the one measure's
        denominator): live, reaching the viewer, under the cap, shop not hidden by the
        resident; whether or not they may be shown now (paused, awaiting review, disaster
        mode, their shop already on the page: the feed's one-ad-per-shop rule must not lower
        what a booking is owed, or a shop with bookings on two placements would be owed less).
        """
        if day is None:
            day = self._day(now)
        live = self.live(candidates, now)
        self.ledger.at(now)
        allowed: Sequence[AdCandidate] = live.reaching(audience)
        if hidden_shops:
            allowed = [c for c in allowed if c.shop_id not in hidden_shops]
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
        if allowed:
            self.ledger.record_eligible(allowed)
        return allowed

    def _day(self, now: datetime) -> date:
        """The Tokyo day of `now`, worked out once per day rather than once per slot."""
        day, start, end = self._today
        if not start <= now < end:
            day = tokyo_date(now)
            start = start_of_tokyo_day(day)
            self._today = day, start, start_of_tokyo_day(day + timedelta(days=1))
        return day
