"""Ratios that are never NaN: a ratio with nothing to divide by is None, shown as "—"."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


def ratio(numerator: int, denominator: int) -> float | None:
    return None if denominator <= 0 else numerator / denominator


def ratio_column(
    numerators: Iterable[object], denominators: Iterable[object], index: pd.Index | None = None
) -> pd.Series:
    """An object column of floats and None (pandas would turn None into NaN in a float column)."""
    values = [
        ratio(int(n), int(d))  # type: ignore[call-overload]
        for n, d in zip(numerators, denominators, strict=True)
    ]
    return pd.Series(values, dtype=object, index=index)
