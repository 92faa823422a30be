"""A generated ratings dataset shaped unlike the synthetic city, for checking robustness.

The synthetic city (``marketplace.synthetic``) is sparse, has many user attributes and weighs
clicks and views with a recency decay. ``make_ratings`` draws the opposite shape, like a public
movie-ratings set: dense (each user rates about 6% of the catalogue), two user attributes
(age band and gender), one to three genres per item, plain unweighted rows and no timestamps.
Tastes come from a genre preference driven by the user's attributes plus a personal latent
factor, and item popularity follows a power law, so popularity, segment popularity and
collaborative filtering all have something to find. Nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recommender.columns import Columns

AGE_BANDS = ("under18", "18-24", "25-34", "35-44", "45-49", "50-55", "56+")
GENDERS = ("F", "M")
N_GENRES = 18


@dataclass(frozen=True)
class SampleData:
    """Train/test interactions and long-form features, as ``recommender evaluate`` reads them."""

    train: pd.DataFrame  # user_id, item_id (plain rows, no weight, no timestamp)
    test: pd.DataFrame  # user_id, item_id: held out per warm user, everything of cold users
    user_features: pd.DataFrame  # user_id, feature (age:…, gender:…)
    item_features: pd.DataFrame  # item_id, feature (genre:…)
    cold_users: np.ndarray  # users with no training rows at all


def make_ratings(
    n_users: int = 1_000,
    n_items: int = 1_700,
    *,
    mean_ratings: float = 100.0,
    test_share: float = 0.2,
    cold_share: float = 0.1,
    seed: int = 0,
) -> SampleData:
    """Draw a dense, plain, few-feature dataset (see the module docstring)."""
    rng = np.random.default_rng(seed)
    age = rng.integers(0, len(AGE_BANDS), n_users)
    gender = rng.integers(0, len(GENDERS), n_users)
    # Item genres: a primary genre plus up to two more, popular genres more common.
    genre_weight = rng.dirichlet(np.full(N_GENRES, 0.8))
    genres = np.zeros((n_items, N_GENRES), dtype=bool)
    for item in range(n_items):
        count = rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15])
        genres[item, rng.choice(N_GENRES, size=count, replace=False, p=genre_weight)] = True
    # Segment taste: each (age band, gender) leans towards a few genres.
    segment_taste = rng.normal(0.0, 0.7, (len(AGE_BANDS), len(GENDERS), N_GENRES))
    personal_taste = rng.normal(0.0, 0.6, (n_users, N_GENRES))
    genre_affinity = segment_taste[age, gender] + personal_taste
    latent_user = rng.normal(0.0, 1.0, (n_users, 8))
    latent_item = rng.normal(0.0, 1.0, (n_items, 8))
    popularity = np.log(1.0 / np.arange(1, n_items + 1) ** 0.9)[rng.permutation(n_items)]
    genre_score = (genre_affinity @ genres.T.astype(float)) / genres.sum(axis=1)
    logits = genre_score + 1.5 * latent_user @ latent_item.T / np.sqrt(8) + popularity
    counts = np.clip(rng.lognormal(np.log(mean_ratings) - 0.5, 1.0, n_users), 20, n_items // 3)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for user in range(n_users):
        p = np.exp(logits[user] - logits[user].max())
        picked = rng.choice(n_items, size=int(counts[user]), replace=False, p=p / p.sum())
        rows.append(np.full(len(picked), user))
        cols.append(picked)
    user_idx, item_idx = np.concatenate(rows), np.concatenate(cols)
    user_ids = np.array([f"u{u:05d}" for u in range(n_users)], dtype=object)
    item_ids = np.array([f"i{i:05d}" for i in range(n_items)], dtype=object)

    cold = rng.random(n_users) < cold_share
    held = rng.random(len(user_idx)) < test_share
    in_test = cold[user_idx] | held
    pairs = pd.DataFrame({Columns.User: user_ids[user_idx], Columns.Item: item_ids[item_idx]})
    users = pd.DataFrame(
        {
            Columns.User: np.repeat(user_ids, 2),
            Columns.Feature: np.ravel(
                np.column_stack(
                    [
                        [f"age:{AGE_BANDS[a]}" for a in age],
                        [f"gender:{GENDERS[g]}" for g in gender],
                    ]
                )
            ),
        }
    )
    item_rows, genre_cols = np.nonzero(genres)
    items = pd.DataFrame(
        {
            Columns.Item: item_ids[item_rows],
            Columns.Feature: [f"genre:{g:02d}" for g in genre_cols],
        }
    )
    return SampleData(
        train=pairs[~in_test].reset_index(drop=True),
        test=pairs[in_test].reset_index(drop=True),
        user_features=users,
        item_features=items,
        cold_users=user_ids[cold],
    )
