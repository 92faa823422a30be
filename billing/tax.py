"""Consumption tax on tax-included prices, computed once per invoice per rate.

Japan's qualified-invoice rules allow rounding down, up or half up, but only once per invoice
and tax rate: summing tax rounded line by line is not allowed. Prices on the rate card include
tax, so the tax inside a total `T` at rate `r%` is `T × r / (100 + r)`, rounded once.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from billing.money import check_yen

STANDARD_RATE = 10
REDUCED_RATE = 8
ALLOWED_RATES = frozenset({STANDARD_RATE, REDUCED_RATE})


class RoundingMode(enum.StrEnum):
    FLOOR = "floor"
    CEIL = "ceil"
    HALF_UP = "half_up"


class TaxError(ValueError):
    """A tax rate or amount is not acceptable."""


def round_fraction(numerator: int, denominator: int, mode: RoundingMode) -> int:
    """Round the non-negative rational numerator/denominator to an integer."""
    if numerator < 0 or denominator <= 0:
        raise TaxError("round_fraction takes a non-negative numerator and positive denominator")
    if mode is RoundingMode.FLOOR:
        return numerator // denominator
    if mode is RoundingMode.CEIL:
        return -(-numerator // denominator)
    return (2 * numerator + denominator) // (2 * denominator)


def tax_included_in(total: int, rate_percent: int, mode: RoundingMode) -> int:
    """The tax contained in a tax-included `total` at `rate_percent`, rounded once."""
    check_yen(total, field="total")
    if rate_percent not in ALLOWED_RATES:
        raise TaxError(f"unsupported consumption tax rate {rate_percent}%")
    return round_fraction(total * rate_percent, 100 + rate_percent, mode)


@dataclass(frozen=True)
class TaxLine:
    """One line's tax-included amount and its rate; lines carry no tax of their own."""

    amount: int
    rate_percent: int = STANDARD_RATE


@dataclass(frozen=True)
class RateTotal:
    rate_percent: int
    total: int  # tax included
    taxable: int  # tax excluded
    tax: int


@dataclass(frozen=True)
class TaxBreakdown:
    rates: tuple[RateTotal, ...]

    @property
    def total(self) -> int:
        return sum(rate.total for rate in self.rates)

    @property
    def taxable(self) -> int:
        return sum(rate.taxable for rate in self.rates)

    @property
    def tax(self) -> int:
        return sum(rate.tax for rate in self.rates)


def split_tax_included(lines: Iterable[TaxLine], mode: RoundingMode) -> TaxBreakdown:
    """Group lines by rate, sum the tax-included amounts, and round the tax once per rate."""
    totals: dict[int, int] = defaultdict(int)
    for line in lines:
        check_yen(line.amount, field="line amount")
        if line.rate_percent not in ALLOWED_RATES:
            raise TaxError(f"unsupported consumption tax rate {line.rate_percent}%")
        totals[line.rate_percent] += line.amount
    rates = []
    for rate in sorted(totals, reverse=True):
        total = totals[rate]
        tax = tax_included_in(total, rate, mode)
        rates.append(RateTotal(rate_percent=rate, total=total, taxable=total - tax, tax=tax))
    return TaxBreakdown(tuple(rates))
