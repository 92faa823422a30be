"""The hidden preference model's fixed tables: how attributes shift interest in each category.

Values are additive logits. They encode plausible tendencies of a regional Japanese city, e.g.
households with small children care about 子育て, residents over 70 about 健康・医療 and 除雪.
They are inputs to the synthetic city only; the recommender never sees them.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from marketplace.vocab import ARTICLE_CATEGORIES, DISTRICTS, SHOP_CATEGORIES, AgeBand, Household

AGE_BANDS: Final[tuple[str, ...]] = tuple(band.value for band in AgeBand)
HOUSEHOLDS: Final[tuple[str, ...]] = tuple(h.value for h in Household)
DISTRICT_KEYS: Final[tuple[str, ...]] = tuple(DISTRICTS)
CATEGORIES: Final[tuple[str, ...]] = ARTICLE_CATEGORIES

# Share of each age band among portal residents. Aizu-Wakamatsu is older than Japan's average:
# roughly a third of residents are 65 or over, so 70+ is the largest band.
AGE_SHARES: Final[dict[str, float]] = {
    "0-19": 0.13,
    "20-29": 0.09,
    "30-39": 0.10,
    "40-49": 0.13,
    "50-59": 0.13,
    "60-69": 0.15,
    "70+": 0.27,
}

# P(household | age band); rows sum to 1, columns follow HOUSEHOLDS.
HOUSEHOLD_GIVEN_AGE: Final[dict[str, tuple[float, ...]]] = {
    #          single couple young school three elderly
    "0-19": (0.10, 0.00, 0.15, 0.53, 0.22, 0.00),
    "20-29": (0.50, 0.18, 0.20, 0.02, 0.10, 0.00),
    "30-39": (0.22, 0.13, 0.40, 0.15, 0.10, 0.00),
    "40-49": (0.16, 0.12, 0.10, 0.45, 0.17, 0.00),
    "50-59": (0.18, 0.32, 0.02, 0.18, 0.25, 0.05),
    "60-69": (0.15, 0.25, 0.00, 0.02, 0.23, 0.35),
    "70+": (0.20, 0.05, 0.00, 0.00, 0.20, 0.55),
}

# Central districts are larger than the rural ones on the city's edge.
DISTRICT_WEIGHTS: Final[dict[str, float]] = {
    "tsuruga": 10,
    "nisshin": 9,
    "wakamatsu-daiichi": 9,
    "wakamatsu-daini": 8,
    "wakamatsu-daisan": 8,
    "wakamatsu-daiyon": 7,
    "wakamatsu-daigo": 7,
    "kita-aizu": 5,
    "kawahigashi": 4,
    "minato": 2,
    "ohto": 1,
    "higashiyama": 3,
    "ikki": 9,
    "monden": 8,
    "takada": 5,
}
SNOWY_DISTRICTS: Final[frozenset[str]] = frozenset(
    {"ohto", "higashiyama", "kawahigashi", "minato", "kita-aizu"}
)
CENTRAL_DISTRICTS: Final[frozenset[str]] = frozenset(
    {"tsuruga", "wakamatsu-daiichi", "wakamatsu-daini"}
)

BASE_AFFINITY: Final[dict[str, float]] = {
    "子育て": -1.2,
    "健康・医療": 0.0,
    "除雪": 0.1,
    "防災": 0.3,
    "観光": -0.3,
    "イベント": 0.3,
    "学校": -1.2,
    "ごみ・環境": 0.4,
    "行政手続き": 0.2,
    "福祉・介護": -0.6,
    "スポーツ・文化": 0.0,
}

AGE_AFFINITY: Final[dict[str, dict[str, float]]] = {
    "0-19": {"イベント": 0.5, "スポーツ・文化": 0.9, "学校": 0.8, "健康・医療": -0.6,
             "福祉・介護": -0.6, "行政手続き": -0.6, "除雪": -0.5},
    "20-29": {"イベント": 0.6, "観光": 0.5, "スポーツ・文化": 0.4, "行政手続き": 0.3,
              "健康・医療": -0.4, "福祉・介護": -0.6},
    "30-39": {"子育て": 0.6, "イベント": 0.3},
    "40-49": {"学校": 0.4, "子育て": 0.2},
    "50-59": {"福祉・介護": 0.5, "健康・医療": 0.3},
    "60-69": {"健康・医療": 0.7, "福祉・介護": 0.6, "除雪": 0.5, "スポーツ・文化": -0.2},
    "70+": {"健康・医療": 1.3, "除雪": 1.2, "福祉・介護": 1.0, "防災": 0.3, "イベント": -0.3,
            "スポーツ・文化": -0.5, "観光": -0.3},
}  # fmt: skip

HOUSEHOLD_AFFINITY: Final[dict[str, dict[str, float]]] = {
    "single": {"行政手続き": 0.2, "イベント": 0.2},
    "couple": {"観光": 0.3},
    "young_children": {"子育て": 2.4, "健康・医療": 0.4, "学校": 0.3},
    "school_children": {"学校": 2.2, "子育て": 0.6, "スポーツ・文化": 0.5},
    "three_generation": {"子育て": 0.6, "学校": 0.6, "福祉・介護": 0.4, "除雪": 0.3},
    "elderly_only": {"福祉・介護": 0.8, "健康・医療": 0.5, "除雪": 0.6},
}

# How strongly an ad of each shop category speaks to each article category's audience.
SHOP_CATEGORY_MIX: Final[dict[str, dict[str, float]]] = {
    "restaurant": {"観光": 0.5, "イベント": 0.5},
    "sake-brewery": {"観光": 0.6, "イベント": 0.4},
    "confectionery": {"観光": 0.6, "イベント": 0.3, "子育て": 0.1},
    "lacquerware": {"観光": 0.7, "スポーツ・文化": 0.3},
    "retail": {"ごみ・環境": 0.3, "イベント": 0.4, "行政手続き": 0.3},
    "beauty": {"イベント": 0.5, "スポーツ・文化": 0.3, "健康・医療": 0.2},
    "clinic": {"健康・医療": 0.8, "福祉・介護": 0.2},
    "childcare": {"子育て": 0.8, "学校": 0.2},
    "education": {"学校": 0.8, "子育て": 0.2},
    "real-estate": {"行政手続き": 0.6, "子育て": 0.2, "防災": 0.2},
    "auto": {"除雪": 0.4, "防災": 0.3, "行政手続き": 0.3},
    "construction": {"除雪": 0.4, "防災": 0.4, "福祉・介護": 0.2},
    "hotel": {"観光": 0.9, "イベント": 0.1},
    "services": {"福祉・介護": 0.4, "ごみ・環境": 0.3, "除雪": 0.3},
    "agriculture": {"健康・医療": 0.4, "イベント": 0.3, "観光": 0.3},
}
assert set(SHOP_CATEGORY_MIX) == set(SHOP_CATEGORIES)


def _table(rows: tuple[str, ...], deltas: dict[str, dict[str, float]]) -> np.ndarray:
    out = np.zeros((len(rows), len(CATEGORIES)), dtype=np.float32)
    for i, row in enumerate(rows):
        for category, value in deltas.get(row, {}).items():
            out[i, CATEGORIES.index(category)] = value
    return out


def base_vector() -> np.ndarray:
    return np.array([BASE_AFFINITY[c] for c in CATEGORIES], dtype=np.float32)


def age_table() -> np.ndarray:
    return _table(AGE_BANDS, AGE_AFFINITY)


def household_table() -> np.ndarray:
    return _table(HOUSEHOLDS, HOUSEHOLD_AFFINITY)


def district_table() -> np.ndarray:
    deltas: dict[str, dict[str, float]] = {}
    for key in DISTRICT_KEYS:
        delta: dict[str, float] = {}
        if key in SNOWY_DISTRICTS:
            delta["除雪"] = 0.6
        if key in CENTRAL_DISTRICTS:
            delta.update({"観光": 0.3, "イベント": 0.2})
        deltas[key] = delta
    return _table(DISTRICT_KEYS, deltas)


def shop_mix_table() -> tuple[tuple[str, ...], np.ndarray]:
    keys = tuple(SHOP_CATEGORIES)
    return keys, _table(keys, SHOP_CATEGORY_MIX)
