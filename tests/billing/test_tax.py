from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.tax import (
    RoundingMode,
    TaxError,
    TaxLine,
    round_fraction,
    split_tax_included,
    tax_included_in,
)


def test_tax_inside_a_tax_included_price() -> None:
    # ¥11,000 including 10% is ¥10,000 + ¥1,000.
    assert tax_included_in(11_000, 10, RoundingMode.FLOOR) == 1_000
    # ¥8,800 → 800 exactly; ¥7,700 → 700.
    assert tax_included_in(8_800, 10, RoundingMode.HALF_UP) == 800
    # ¥1,005 × 10/110 = 91.36…
    assert tax_included_in(1_005, 10, RoundingMode.FLOOR) == 91
    assert tax_included_in(1_005, 10, RoundingMode.CEIL) == 92
    assert tax_included_in(1_005, 10, RoundingMode.HALF_UP) == 91
    # ¥1,001 × 8/108 = 74.148…; ¥1,013 × 8/108 = 75.037…
    assert tax_included_in(1_013, 8, RoundingMode.HALF_UP) == 75


def test_half_up_rounds_exact_halves_up() -> None:
    assert round_fraction(5, 2, RoundingMode.HALF_UP) == 3
    assert round_fraction(3, 2, RoundingMode.FLOOR) == 1
    assert round_fraction(3, 2, RoundingMode.CEIL) == 2


def test_tax_is_rounded_once_per_invoice_not_per_line() -> None:
    # Three lines of ¥105: per line floor(9.545…) = 9 each, 27 in all; once: floor(28.63…) = 28.
    lines = [TaxLine(105)] * 3
    breakdown = split_tax_included(lines, RoundingMode.FLOOR)
    assert breakdown.tax == 28
    assert breakdown.taxable == 315 - 28
    assert sum(tax_included_in(105, 10, RoundingMode.FLOOR) for _ in lines) == 27


def test_rates_are_kept_apart() -> None:
    breakdown = split_tax_included([TaxLine(1_100, 10), TaxLine(1_080, 8)], RoundingMode.FLOOR)
    assert [(r.rate_percent, r.total, r.taxable, r.tax) for r in breakdown.rates] == [
        (10, 1_100, 1_000, 100),
        (8, 1_080, 1_000, 80),
    ]


def test_unknown_rates_are_refused() -> None:
    with pytest.raises(TaxError, match="5%"):
        split_tax_included([TaxLine(100, 5)], RoundingMode.FLOOR)


@given(
    st.lists(
        st.tuples(st.integers(0, 2_000_000), st.sampled_from([8, 10])), min_size=1, max_size=30
    ),
    st.sampled_from(list(RoundingMode)),
)
def test_split_properties(lines: list[tuple[int, int]], mode: RoundingMode) -> None:
    breakdown = split_tax_included([TaxLine(a, r) for a, r in lines], mode)
    assert breakdown.total == sum(a for a, _ in lines)
    assert breakdown.taxable + breakdown.tax == breakdown.total
    for rate in breakdown.rates:
        exact = Fraction(rate.total * rate.rate_percent, 100 + rate.rate_percent)
        # Rounded once: within one yen of the exact tax, in the direction the mode says.
        assert abs(rate.tax - exact) < 1
        if mode is RoundingMode.FLOOR:
            assert rate.tax <= exact
        elif mode is RoundingMode.CEIL:
            assert rate.tax >= exact
        else:
            assert abs(rate.tax - exact) <= Fraction(1, 2)
        assert rate.total == sum(a for a, r in lines if r == rate.rate_percent)
