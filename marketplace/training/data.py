"""Read the recommender's training data out of the database as DataFrames.

Only residents who gave personalization consent contribute their profile and history to the
personalised model. Ads are not read here yet: the ad-delivery feature plugs in through
``AdSource`` (its impressions/clicks become events, its ads become items with ``kind:ad``,
``shop_category:…`` and targeting tags via ``marketplace.training.frames.ad_features``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.models import Article, InteractionEvent, Resident
from marketplace.training.frames import article_item_id

EVENT_COLUMNS = ["user_id", "item_id", "kind", "occurred_at"]


class AdSource(Protocol):
    """Extension point for ads as recommendable items (implemented by the ad-delivery team)."""

    def ad_events(self, session: Session, since: datetime | None) -> pd.DataFrame:
        """Ad views and clicks: user_id (resident external id), item_id, kind, occurred_at."""
        ...

    def ad_items(self, session: Session) -> pd.DataFrame:
        """Ads to rank: item_id, shop_category, tags (list of str)."""
        ...


@dataclass(frozen=True)
class TrainingFrames:
    events: pd.DataFrame  # user_id, item_id, kind, occurred_at (UTC); consenting residents only
    residents: pd.DataFrame  # external_id, age_band, household, district, interests, gadgets
    articles: (
        pd.DataFrame
    )  # item_id, external_id, category, tags, priority, published_at, expires_at
    ads: pd.DataFrame | None  # item_id, shop_category, tags; None until an AdSource exists


def _utc(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True)


def load_training_frames(
    session: Session, *, since: datetime | None = None, ad_source: AdSource | None = None
) -> TrainingFrames:
    """Events since ``since`` (all when None), consenting residents and all articles."""
    resident_rows = session.execute(
        select(
            Resident.external_id,
            Resident.age_band,
            Resident.household,
            Resident.district,
            Resident.interests,
            Resident.gadgets,
        ).where(Resident.personalization_consent.is_(True))
    ).all()
    residents = pd.DataFrame(
        resident_rows,
        columns=["external_id", "age_band", "household", "district", "interests", "gadgets"],
    )
    for column in ("age_band", "household"):
        # Enum members -> their values; a missing attribute simply yields no feature.
        residents[column] = residents[column].map(lambda v: getattr(v, "value", v))

    article_rows = session.execute(
        select(
            Article.id,
            Article.external_id,
            Article.category,
            Article.tags,
            Article.priority,
            Article.published_at,
            Article.expires_at,
        )
    ).all()
    articles = pd.DataFrame(
        article_rows,
        columns=["id", "external_id", "category", "tags", "priority", "published_at", "expires_at"],
    )
    articles.insert(0, "item_id", articles.pop("id").map(article_item_id))
    articles["priority"] = articles["priority"].map(lambda v: getattr(v, "value", v))
    articles["published_at"] = _utc(articles["published_at"])
    articles["expires_at"] = _utc(articles["expires_at"])

    query = (
        select(Resident.external_id, Article.id, InteractionEvent.kind,
               InteractionEvent.occurred_at)
        .join(Resident, Resident.id == InteractionEvent.resident_id)
        .join(Article, Article.id == InteractionEvent.article_id)
        .where(Resident.personalization_consent.is_(True))
    )  # fmt: skip
    if since is not None:
        query = query.where(InteractionEvent.occurred_at >= since)
    events = pd.DataFrame(session.execute(query).all(), columns=EVENT_COLUMNS)
    events["item_id"] = events["item_id"].map(article_item_id)
    events["kind"] = events["kind"].map(lambda v: getattr(v, "value", v))
    events["occurred_at"] = _utc(events["occurred_at"])

    ads = None
    if ad_source is not None:
        ad_events = ad_source.ad_events(session, since)
        events = pd.concat([events, ad_events[EVENT_COLUMNS]], ignore_index=True)
        ads = ad_source.ad_items(session)
    return TrainingFrames(events, residents, articles, ads)
