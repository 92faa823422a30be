"""Synthetic residents: profile attributes and their hidden category affinities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from marketplace.synthetic import affinity as tables
from marketplace.vocab import GADGETS

LATENT_DIM = 8
PERSONAL_NOISE = 0.6  # std of a resident's own deviation from their segment, per category
INTEREST_BOOST = 0.3  # residents who opt in to a category care a little more than they show
CONSENT_RATE = 0.86
ENGLISH_RATE = 0.02
# Probability of opting in to 0, 1, 2 or 3 interests at registration.
N_INTERESTS_P = (0.35, 0.30, 0.20, 0.15)


@dataclass(frozen=True)
class Population:
    frame: pd.DataFrame
    age_idx: np.ndarray
    household_idx: np.ndarray
    district_idx: np.ndarray
    affinity: np.ndarray  # (n, categories) float32
    taste: np.ndarray  # (n, LATENT_DIM) float32


def _choice(rng: np.random.Generator, n: int, weights: np.ndarray) -> np.ndarray:
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _household_given_age(rng: np.random.Generator, age_idx: np.ndarray) -> np.ndarray:
    table = np.array([tables.HOUSEHOLD_GIVEN_AGE[a] for a in tables.AGE_BANDS], dtype=np.float64)
    cdf = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(age_idx.shape[0])
    # Inverse CDF row by row, vectorised: count the thresholds each draw is past.
    out = (u[:, None] > cdf[age_idx]).sum(axis=1)  # type: ignore[index]
    return np.minimum(out, table.shape[1] - 1)


def _top_m(rng: np.random.Generator, logits: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Boolean mask of m[i] distinct columns per row, drawn tilted by logits (Gumbel top-k)."""
    keys = logits + rng.gumbel(size=logits.shape)
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    return rank < m[:, None]


def _lists(mask: np.ndarray, names: tuple[str, ...]) -> list[list[str]]:
    # Few distinct rows exist, so build each list once and share it between equal rows' copies.
    codes = mask.astype(np.int64) @ (1 << np.arange(mask.shape[1]))
    table = {
        int(code): [names[j] for j in range(mask.shape[1]) if code >> j & 1]
        for code in np.unique(codes)
    }
    return [list(table[int(code)]) for code in codes]


def _gadgets(
    rng: np.random.Generator, affinity: np.ndarray, household_idx: np.ndarray
) -> list[list[str]]:
    snow = tables.CATEGORIES.index("除雪")
    households = tables.HOUSEHOLDS
    young = household_idx == households.index("young_children")
    school = household_idx == households.index("school_children")
    three = household_idx == households.index("three_generation")
    p_snow = 1.0 / (1.0 + np.exp(-1.5 * (affinity[:, snow] - 1.0)))
    p_maternal = np.where(young, 0.6, np.where(three, 0.08, 0.01))
    p_school = np.where(school, 0.7, np.where(three, 0.3, 0.01))
    keys = tuple(GADGETS)  # snow-plough, maternal-health, aizukko-plus
    has = rng.random((affinity.shape[0], 3)) < np.stack([p_snow, p_maternal, p_school], axis=1)
    return _lists(has, keys)


def generate_population(rng: np.random.Generator, n: int) -> Population:
    age_idx = _choice(rng, n, np.array([tables.AGE_SHARES[a] for a in tables.AGE_BANDS]))
    household_idx = _household_given_age(rng, age_idx)
    district_idx = _choice(
        rng, n, np.array([tables.DISTRICT_WEIGHTS[d] for d in tables.DISTRICT_KEYS])
    )
    affinity = (
        tables.base_vector()[None, :]
        + tables.age_table()[age_idx]
        + tables.household_table()[household_idx]
        + tables.district_table()[district_idx]
        + rng.normal(0.0, PERSONAL_NOISE, size=(n, len(tables.CATEGORIES))).astype(np.float32)
    ).astype(np.float32)
    n_interests = rng.choice(len(N_INTERESTS_P), size=n, p=N_INTERESTS_P)
    interest_mask = _top_m(rng, 1.5 * affinity, n_interests)
    affinity += INTEREST_BOOST * interest_mask
    taste = rng.normal(0.0, 0.5, size=(n, LATENT_DIM)).astype(np.float32)
    gadgets = _gadgets(rng, affinity, household_idx)
    language = np.where(rng.random(n) < ENGLISH_RATE, "en", "ja")
    consent = rng.random(n) < CONSENT_RATE
    frame = pd.DataFrame(
        {
            "external_id": [f"resident-{i:06d}" for i in range(1, n + 1)],
            "age_band": np.array(tables.AGE_BANDS, dtype=object)[age_idx],
            "household": np.array(tables.HOUSEHOLDS, dtype=object)[household_idx],
            "district": np.array(tables.DISTRICT_KEYS, dtype=object)[district_idx],
            "language": language.astype(object),
            "interests": _lists(interest_mask, tables.CATEGORIES),
            "gadgets": gadgets,
            "personalization_consent": consent,
        }
    )
    return Population(frame, age_idx, household_idx, district_idx, affinity, taste)
