"""What the plugin holds about one resident, as their own page (`/me`) and download show it.

Read from the tables the data inventory describes (marketplace/personal_data.py): the profile
the host sent, their ad choices, and how many views and clicks are recorded, per Tokyo month.
Deleting it all is `analytics.retention.forget_resident`, the same code as `privacy forget`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.calendar import TOKYO
from marketplace.delivery.choices import choices_of, hidden_shops
from marketplace.delivery.models import AdClick, AdImpression, AdOffer
from marketplace.models import InteractionEvent, Resident, ResidentAdChoice
from marketplace.vocab import InteractionKind

# The counts of one month, in the order the page's table shows them.
COUNTS = ("article_views", "article_clicks", "ads_shown", "ad_views", "ad_clicks")


@dataclass(frozen=True)
class MonthCounts:
    month: str  # "2026-11", a Tokyo calendar month
    article_views: int = 0
    article_clicks: int = 0
    ads_shown: int = 0  # ads placed in the resident's feed (offers)
    ad_views: int = 0  # of those, seen on screen (impressions)
    ad_clicks: int = 0


@dataclass(frozen=True)
class StoredProfile:
    """The profile row the host's data created (the recommender's view of the resident)."""

    age_band: str | None
    household: str | None
    district: str | None
    language: str
    interests: tuple[str, ...]
    gadgets: tuple[str, ...]
    personalization_consent: bool
    consent_updated_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class HeldShop:
    shop_id: int
    name: str
    hidden_at: datetime


@dataclass(frozen=True)
class HeldData:
    profile: StoredProfile | None
    personalized_ads: bool
    choices_updated_at: datetime | None
    hidden_shops: tuple[HeldShop, ...]
    months: tuple[MonthCounts, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return (
            self.profile is None
            and self.choices_updated_at is None
            and not self.hidden_shops
            and not self.months
        )


def tokyo_month(at: datetime) -> str:
    return at.astimezone(TOKYO).strftime("%Y-%m")


def by_month(events: Iterable[tuple[str, datetime]]) -> tuple[MonthCounts, ...]:
    """(count name, when) pairs as one row per Tokyo month, newest first."""
    counted: dict[str, Counter[str]] = {}
    for name, at in events:
        counted.setdefault(tokyo_month(at), Counter())[name] += 1
    return tuple(
        MonthCounts(month, **{name: counts[name] for name in COUNTS})
        for month, counts in sorted(counted.items(), reverse=True)
    )


def _profile(row: Resident) -> StoredProfile:
    return StoredProfile(
        age_band=row.age_band.value if row.age_band else None,
        household=row.household.value if row.household else None,
        district=row.district,
        language=row.language.value,
        interests=tuple(row.interests or ()),
        gadgets=tuple(row.gadgets or ()),
        personalization_consent=row.personalization_consent,
        consent_updated_at=row.consent_updated_at,
        created_at=row.created_at,
    )


def _events(session: Session, resident: Resident | None, key: str) -> list[tuple[str, datetime]]:
    events: list[tuple[str, datetime]] = []
    if resident is not None:
        for kind, at in session.execute(
            select(InteractionEvent.kind, InteractionEvent.occurred_at).where(
                InteractionEvent.resident_id == resident.id
            )
        ):
            name = "article_clicks" if kind == InteractionKind.CLICK else "article_views"
            events.append((name, at))
    mine = select(AdOffer.id).where(AdOffer.resident_key == key)
    events.extend(
        ("ads_shown", at)
        for at in session.scalars(select(AdOffer.offered_at).where(AdOffer.resident_key == key))
    )
    for name, model in (("ad_views", AdImpression), ("ad_clicks", AdClick)):
        events.extend(
            (name, at)
            for at in session.scalars(select(model.occurred_at).where(model.offer_id.in_(mine)))
        )
    return events


def held_data(session: Session, external_id: str, key: str) -> HeldData:
    """Everything the plugin holds about the resident with this pseudonymous id and keyed id."""
    resident = session.scalar(select(Resident).where(Resident.external_id == external_id))
    row = session.get(ResidentAdChoice, key)
    return HeldData(
        profile=None if resident is None else _profile(resident),
        personalized_ads=choices_of(session, key).personalized_ads,
        choices_updated_at=None if row is None else row.updated_at,
        hidden_shops=tuple(HeldShop(*hidden) for hidden in hidden_shops(session, key)),
        months=by_month(_events(session, resident, key)),
    )
