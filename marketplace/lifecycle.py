"""The marketplace's closed sets of states and kinds, and the legal moves between states.

Bookings and creatives follow explicit state machines. Every status change goes through
`transition`, so an illegal move raises `IllegalTransition` instead of silently corrupting data.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final, TypeVar

from marketplace.errors import InvalidTransition


class ShopUserRole(enum.StrEnum):
    OWNER = "owner"
    STAFF = "staff"


class PlacementKind(enum.StrEnum):
    IN_FEED = "in_feed"
    SIDE_GADGET = "side_gadget"


class BookingStatus(enum.StrEnum):
    DRAFT = "draft"
    HELD = "held"
    EXPIRED = "expired"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    LIVE = "live"
    COMPLETED = "completed"
    REJECTED = "rejected"
    PAUSED = "paused"
    CANCELLED = "cancelled"


class CreativeStatus(enum.StrEnum):
    """The review state of one creative version."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


class CreativeKind(enum.StrEnum):
    """What a creative is: an ad (headline, text, image, link) or a shop's printed flyer."""

    AD = "ad"
    FLYER = "flyer"


class ActorKind(enum.StrEnum):
    STAFF = "staff"
    SHOP = "shop"
    SYSTEM = "system"


class MarketplaceEventKind(enum.StrEnum):
    BOOKING_CONFIRMED = "booking_confirmed"
    BOOKING_CANCELLED = "booking_cancelled"
    BOOKING_PAUSED = "booking_paused"
    BOOKING_RESUMED = "booking_resumed"


B = BookingStatus
BOOKING_TRANSITIONS: Final[Mapping[BookingStatus, frozenset[BookingStatus]]] = {
    B.DRAFT: frozenset({B.HELD, B.CANCELLED}),
    # Confirming a hold goes to review when the creative is not approved yet, else straight on.
    B.HELD: frozenset({B.IN_REVIEW, B.SCHEDULED, B.EXPIRED, B.CANCELLED}),
    B.IN_REVIEW: frozenset({B.APPROVED, B.REJECTED, B.CANCELLED, B.PAUSED}),
    B.APPROVED: frozenset({B.SCHEDULED, B.LIVE, B.COMPLETED, B.CANCELLED, B.PAUSED}),
    B.SCHEDULED: frozenset({B.LIVE, B.COMPLETED, B.PAUSED, B.CANCELLED}),
    B.LIVE: frozenset({B.COMPLETED, B.PAUSED, B.CANCELLED}),
    B.PAUSED: frozenset({B.IN_REVIEW, B.SCHEDULED, B.LIVE, B.COMPLETED, B.CANCELLED}),
    B.REJECTED: frozenset({B.IN_REVIEW, B.CANCELLED}),
    B.EXPIRED: frozenset(),
    B.COMPLETED: frozenset(),
    B.CANCELLED: frozenset(),
}

# Statuses whose shares count as sold in the inventory.
SOLD_STATUSES: Final[frozenset[BookingStatus]] = frozenset(
    {B.IN_REVIEW, B.APPROVED, B.SCHEDULED, B.LIVE, B.PAUSED, B.REJECTED}
)
# Statuses in which delivery may show the booking's approved creative.
DELIVERABLE_STATUSES: Final[frozenset[BookingStatus]] = frozenset({B.SCHEDULED, B.LIVE})

C = CreativeStatus
CREATIVE_TRANSITIONS: Final[Mapping[CreativeStatus, frozenset[CreativeStatus]]] = {
    C.DRAFT: frozenset({C.IN_REVIEW, C.SUPERSEDED}),
    C.IN_REVIEW: frozenset({C.APPROVED, C.REJECTED, C.SUPERSEDED}),
    C.APPROVED: frozenset({C.SUPERSEDED}),
    C.REJECTED: frozenset({C.SUPERSEDED}),
    C.SUPERSEDED: frozenset(),
}


class IllegalTransition(InvalidTransition):
    """A status change that the state machine does not allow."""

    def __init__(self, subject: str, current: enum.Enum, target: enum.Enum) -> None:
        super().__init__(subject=subject, current=current.value, target=target.value)
        self.current = current
        self.target = target


S = TypeVar("S", bound=enum.Enum)


def can_transition(table: Mapping[S, frozenset[S]], current: S, target: S) -> bool:
    return target in table[current]


def check_transition(subject: str, table: Mapping[S, frozenset[S]], current: S, target: S) -> S:
    """Return `target` when the move is legal; raise IllegalTransition otherwise."""
    if not can_transition(table, current, target):
        raise IllegalTransition(subject, current, target)
    return target
