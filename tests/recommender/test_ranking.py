from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.ranking import mask_rows, top_k


def test_top_k_orders_by_score_and_breaks_ties_by_position() -> None:
    scores = np.array([[0.1, 0.5, 0.5, 0.2], [3.0, 2.0, 1.0, 0.0]])
    idx, best = top_k(scores, 3)
    np.testing.assert_array_equal(idx, [[1, 2, 3], [0, 1, 2]])
    np.testing.assert_allclose(best, [[0.5, 0.5, 0.2], [3.0, 2.0, 1.0]])


def test_excluded_cells_are_never_returned() -> None:
    scores = np.array([[1.0, 2.0, 3.0]])
    mask_rows(scores, sp.csr_matrix(np.array([[0, 1, 1]])))
    idx, _ = top_k(scores, 3)
    np.testing.assert_array_equal(idx, [[0, -1, -1]])
    assert top_k(scores, 0)[0].shape == (1, 0)
    assert top_k(scores, 10)[0].shape == (1, 3)
