"""Turn portal records into the recommender's long-form frames (pure; no database).

Used both by ``marketplace.training.data`` (from the database) and by benchmarks (from the
synthetic city), so both train on exactly the same feature and weight definitions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

import numpy as np
import pandas as pd

from recommender.columns import Columns


def article_item_id(article_id: int) -> str:
    """The recommender's item id for an article: the same in training and in the feed, so the
    feed scores an article with what training learned about it, not from its tags alone."""
    return f"article:{article_id}"


# A click says far more than a view: the resident chose to open the article.
KIND_WEIGHTS: Final[Mapping[str, float]] = {"view": 1.0, "click": 3.0}
HALF_LIFE_DAYS: Final = 30.0


def interactions_from_events(
    events: pd.DataFrame,
    now: datetime,
    *,
    half_life_days: float = HALF_LIFE_DAYS,
    kind_weights: Mapping[str, float] = KIND_WEIGHTS,
) -> pd.DataFrame:
    """Aggregate events (user_id, item_id, kind, occurred_at) into weighted interactions.

    Each event weighs ``kind_weights[kind] * 0.5 ** (age_days / half_life_days)`` so that old
    habits fade; weights are summed per (user, item), and the timestamp is the latest event.
    """
    missing = {"user_id", "item_id", "kind", "occurred_at"} - set(events.columns)
    if missing:
        raise ValueError(f"events: missing column {sorted(missing)[0]!r}")
    unknown = set(events["kind"].astype(str).unique()) - set(kind_weights)
    if unknown:
        raise ValueError(f"events: unknown kind {sorted(unknown)[0]!r}")
    when = pd.to_datetime(events["occurred_at"], utc=True)
    when_ns = when.astype("int64").to_numpy()
    age_days = (pd.Timestamp(now).value - when_ns) / 86_400e9
    kind_codes, kind_names = pd.factorize(events["kind"].astype(str))
    per_kind = np.array([kind_weights[str(k)] for k in kind_names], dtype=np.float64)
    weight = per_kind[kind_codes] * np.power(0.5, np.clip(age_days, 0.0, None) / half_life_days)
    # Group on integer codes: much faster than grouping on two string columns at 2M rows.
    user_codes, user_ids = pd.factorize(events["user_id"])
    item_codes, item_ids = pd.factorize(events["item_id"])
    pair = user_codes.astype(np.int64) * len(item_ids) + item_codes
    keys, inverse = np.unique(pair, return_inverse=True)
    total = np.bincount(inverse, weights=weight, minlength=len(keys))
    latest = np.full(len(keys), np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(latest, inverse, when_ns)
    return pd.DataFrame(
        {
            Columns.User: np.asarray(user_ids, dtype=object)[keys // len(item_ids)],
            Columns.Item: np.asarray(item_ids, dtype=object)[keys % len(item_ids)],
            Columns.Weight: total.astype(np.float32),
            Columns.Datetime: pd.to_datetime(latest, utc=True),
        }
    )


def _long(ids: pd.Series, prefix: str, values: pd.Series, id_column: str) -> pd.DataFrame:
    frame = pd.DataFrame({id_column: ids.to_numpy(), "v": values.to_numpy()})
    frame = frame.explode("v") if frame["v"].map(lambda v: isinstance(v, list)).any() else frame
    frame = frame.dropna(subset=["v"])
    frame = frame[frame["v"].astype(str) != ""]
    return pd.DataFrame(
        {id_column: frame[id_column].to_numpy(), Columns.Feature: prefix + frame["v"].astype(str)}
    )


def resident_features(residents: pd.DataFrame, id_column: str = "external_id") -> pd.DataFrame:
    """Long-form user features: age, household, district, opted-in interests and gadgets."""
    ids = residents[id_column]
    parts = [
        _long(ids, "age:", residents["age_band"], Columns.User),
        _long(ids, "household:", residents["household"], Columns.User),
        _long(ids, "district:", residents["district"], Columns.User),
    ]
    for column, prefix in (("interests", "interest:"), ("gadgets", "gadget:")):
        if column in residents.columns:
            parts.append(_long(ids, prefix, residents[column], Columns.User))
    return pd.concat(parts, ignore_index=True).drop_duplicates(ignore_index=True)


def article_features(articles: pd.DataFrame, id_column: str = "external_id") -> pd.DataFrame:
    """Long-form item features of articles: category, tags and a raised priority.

    Articles are the default kind and normal priority the default priority: a feature shared
    by nearly every item carries no information and slows LightFM's training (every update
    touches it), so only the exceptions get a feature (``kind:ad``, ``priority:urgent``).
    """
    ids = articles[id_column]
    raised = articles["priority"].astype(str) != "normal"
    parts = [
        _long(ids, "category:", articles["category"], Columns.Item),
        _long(ids, "tag:", articles["tags"], Columns.Item),
        _long(ids[raised], "priority:", articles["priority"][raised], Columns.Item),
    ]
    return pd.concat(parts, ignore_index=True).drop_duplicates(ignore_index=True)


def ad_features(ads: pd.DataFrame, id_column: str = "item_id") -> pd.DataFrame:
    """Long-form item features of ads (for the ad-delivery feature): shop category and tags.

    Ads share tag and category vocabulary with articles where they overlap, so an ad for a
    childcare shop lands near 子育て articles in the model's space.
    """
    ids = ads[id_column]
    parts = [
        pd.DataFrame({Columns.Item: ids.to_numpy(), Columns.Feature: "kind:ad"}),
        _long(ids, "shop_category:", ads["shop_category"], Columns.Item),
    ]
    if "tags" in ads.columns:
        parts.append(_long(ids, "tag:", ads["tags"], Columns.Item))
    return pd.concat(parts, ignore_index=True).drop_duplicates(ignore_index=True)
