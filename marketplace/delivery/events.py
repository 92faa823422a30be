"""Delivery events as plain values, and the batch the writer stores (or spools) as one unit."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

SEGMENT_UNKNOWN = "unknown"


def new_id() -> str:
    """A one-time id for an offer or a batch: 32 hex characters."""
    return secrets.token_hex(16)


def hour_start(moment: datetime) -> datetime:
    """The start of the hour containing `moment`, in UTC (Tokyo hours align with UTC hours)."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class OfferEvent:
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


@dataclass(frozen=True)
class TrackedEvent:
    """An impression or a click of one offer."""

    kind: str  # "impression" | "click"
    offer_id: str
    booking_id: int
    occurred_at: datetime
    valid: bool
    invalid_reason: str | None = None
    ip_prefix: str | None = None


@dataclass(frozen=True)
class OpportunityEvent:
    placement_id: int
    slots: int
    at: datetime


Event = OfferEvent | TrackedEvent | OpportunityEvent


@dataclass
class Batch:
    """Events written in one transaction; its id makes the opportunity counts idempotent."""

    batch_id: str
    worker_id: str
    offers: list[OfferEvent] = field(default_factory=list)
    tracked: list[TrackedEvent] = field(default_factory=list)
    # (placement id, hour start) -> slots
    opportunities: dict[tuple[int, datetime], int] = field(default_factory=dict)

    @classmethod
    def of(cls, worker_id: str, events: list[Event]) -> Batch:
        batch = cls(new_id(), worker_id)
        for event in events:
            if isinstance(event, OfferEvent):
                batch.offers.append(event)
            elif isinstance(event, TrackedEvent):
                batch.tracked.append(event)
            else:
                key = (event.placement_id, hour_start(event.at))
                batch.opportunities[key] = batch.opportunities.get(key, 0) + event.slots
        return batch

    def __len__(self) -> int:
        return len(self.offers) + len(self.tracked) + sum(self.opportunities.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "worker_id": self.worker_id,
            "offers": [_dump(asdict(o)) for o in self.offers],
            "tracked": [_dump(asdict(t)) for t in self.tracked],
            "opportunities": [
                [placement, hour.isoformat(), slots]
                for (placement, hour), slots in self.opportunities.items()
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
        )


def _dump(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def _load(values: dict[str, Any], time_field: str) -> dict[str, Any]:
    return {**values, time_field: datetime.fromisoformat(values[time_field])}
