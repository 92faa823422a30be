import numpy as np
import pytest

from marketplace.delivery.ranking import top_indices


def by_sorting(row: np.ndarray, k: int) -> list[int]:
    return sorted(range(len(row)), key=lambda i: (-row[i], i))[:k]


@pytest.mark.parametrize("k", [1, 3, 10, 40, 41, 60])
def test_each_row_is_its_k_best_columns_best_first_ties_by_column(k: int) -> None:
    rng = np.random.default_rng(k)
    # Few distinct values, so ties are everywhere, including at the k-th place.
    scores = rng.integers(0, 5, size=(200, 41)).astype(float)
    top = top_indices(scores, k)
    assert top.shape == (200, min(k, 41))
    for row, chosen in zip(scores, top, strict=True):
        assert chosen.tolist() == by_sorting(row, k)


def test_no_columns_or_no_rows_give_empty_rankings() -> None:
    assert top_indices(np.zeros((3, 0)), 5).shape == (3, 0)
    assert top_indices(np.zeros((0, 7)), 5).shape == (0, 5)
