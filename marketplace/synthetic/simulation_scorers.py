"""Relevance scorers trained on a synthetic city's history, for the delivery simulation.

Both see only what the portal would see (profiles and past reading), never the ground truth.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from marketplace.delivery.recommender_scorer import RecommenderScorer
from marketplace.delivery.relevance import RelevanceScorer, TagProfileScorer
from marketplace.synthetic import SyntheticCity
from marketplace.training.frames import (
    article_features,
    interactions_from_events,
    resident_features,
)
from recommender.artifact import Artifact, ArtifactInfo
from recommender.config import LightFMConfig
from recommender.dataset import Dataset
from recommender.model import LightFMRecommender
from recommender.scorer import Scorer
from recommender.state import ModelState


def profile_scorer(city: SyntheticCity) -> RelevanceScorer:
    """Tag-profile scorer from every view and click in the city's history."""
    articles = city.articles
    features = [
        (f"category:{c}", *(f"tag:{t}" for t in tags))
        for c, tags in zip(articles["category"], articles["tags"], strict=True)
    ]
    residents = city.residents
    keys = residents["external_id"].to_numpy()
    ages = residents["age_band"].to_numpy()
    households = residents["household"].to_numpy()
    events = city.events
    return TagProfileScorer.fit(
        (str(keys[r]), str(ages[r]), str(households[r]), features[a])
        for r, a in zip(
            events["resident_idx"].to_numpy(), events["article_idx"].to_numpy(), strict=True
        )
    )


def lightfm_scorer(city: SyntheticCity, epochs: int = 15) -> RelevanceScorer:
    """The recommender's LightFM hybrid trained on the city's history, served from memory."""
    residents, articles, e = city.residents, city.articles, city.events
    events = pd.DataFrame(
        {
            "user_id": residents["external_id"].to_numpy()[e["resident_idx"].to_numpy()],
            "item_id": articles["external_id"].to_numpy()[e["article_idx"].to_numpy()],
            "kind": e["kind"].astype(str).to_numpy(),
            "occurred_at": e["occurred_at"].reset_index(drop=True),
        }
    )
    dataset = Dataset.construct(
        interactions_from_events(events, city.end),
        resident_features(residents),
        article_features(articles),
        users=residents["external_id"],
        items=articles["external_id"],
    )
    model = LightFMRecommender(LightFMConfig(epochs=epochs, num_threads=1)).fit(dataset)
    info = ArtifactInfo(
        version="simulation",
        created_at=datetime.now(UTC).isoformat(),
        code_version="simulation",
        format_version=1,
    )
    return RecommenderScorer(Scorer(Artifact(info, ModelState.from_model(model))))
