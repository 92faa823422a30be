"""Delivery events as the feed submits them to the EventWriter, and the rows they leave behind."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from marketplace.delivery.events import OfferEvent, TrackedEvent, new_id
from marketplace.delivery.models import AdImpression, AdOffer, SlotOpportunity

AT = datetime(2026, 11, 3, 3, 15, tzinfo=UTC)


def offer(booking_id: int, offer_id: str | None = None) -> OfferEvent:
    return OfferEvent(
        offer_id=offer_id or new_id(),
        booking_id=booking_id,
        placement_id=booking_id,
        creative_version_id=1,
        shop_id=1,
        resident_key="k",
        age_band="70+",
        household="single",
        district="ohto",
        personalized=True,
        position=3,
        worker_id="w",
        offered_at=AT,
    )


def impression(event: OfferEvent) -> TrackedEvent:
    return TrackedEvent("impression", event.offer_id, event.booking_id, AT, True)


def counts(engine: Engine, booking_id: int) -> tuple[int, int, int]:
    """(offers, impressions, slots) stored for `booking_id`; `offer` gives its placement that id."""
    with engine.connect() as c:
        offers = c.scalar(select(func.count()).where(AdOffer.booking_id == booking_id))
        shown = c.scalar(select(func.count()).where(AdImpression.booking_id == booking_id))
        slots = c.scalar(
            select(func.coalesce(func.sum(SlotOpportunity.slots), 0)).where(
                SlotOpportunity.placement_id == booking_id
            )
        )
    return int(offers or 0), int(shown or 0), int(slots or 0)
