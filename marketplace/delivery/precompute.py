"""Known residents' rankings and ad relevance, worked out ahead of their visits.

A resident's first feed after a change (new articles, a new model, a booking going live)
would otherwise score every article and every live ad for them alone, on the request path.
`ResidentPrecompute` notices such a change and has the service work them out in bulk for the
residents most recently active, off the request path, into the caches the feed reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from marketplace.db import utcnow
from marketplace.delivery.service import RANKING_CACHE, DeliveryService
from marketplace.delivery.types import Audience
from marketplace.models import InteractionEvent, Resident

log = logging.getLogger(__name__)

ACTIVITY_DAYS = 30


def known_residents(session: Session, limit: int = RANKING_CACHE) -> list[Audience]:
    """Consenting residents, the most recently active last (they stay longest in the caches)."""
    since = utcnow() - timedelta(days=ACTIVITY_DAYS)
    last_seen = (
        select(
            InteractionEvent.resident_id,
            func.max(InteractionEvent.occurred_at).label("seen"),
        )
        .where(InteractionEvent.occurred_at >= since)
        .group_by(InteractionEvent.resident_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Resident.external_id,
            Resident.age_band,
            Resident.household,
            Resident.district,
            Resident.interests,
        )
        .outerjoin(last_seen, last_seen.c.resident_id == Resident.id)
        .where(Resident.personalization_consent.is_(True))
        .order_by(last_seen.c.seen.desc().nulls_last(), Resident.id)
        .limit(limit)
    ).tuples()
    audiences = [
        Audience(
            key=external_id,
            age_band=age.value if age else None,
            household=household.value if household else None,
            district=district,
            interests=tuple(interests or ()),
            consent=True,
        )
        for external_id, age, household, district, interests in rows
    ]
    audiences.reverse()
    return audiences


class ResidentPrecompute:
    def __init__(self, service: DeliveryService, session_factory: sessionmaker[Session]) -> None:
        self.service = service
        self.session_factory = session_factory
        self._done_for: tuple[object, ...] | None = None

    def state(self) -> tuple[object, ...]:
        """What the precomputed values depend on: articles, scorer and the live ads."""
        snapshot = self.service.snapshot
        ads = frozenset(ad.item_id for live in snapshot.candidates.values() for ad in live)
        return (snapshot.articles_version, self.service.scorer_version, ads)

    def is_current(self) -> bool:
        """Whether the values worked out ahead match the articles, scorer and ads serving now."""
        return self._done_for is not None and self._done_for == self.state()

    def run_if_changed(self, then: Callable[[], object] | None = None) -> int:
        """Precompute when something they depend on changed; returns residents ranked.

        `then` runs after a precompute and before it counts as current (`is_current`).
        """
        if self.service.relevance_model == "loading":
            return 0
        state = self.state()
        if state == self._done_for:
            return 0
        started = time.monotonic()
        with self.session_factory() as session:
            audiences = known_residents(session)
        # Only the live ads changed (a booking started or ended): the rankings still hold.
        articles = self._done_for is None or self._done_for[:2] != state[:2]
        ranked = self.service.precompute(audiences, articles=articles)
        if then is not None:
            then()
        self._done_for = state
        log.info(
            "ranked articles and ads ahead for %d residents in %.1f s",
            ranked,
            time.monotonic() - started,
        )
        return ranked
