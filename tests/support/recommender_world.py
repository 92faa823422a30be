"""The recommender's small world, and two new residents it has never seen.

Two audiences: families read 子育て items (i00-i09), seniors read 健康 items (i10-i19). Each
user also has a personal favourite inside their audience's block.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def small_world(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(interactions, user features, item features) of 60 users and 20 items."""
    rng = np.random.default_rng(seed)
    rows, user_rows = [], []
    for u in range(60):
        family = u % 2 == 0
        user = f"u{u:02d}"
        user_rows += [
            (user, "age:30-39" if family else "age:70+"),
            (user, "household:young_children" if family else "household:elderly_only"),
        ]
        block = range(0, 10) if family else range(10, 20)
        for item in rng.choice(list(block), size=5, replace=False):
            rows.append((user, f"i{item:02d}", float(rng.integers(1, 4))))
    interactions = pd.DataFrame(rows, columns=["user_id", "item_id", "weight"])
    user_features = pd.DataFrame(user_rows, columns=["user_id", "feature"])
    item_features = pd.DataFrame(
        [(f"i{i:02d}", "category:子育て" if i < 10 else "category:健康・医療") for i in range(20)]
        + [(f"i{i:02d}", f"tag:t{i % 5}") for i in range(20)],
        columns=["item_id", "feature"],
    )
    return interactions, user_features, item_features


COLD_FAMILY = pd.DataFrame(
    {"user_id": ["new-family"] * 2, "feature": ["age:30-39", "household:young_children"]}
)
COLD_SENIOR = pd.DataFrame(
    {"user_id": ["new-senior"] * 2, "feature": ["age:70+", "household:elderly_only"]}
)
