"""Integer-yen arithmetic: proportional shares and splits that never lose or invent a yen."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction


class MoneyError(ValueError):
    """An amount is not a valid yen amount for the operation."""


def check_yen(amount: object, *, field: str = "amount", allow_negative: bool = False) -> int:
    """Validate that `amount` is an integer number of yen (bool and float refused)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise MoneyError(f"{field}: yen amounts are integers, got {amount!r}")
    if amount < 0 and not allow_negative:
        raise MoneyError(f"{field}: must not be negative, got {amount}")
    return amount


def proportional(amount: int, numerator: int, denominator: int) -> int:
    """`amount × numerator / denominator`, rounded down (a refund never rounds in our favour
    beyond one yen, and never exceeds `amount`)."""
    check_yen(amount)
    if denominator <= 0 or numerator < 0 or numerator > denominator:
        raise MoneyError(f"share {numerator}/{denominator} is not between 0 and 1")
    return amount * numerator // denominator


def allocate(amount: int, weights: Sequence[int | Fraction]) -> list[int]:
    """Split `amount` across `weights` by the largest-remainder method.

    The parts sum exactly to `amount`; ties go to the earlier weight so the result is stable.
    """
    check_yen(amount, allow_negative=True)
    if not weights:
        raise MoneyError("cannot allocate over no weights")
    if any(w < 0 for w in weights):
        raise MoneyError("weights must not be negative")
    # Integer arithmetic throughout: scale fractional weights to a common denominator.
    scale = math.lcm(*(Fraction(w).denominator for w in weights))
    integer_weights = [int(Fraction(w) * scale) for w in weights]
    total = sum(integer_weights)
    if total == 0:
        raise MoneyError("weights sum to zero")
    sign = -1 if amount < 0 else 1
    magnitude = abs(amount)
    parts = [magnitude * w // total for w in integer_weights]
    remainders = [magnitude * w % total for w in integer_weights]
    short = magnitude - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for index in order[:short]:
        parts[index] += 1
    return [sign * part for part in parts]


def cumulative_share(amount: int, elapsed: int, total: int) -> int:
    """Straight-line amount earned after `elapsed` of `total` units, rounded down.

    Differences of consecutive cumulative shares give per-period amounts that always sum to
    `amount` at the end, whatever the period boundaries are.
    """
    if total <= 0:
        raise MoneyError("total units must be positive")
    elapsed = max(0, min(elapsed, total))
    if amount >= 0:
        return amount * elapsed // total
    return -((-amount) * elapsed // total)
