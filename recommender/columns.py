"""Column names used by every DataFrame the recommender takes or returns."""

from __future__ import annotations

from typing import Final


class Columns:
    User: Final = "user_id"
    Item: Final = "item_id"
    Weight: Final = "weight"
    Datetime: Final = "timestamp"
    Feature: Final = "feature"
    Value: Final = "value"
    Score: Final = "score"
    Rank: Final = "rank"

    Interactions: Final = (User, Item)
    Recommendations: Final = (User, Item, Score, Rank)
