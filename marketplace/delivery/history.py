"""What delivery reads from the database when a worker starts: residents' recent reading, a
reference audience for relevance percentiles, and whether an offer was already seen."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.delivery.models import AdImpression
from marketplace.delivery.relevance import TagProfileScorer
from marketplace.delivery.types import Audience
from marketplace.models import Article, InteractionEvent, Resident

HISTORY_DAYS = 30
HISTORY_ROWS = 150_000
REFERENCE_RESIDENTS = 1_000


def impression_recorded(session: Session, offer_id: str) -> bool:
    return session.get(AdImpression, offer_id) is not None


def history_scorer(session: Session) -> TagProfileScorer:
    """A tag-profile scorer fitted on consenting residents' reading of the last 30 days."""
    since = utcnow() - timedelta(days=HISTORY_DAYS)
    rows = session.execute(
        select(
            Resident.external_id,
            Resident.age_band,
            Resident.household,
            Article.category,
            Article.tags,
        )
        .select_from(InteractionEvent)
        .join(Resident, Resident.id == InteractionEvent.resident_id)
        .join(Article, Article.id == InteractionEvent.article_id)
        .where(InteractionEvent.occurred_at >= since, Resident.personalization_consent.is_(True))
        .order_by(InteractionEvent.occurred_at.desc())
        .limit(HISTORY_ROWS)
    ).tuples()
    return TagProfileScorer.fit(
        (
            key,
            age.value if age else None,
            household.value if household else None,
            (f"category:{category}", *(f"tag:{t}" for t in tags or ())),
        )
        for key, age, household, category, tags in rows
    )


def reference_audiences(session: Session) -> list[Audience]:
    """Consenting residents against whom an ad's relevance percentile is measured."""
    residents = session.scalars(
        select(Resident)
        .where(Resident.personalization_consent.is_(True))
        .order_by(Resident.id)
        .limit(REFERENCE_RESIDENTS)
    )
    return [
        Audience(
            key=r.external_id,
            age_band=r.age_band.value if r.age_band else None,
            household=r.household.value if r.household else None,
            district=r.district,
            interests=tuple(r.interests or ()),
            consent=True,
        )
        for r in residents
    ]
