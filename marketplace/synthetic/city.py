"""Assemble a whole synthetic city: residents, articles, shops, events and the ground truth."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from marketplace.synthetic import affinity as tables
from marketplace.synthetic.articles import all_tags, generate_articles
from marketplace.synthetic.events import generate_events
from marketplace.synthetic.ground_truth import GroundTruth
from marketplace.synthetic.population import LATENT_DIM, generate_population
from marketplace.synthetic.shops import generate_shops

TAG_LATENT_STD = 0.55
QUALITY_STD = 0.4
POPULARITY_STD = 0.8
PRIORITY_POPULARITY = {"normal": 0.0, "important": 0.5, "urgent": 1.2}
CLICK_BIAS = -3.5
AD_BIAS = -4.5

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class SyntheticCity:
    residents: pd.DataFrame
    articles: pd.DataFrame
    shops: pd.DataFrame
    events: pd.DataFrame
    ground_truth: GroundTruth
    end: datetime


def _default_end() -> datetime:
    # Midnight UTC today: the same city for a given seed all day, and fresh for the demo.
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def generate_city(
    n_residents: int = 115_000,
    *,
    n_articles: int = 2_000,
    n_shops: int = 300,
    days: int = 90,
    seed: int = 0,
    end: datetime | None = None,
    progress: Progress | None = None,
) -> SyntheticCity:
    """Generate a deterministic synthetic city; events fall in (end - days, end].

    The same arguments always give the same city. ``progress(stage, fraction)`` is called as
    each stage advances (stages: residents, articles, shops, events).
    """
    if n_residents < 1 or n_articles < 1 or n_shops < 0 or days < 1:
        raise ValueError(
            f"need n_residents>=1, n_articles>=1, n_shops>=0, days>=1; got "
            f"{n_residents}, {n_articles}, {n_shops}, {days}"
        )
    end = _default_end() if end is None else end
    if end.tzinfo is None:
        raise ValueError("end must be timezone-aware")
    start = end - timedelta(days=days)
    report: Progress = progress if progress is not None else (lambda stage, fraction: None)
    # One independent stream per stage, so e.g. the shop count does not change the residents.
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]
    rng_people, rng_articles, rng_latent, rng_shops, rng_events = streams

    report("residents", 0.0)
    people = generate_population(rng_people, n_residents)
    report("residents", 1.0)

    report("articles", 0.0)
    catalogue = generate_articles(rng_articles, n_articles, start, end)
    tag_names = all_tags()
    tag_latent = rng_latent.normal(0.0, TAG_LATENT_STD, size=(len(tag_names), LATENT_DIM))
    tag_latent = tag_latent.astype(np.float32)
    article_latent = np.stack(
        [tag_latent[tags].sum(axis=0) / np.sqrt(len(tags)) for tags in catalogue.tag_idx]
    ).astype(np.float32)
    quality = rng_latent.normal(0.0, QUALITY_STD, size=n_articles).astype(np.float32)
    popularity = rng_latent.normal(0.0, POPULARITY_STD, size=n_articles) + np.array(
        [PRIORITY_POPULARITY[p] for p in catalogue.priority]
    )
    report("articles", 1.0)

    report("shops", 0.0)
    shops = generate_shops(rng_shops, n_shops)
    report("shops", 1.0)

    shop_keys, shop_mix = tables.shop_mix_table()
    truth = GroundTruth(
        categories=tables.CATEGORIES,
        resident_affinity=people.affinity,
        resident_taste=people.taste,
        article_category=catalogue.category_idx,
        article_latent=article_latent,
        article_quality=quality,
        tag_names=tag_names,
        tag_latent=tag_latent,
        shop_categories=shop_keys,
        shop_mix=shop_mix,
        click_bias=CLICK_BIAS,
        ad_bias=AD_BIAS,
    )
    report("events", 0.0)
    events = generate_events(
        rng_events,
        truth,
        catalogue,
        people.age_idx,
        popularity,
        pd.Timestamp(start).value,
        pd.Timestamp(end).value,
        progress=lambda fraction: report("events", fraction),
    )
    report("events", 1.0)
    return SyntheticCity(people.frame, catalogue.frame, shops, events, truth, end)
