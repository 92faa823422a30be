from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.money import MoneyError, allocate, check_yen, cumulative_share, proportional


def test_allocate_spreads_the_remainder_to_the_largest_fractions() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(10, [3, 7]) == [3, 7]
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]


@given(
    st.integers(min_value=-10_000_000, max_value=10_000_000),
    st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=20).filter(any),
)
def test_allocate_never_loses_or_invents_a_yen(amount: int, weights: list[int]) -> None:
    parts = allocate(amount, weights)
    assert sum(parts) == amount
    total = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert abs(part - Fraction(amount * weight, total)) < 1


def test_invalid_amounts_are_refused() -> None:
    with pytest.raises(MoneyError):
        check_yen(1.5)
    with pytest.raises(MoneyError):
        check_yen(True)
    with pytest.raises(MoneyError):
        check_yen(-1)
    with pytest.raises(MoneyError):
        proportional(100, 3, 2)
    with pytest.raises(MoneyError):
        allocate(1, [0, 0])


@given(st.integers(0, 1_000_000), st.integers(1, 400), st.data())
def test_cumulative_shares_are_monotone_and_end_at_the_amount(
    amount: int, total: int, data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, total))
    assert 0 <= cumulative_share(amount, cut, total) <= amount
    assert cumulative_share(amount, cut, total) <= cumulative_share(
        amount, min(cut + 1, total), total
    )
    assert cumulative_share(amount, total, total) == amount
