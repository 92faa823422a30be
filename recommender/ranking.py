"""Top-k selection over score matrices, shared by the models, evaluation and serving."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def mask_rows(scores: np.ndarray, excluded: sp.csr_matrix | None) -> np.ndarray:
    """Set the excluded (row, item) cells to -inf in place and return ``scores``."""
    if excluded is not None and excluded.nnz:
        coo = excluded.tocoo()
        scores[coo.row, coo.col] = -np.inf
    return scores


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the k best columns per row, best first.

    Cells at -inf are never returned: a row with fewer eligible items gets -1 indices (and -inf
    scores) in the tail, which callers drop.
    """
    n_rows, n_cols = scores.shape
    k = min(k, n_cols)
    if k <= 0:
        return np.zeros((n_rows, 0), np.int64), np.zeros((n_rows, 0), scores.dtype)
    if k < n_cols:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        part = np.tile(np.arange(n_cols), (n_rows, 1))
    part_scores = np.take_along_axis(scores, part, axis=1)
    # Stable sort on -score, then item index, so ties break the same way every time.
    order = np.lexsort((part, -part_scores), axis=1)
    idx = np.take_along_axis(part, order, axis=1)
    best = np.take_along_axis(part_scores, order, axis=1)
    idx = np.where(np.isneginf(best), -1, idx)
    return idx, best
