"""The rate card as a pure function: shares × weeks × unit price, term discount, targeting
surcharge, and the consumption tax contained in the tax-included total.

All prices are integer yen, tax included (税込), as municipal rate cards publish them.
Rounding: the discount and the surcharge are rounded down, in the advertiser's favour; the tax
inside a tax-included total is `floor(total × rate / (100 + rate))`, once per booking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from marketplace.errors import InvalidInput

CONSUMPTION_TAX_PERCENT: Final = 10
# Weeks are the unit of sale; months on the published card map to whole weeks.
WEEKS_PER_MONTH_THRESHOLD: Final = {3: 13, 6: 26}
TARGETING_DIMENSIONS: Final = ("age_bands", "households", "districts", "interests")
MAX_WEEKS: Final = 52
MAX_PERCENT: Final = 90


@dataclass(frozen=True)
class TermDiscount:
    min_weeks: int
    percent: int


@dataclass(frozen=True)
class RateCard:
    in_city_price_yen: int
    out_of_city_price_yen: int
    term_discounts: tuple[TermDiscount, ...] = ()
    targeting_surcharges: Mapping[str, int] | None = None

    def __post_init__(self) -> None:
        if self.in_city_price_yen < 0 or self.out_of_city_price_yen < 0:
            raise InvalidInput("価格は0円以上にしてください", field="price_per_share_week_yen")
        for tier in self.term_discounts:
            if tier.min_weeks < 1 or not 0 <= tier.percent <= MAX_PERCENT:
                raise InvalidInput(
                    "期間割引は1週以上・0〜{max}%で指定してください",
                    field="term_discounts",
                    max=MAX_PERCENT,
                )
        for dimension, percent in (self.targeting_surcharges or {}).items():
            if dimension not in TARGETING_DIMENSIONS or not 0 <= percent <= MAX_PERCENT:
                raise InvalidInput(
                    "ターゲティング加算の指定が正しくありません: {dimension}",
                    field="targeting_surcharges",
                    dimension=dimension,
                )

    @classmethod
    def from_columns(
        cls,
        in_city_price_yen: int,
        out_of_city_price_yen: int,
        term_discounts: Iterable[Mapping[str, Any]],
        targeting_surcharges: Mapping[str, Any],
    ) -> RateCard:
        return cls(
            in_city_price_yen,
            out_of_city_price_yen,
            tuple(TermDiscount(int(t["min_weeks"]), int(t["percent"])) for t in term_discounts),
            {str(k): int(v) for k, v in targeting_surcharges.items()},
        )

    def discount_percent(self, weeks: int) -> int:
        """The percent of the highest term threshold that `weeks` reaches (0 below all)."""
        reached = [tier for tier in self.term_discounts if weeks >= tier.min_weeks]
        return max(reached, key=lambda tier: tier.min_weeks).percent if reached else 0

    def surcharge_percent(self, targeted_dimensions: Iterable[str]) -> int:
        surcharges = self.targeting_surcharges or {}
        return sum(surcharges.get(dimension, 0) for dimension in set(targeted_dimensions))


@dataclass(frozen=True)
class Quote:
    in_city: bool
    unit_price_yen: int
    shares: int
    weeks: int
    list_price_yen: int
    discount_percent: int
    discount_yen: int
    surcharge_percent: int
    surcharge_yen: int
    total_yen: int
    tax_yen: int

    @property
    def net_yen(self) -> int:
        """The total without consumption tax (税抜)."""
        return self.total_yen - self.tax_yen


def tax_included_in(total_yen: int, rate_percent: int = CONSUMPTION_TAX_PERCENT) -> int:
    """Consumption tax contained in a tax-included amount, rounded down (内税)."""
    if total_yen < 0:
        raise ValueError("amount must not be negative")
    return total_yen * rate_percent // (100 + rate_percent)


def price_booking(
    card: RateCard,
    *,
    shares: int,
    weeks: int,
    in_city: bool,
    targeted_dimensions: Iterable[str] = (),
) -> Quote:
    """Price `shares` rotation shares for `weeks` consecutive weeks."""
    if shares < 1:
        raise InvalidInput("枠数は1以上にしてください", field="shares")
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInput("期間は1〜{max}週で指定してください", field="weeks", max=MAX_WEEKS)
    unit = card.in_city_price_yen if in_city else card.out_of_city_price_yen
    list_price = unit * shares * weeks
    discount_percent = card.discount_percent(weeks)
    discount = list_price * discount_percent // 100
    surcharge_percent = card.surcharge_percent(targeted_dimensions)
    surcharge = (list_price - discount) * surcharge_percent // 100
    total = list_price - discount + surcharge
    return Quote(
        in_city=in_city,
        unit_price_yen=unit,
        shares=shares,
        weeks=weeks,
        list_price_yen=list_price,
        discount_percent=discount_percent,
        discount_yen=discount,
        surcharge_percent=surcharge_percent,
        surcharge_yen=surcharge,
        total_yen=total,
        tax_yen=tax_included_in(total),
    )


DEFAULT_TERM_DISCOUNTS: Final = (
    {"min_weeks": WEEKS_PER_MONTH_THRESHOLD[3], "percent": 20},
    {"min_weeks": WEEKS_PER_MONTH_THRESHOLD[6], "percent": 30},
)
DEFAULT_TARGETING_SURCHARGES: Final = {
    "age_bands": 10,
    "households": 10,
    "districts": 15,
    "interests": 10,
}
