"""Shared by the bench scripts: a synthetic city as recommender frames, split by time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from marketplace.synthetic import SyntheticCity, generate_city
from marketplace.training.frames import (
    article_features,
    interactions_from_events,
    resident_features,
)
from recommender.dataset import Dataset

END = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CityFrames:
    city: SyntheticCity
    train: pd.DataFrame  # weighted interactions before the cut, without the new residents
    test: pd.DataFrame  # (user_id, item_id) clicked after the cut
    new_residents: np.ndarray  # ids whose history is hidden: they are cold users at the cut
    candidates: np.ndarray  # article ids live during the holdout: what a feed may show
    user_features: pd.DataFrame
    item_features: pd.DataFrame
    cut: datetime


def city_frames(
    n_residents: int,
    *,
    seed: int = 0,
    holdout_days: int = 14,
    new_share: float = 0.1,
    fresh_days: int = 21,
) -> CityFrames:
    """Split at ``end - holdout_days``; a share of residents is hidden as newly registered."""
    city = generate_city(n_residents, seed=seed, end=END)
    residents, articles = city.residents, city.articles
    e = city.events
    events = pd.DataFrame(
        {
            "user_id": residents.external_id.to_numpy()[e.resident_idx.to_numpy()],
            "item_id": articles.external_id.to_numpy()[e.article_idx.to_numpy()],
            "kind": e.kind.astype(str).to_numpy(),
            "occurred_at": e.occurred_at.reset_index(drop=True),
        }
    )
    cut = END - timedelta(days=holdout_days)
    before = events[events.occurred_at <= pd.Timestamp(cut)]
    after = events[events.occurred_at > pd.Timestamp(cut)]
    rng = np.random.default_rng(seed)
    active = before.user_id.unique()
    new = np.sort(rng.choice(active, size=int(len(active) * new_share), replace=False))
    train = interactions_from_events(before[~before.user_id.isin(new)], cut)
    cut_ts = pd.Timestamp(cut)
    live = (articles.published_at > cut_ts - pd.Timedelta(days=fresh_days)) & (
        articles.expires_at.isna() | (articles.expires_at > cut_ts)
    )
    # Relevance = a click in the holdout (an explicit choice, not merely a feed view).
    test = after[after.kind == "click"][["user_id", "item_id"]].drop_duplicates()
    return CityFrames(
        city,
        train,
        test,
        new,
        articles.external_id[live].to_numpy(),
        resident_features(residents),
        article_features(articles),
        cut,
    )


def train_dataset(frames: CityFrames) -> Dataset:
    """Training dataset: every resident except the hidden new ones, every article declared."""
    residents = frames.city.residents.external_id
    known = residents[~residents.isin(frames.new_residents)]
    features = frames.user_features[frames.user_features.user_id.isin(known)]
    return Dataset.construct(
        frames.train,
        features,
        frames.item_features,
        users=known,
        items=frames.city.articles.external_id,
    )
