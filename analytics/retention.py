"""Residents' data: forgetting one resident, and deleting raw events after the retention period.

Forgetting (`forget_resident`) removes the resident's profile and interaction history, their ad
choices (hidden shops, personalised ads off) and every raw ad event linked to them. It is the
one way to forget: `portal-marketplace privacy forget` and the resident's own 「データを削除」
(`/me`) both call it. Raw ad events of hours that delivery may still re-roll (the last
`LATE_HOURS` + 1 hours) are not deleted but unlinked (the keyed resident hash and the IP prefix
are blanked): deleting them would lower a re-rolled hour's counts and make reports disagree
with invoices. Unlinked events are anonymous and are purged by retention like any other.

Retention (`purge_raw_events`) deletes raw offers, impressions, clicks, slot counts (opportunities
and eligible slots) and interaction events older than the retention period (default 13 months),
never past the newest hour already rolled up, and first saves the audience-reach snapshots of
the bookings concerned, so k-anonymity decisions for old bookings stay possible. Reports read
the rollups, so they do not change.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from analytics import audience
from analytics.errors import UnknownResident
from marketplace.calendar import TOKYO
from marketplace.delivery.choices import forget_choices
from marketplace.delivery.events import hour_start
from marketplace.delivery.models import (
    AdClick,
    AdImpression,
    AdOffer,
    DeliveryRollup,
    EligibleSlot,
    SlotOpportunity,
)
from marketplace.delivery.rollups import LATE_HOURS
from marketplace.models import InteractionEvent, Resident, ResidentAdChoice

DEFAULT_RETENTION_MONTHS = 13


def _rows(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def resident_key(identity_secret: str, external_id: str) -> str:
    """Delivery's keyed hash of a resident's pseudonymous id (DeliveryService.resident_key)."""
    digest = hmac.new(identity_secret.encode(), external_id.encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


@dataclass(frozen=True)
class ForgetResult:
    interactions_deleted: int
    ad_events_deleted: int
    ad_events_unlinked: int
    choices_deleted: int = 0


def forget_resident(
    session: Session, external_id: str, identity_secret: str, now: datetime
) -> ForgetResult:
    resident = session.scalar(select(Resident).where(Resident.external_id == external_id))
    key = resident_key(identity_secret, external_id)
    has_events = session.scalar(select(func.count()).where(AdOffer.resident_key == key))
    has_choices = session.get(ResidentAdChoice, key) is not None
    if resident is None and not has_events and not has_choices:
        raise UnknownResident(
            "{field}: 住民 {resident} の記録はありません", field="resident", resident=external_id
        )
    interactions = 0
    if resident is not None:
        interactions = _rows(
            session.execute(
                delete(InteractionEvent).where(InteractionEvent.resident_id == resident.id)
            )
        )
        session.delete(resident)
    still_open = hour_start(now) - timedelta(hours=LATE_HOURS)
    linked = select(AdOffer.id).where(AdOffer.resident_key == key)
    old = linked.where(AdOffer.offered_at < still_open)
    recent = linked.where(AdOffer.offered_at >= still_open)
    # Keep the reach counts this resident contributed to: they are aggregates, and dropping
    # them could only make later suppression decisions less conservative.
    booking_ids = session.scalars(
        select(AdOffer.booking_id).where(AdOffer.resident_key == key).distinct()
    ).all()
    audience.snapshot(session, booking_ids)
    for model in (AdImpression, AdClick):
        session.execute(
            update(model).where(model.offer_id.in_(recent)).values(ip_prefix=None),
            execution_options={"synchronize_session": False},
        )
        session.execute(
            delete(model).where(model.offer_id.in_(old)),
            execution_options={"synchronize_session": False},
        )
    unlinked = _rows(
        session.execute(
            update(AdOffer)
            .where(AdOffer.id.in_(recent))
            .values(resident_key=None)
            .execution_options(synchronize_session=False)
        )
    )
    deleted = _rows(
        session.execute(
            delete(AdOffer)
            .where(AdOffer.resident_key == key, AdOffer.offered_at < still_open)
            .execution_options(synchronize_session=False)
        )
    )
    choices = forget_choices(session, key)
    session.flush()
    return ForgetResult(int(interactions or 0), int(deleted or 0), int(unlinked or 0), choices)


@dataclass(frozen=True)
class PurgeResult:
    cutoff: datetime
    offers: int
    impressions: int
    clicks: int
    opportunities: int
    interactions: int
    snapshots: int


def retention_cutoff(now: datetime, months: int) -> datetime:
    """The first instant kept: `months` calendar months before now, at a Tokyo midnight."""
    if not 1 <= months <= 120:
        raise ValueError("retention must be between 1 and 120 months")
    local = now.astimezone(TOKYO)
    index = local.year * 12 + local.month - 1 - months
    return local.replace(
        year=index // 12, month=index % 12 + 1, day=1, hour=0, minute=0, second=0, microsecond=0
    )


def purge_raw_events(
    session: Session, now: datetime, months: int = DEFAULT_RETENTION_MONTHS
) -> PurgeResult:
    cutoff = retention_cutoff(now, months)
    newest_rolled = session.scalar(select(func.max(DeliveryRollup.hour_start)))
    # Never delete an hour that has not been rolled up yet.
    ad_cutoff = cutoff if newest_rolled is None else min(cutoff, newest_rolled + timedelta(hours=1))
    if newest_rolled is None:
        ad_cutoff = min(cutoff, session.scalar(select(func.min(AdOffer.offered_at))) or cutoff)
    old_offers = select(AdOffer.id).where(AdOffer.offered_at < ad_cutoff)
    bookings = session.scalars(
        select(AdOffer.booking_id).where(AdOffer.offered_at < ad_cutoff).distinct()
    ).all()
    snapshots = audience.snapshot(session, bookings)
    counts: dict[str, int] = {}
    for name, model in (("impressions", AdImpression), ("clicks", AdClick)):
        counts[name] = _rows(
            session.execute(
                delete(model)
                .where(model.offer_id.in_(old_offers))
                .execution_options(synchronize_session=False)
            )
        )
    counts["offers"] = _rows(
        session.execute(
            delete(AdOffer)
            .where(AdOffer.offered_at < ad_cutoff)
            .execution_options(synchronize_session=False)
        )
    )
    counts["opportunities"] = _rows(
        session.execute(
            delete(SlotOpportunity)
            .where(SlotOpportunity.hour_start < ad_cutoff)
            .execution_options(synchronize_session=False)
        )
    )
    counts["eligible_slots"] = _rows(
        session.execute(
            delete(EligibleSlot)
            .where(EligibleSlot.hour_start < ad_cutoff)
            .execution_options(synchronize_session=False)
        )
    )
    counts["interactions"] = _rows(
        session.execute(
            delete(InteractionEvent)
            .where(InteractionEvent.occurred_at < cutoff)
            .execution_options(synchronize_session=False)
        )
    )
    session.flush()
    return PurgeResult(
        cutoff=ad_cutoff,
        offers=int(counts["offers"] or 0),
        impressions=int(counts["impressions"] or 0),
        clicks=int(counts["clicks"] or 0),
        # Slot counts: the placements' and the bookings' eligible slots.
        opportunities=int(counts["opportunities"] or 0) + int(counts["eligible_slots"] or 0),
        interactions=int(counts["interactions"] or 0),
        snapshots=snapshots,
    )
