"""Delivery events as plain values, and the batch the writer stores (or spools) as one unit."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

SEGMENT_UNKNOWN = "unknown"


RANDOM_BYTES = 10
IDS_PER_READ = 256
# Random parts read ahead in bulk: `os.urandom` releases the GIL, and on the feed's event loop
# each release costs a wait for the writer thread to hand it back (see `keyed_digest` in tracking.py).
_ready: list[str] = []
# A forked child must never hand out the random parts its parent holds.
os.register_at_fork(after_in_child=_ready.clear)


def new_id() -> str:
    """A one-time id for an offer or a batch: 32 hex characters, time-ordered.

    12 hex digits of milliseconds since the epoch, then 80 random bits from the OS. Ids made
    later sort later (as UUIDv7 does), so the offers' primary-key index grows at its end: with
    random ids every batch of offers rewrote index pages all over the table (SQLite wrote ~8
    pages to its log per feed). Thread-safe: list pop and extend are atomic, so a random part
    is handed out once even when two threads refill at the same moment.
    """
    try:
        random_part = _ready.pop()
    except IndexError:
        raw = os.urandom(RANDOM_BYTES * IDS_PER_READ).hex()
        step = 2 * RANDOM_BYTES
        _ready.extend(raw[i : i + step] for i in range(0, len(raw), step))
        random_part = _ready.pop()
    return f"{time.time_ns() // 1_000_000:012x}{random_part}"


def hour_start(moment: datetime) -> datetime:
    """The start of the hour containing `moment`, in UTC (Tokyo hours align with UTC hours)."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


# Events are rows: named tuples, built several times per feed (a frozen dataclass of 13 fields
# costs 2.3 µs to build, a named tuple 0.7 µs).
class OfferEvent(NamedTuple):
    offer_id: str
    booking_id: int
    placement_id: int
    creative_version_id: int
    shop_id: int
    resident_key: str | None
    age_band: str
    household: str
    district: str
    personalized: bool
    position: int
    worker_id: str
    offered_at: datetime


class TrackedEvent(NamedTuple):
    """An impression or a click of one offer."""

    kind: str  # "impression" | "click"
    offer_id: str
    booking_id: int
    occurred_at: datetime
    valid: bool
    invalid_reason: str | None = None
    ip_prefix: str | None = None


class OpportunityEvent(NamedTuple):
    placement_id: int
    slots: int
    at: datetime


class EligibleCount(NamedTuple):
    """Slots a booking was eligible for in one hour (the one measure's denominator), as one
    worker counted them since its previous report (`DeliveryLedger.drain_eligible`)."""

    booking_id: int
    hour: datetime  # the hour's start, UTC
    slots: int


Event = OfferEvent | TrackedEvent | OpportunityEvent | EligibleCount


@dataclass
class Batch:
    """Events written in one transaction; its id makes the opportunity counts idempotent."""

    batch_id: str
    worker_id: str
    offers: list[OfferEvent] = field(default_factory=list)
    tracked: list[TrackedEvent] = field(default_factory=list)
    # (placement id, hour start) -> slots
    opportunities: dict[tuple[int, datetime], int] = field(default_factory=dict)
    # (booking id, hour start) -> slots it was eligible for
    eligible: dict[tuple[int, datetime], int] = field(default_factory=dict)

    @classmethod
    def of(cls, worker_id: str, events: list[Event]) -> Batch:
        batch = cls(new_id(), worker_id)
        hour = end = None  # the hour of the last slot count and when it ends
        for event in events:
            if isinstance(event, OfferEvent):
                batch.offers.append(event)
            elif isinstance(event, TrackedEvent):
                batch.tracked.append(event)
            elif isinstance(event, EligibleCount):
                key = (event.booking_id, hour_start(event.hour))
                batch.eligible[key] = batch.eligible.get(key, 0) + event.slots
            else:
                # A batch spans a second or so: the hour is worked out again only when it ends.
                if hour is None or end is None or not hour <= event.at < end:
                    hour = hour_start(event.at)
                    end = hour + timedelta(hours=1)
                key = (event.placement_id, hour)
                batch.opportunities[key] = batch.opportunities.get(key, 0) + event.slots
        return batch

    def __len__(self) -> int:
        return (
            len(self.offers)
            + len(self.tracked)
            + sum(self.opportunities.values())
            + sum(self.eligible.values())
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "worker_id": self.worker_id,
            "offers": [_dump(o._asdict()) for o in self.offers],
            "tracked": [_dump(t._asdict()) for t in self.tracked],
            "opportunities": [
                [placement, hour.isoformat(), slots]
                for (placement, hour), slots in self.opportunities.items()
            ],
            "eligible": [
                [booking, hour.isoformat(), slots]
                for (booking, hour), slots in self.eligible.items()
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Batch:
        return cls(
            batch_id=data["batch_id"],
            worker_id=data["worker_id"],
            offers=[OfferEvent(**_load(o, "offered_at")) for o in data["offers"]],
            tracked=[TrackedEvent(**_load(t, "occurred_at")) for t in data["tracked"]],
            opportunities={
                (int(p), datetime.fromisoformat(h)): int(s) for p, h, s in data["opportunities"]
            },
            # Spools written before eligible slots were counted have none.
            eligible={
                (int(b), datetime.fromisoformat(h)): int(s) for b, h, s in data.get("eligible", ())
            },
        )


def _dump(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def _load(values: dict[str, Any], time_field: str) -> dict[str, Any]:
    return {**values, time_field: datetime.fromisoformat(values[time_field])}
