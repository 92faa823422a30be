"""The top articles of many residents at once, in the order a feed shows them."""

from __future__ import annotations

import numpy as np


def top_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Per row of `scores`, the columns of the `k` highest scores, best first.

    Ties keep the lower column first (the snapshot lists articles newest first), so a ranking
    never changes between two requests with the same scores.
    """
    # A stable sort, not a partition: a partition picks among articles tied at the k-th place
    # arbitrarily, so the same scores could give different feeds.
    return np.argsort(-scores, axis=1, kind="stable")[:, : max(0, k)]
