from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.errors import InvalidInput
from marketplace.inventory.pricing import (
    DEFAULT_TARGETING_SURCHARGES,
    RateCard,
    TermDiscount,
    price_booking,
    tax_included_in,
)

CARD = RateCard(
    in_city_price_yen=11_000,
    out_of_city_price_yen=16_500,
    term_discounts=(TermDiscount(13, 20), TermDiscount(26, 30)),
    targeting_surcharges=DEFAULT_TARGETING_SURCHARGES,
)


def test_plain_booking_is_unit_times_shares_times_weeks() -> None:
    quote = price_booking(CARD, shares=2, weeks=4, in_city=True)
    assert quote.list_price_yen == 88_000
    assert quote.discount_yen == 0
    assert quote.surcharge_yen == 0
    assert quote.total_yen == 88_000
    assert quote.tax_yen == 8_000
    assert quote.net_yen == 80_000


@pytest.mark.parametrize(
    ("weeks", "percent"),
    [(1, 0), (12, 0), (13, 20), (25, 20), (26, 30), (52, 30)],
)
def test_term_discount_thresholds(weeks: int, percent: int) -> None:
    quote = price_booking(CARD, shares=1, weeks=weeks, in_city=True)
    assert quote.discount_percent == percent
    assert quote.discount_yen == 11_000 * weeks * percent // 100


def test_threshold_order_in_the_card_does_not_matter() -> None:
    shuffled = RateCard(11_000, 16_500, (TermDiscount(26, 30), TermDiscount(13, 20)))
    assert price_booking(shuffled, shares=1, weeks=30, in_city=True).discount_percent == 30


def test_out_of_city_rate() -> None:
    inside = price_booking(CARD, shares=1, weeks=1, in_city=True)
    outside = price_booking(CARD, shares=1, weeks=1, in_city=False)
    assert (inside.unit_price_yen, outside.unit_price_yen) == (11_000, 16_500)
    assert not outside.in_city


def test_surcharges_add_per_dimension_on_the_discounted_price() -> None:
    quote = price_booking(
        CARD,
        shares=1,
        weeks=13,
        in_city=True,
        targeted_dimensions=["age_bands", "districts", "districts"],
    )
    discounted = 143_000 - 28_600
    assert quote.surcharge_percent == 25
    assert quote.surcharge_yen == discounted * 25 // 100
    assert quote.total_yen == discounted + quote.surcharge_yen


def test_rounding_favours_the_advertiser() -> None:
    card = RateCard(999, 999, (TermDiscount(2, 33),), {"age_bands": 7})
    quote = price_booking(card, shares=1, weeks=2, in_city=True, targeted_dimensions=["age_bands"])
    assert quote.discount_yen == 659  # 1998 × 0.33 = 659.34
    assert quote.surcharge_yen == 93  # 1339 × 0.07 = 93.73
    assert quote.total_yen == 1_998 - 659 + 93


@pytest.mark.parametrize(
    ("total", "tax"), [(0, 0), (1, 0), (10, 0), (11, 1), (110, 10), (11_000, 1_000), (8_799, 799)]
)
def test_tax_included_split(total: int, tax: int) -> None:
    assert tax_included_in(total) == tax


def test_invalid_quantities_name_the_field() -> None:
    with pytest.raises(InvalidInput) as shares_error:
        price_booking(CARD, shares=0, weeks=1, in_city=True)
    assert shares_error.value.field == "shares"
    with pytest.raises(InvalidInput) as weeks_error:
        price_booking(CARD, shares=1, weeks=53, in_city=True)
    assert weeks_error.value.field == "weeks"


def test_rate_card_refuses_bad_rules() -> None:
    with pytest.raises(InvalidInput):
        RateCard(-1, 0)
    with pytest.raises(InvalidInput):
        RateCard(1, 1, (TermDiscount(0, 10),))
    with pytest.raises(InvalidInput):
        RateCard(1, 1, (), {"religion": 10})


def test_from_columns_reads_json() -> None:
    card = RateCard.from_columns(100, 150, [{"min_weeks": 13, "percent": 20}], {"districts": "15"})
    assert card.discount_percent(13) == 20
    assert card.surcharge_percent(["districts"]) == 15


@given(
    shares=st.integers(1, 100),
    weeks=st.integers(1, 52),
    in_city=st.booleans(),
    dimensions=st.sets(st.sampled_from(["age_bands", "households", "districts", "interests"])),
)
def test_quote_invariants(shares: int, weeks: int, in_city: bool, dimensions: set[str]) -> None:
    quote = price_booking(
        CARD, shares=shares, weeks=weeks, in_city=in_city, targeted_dimensions=dimensions
    )
    assert quote.total_yen == quote.list_price_yen - quote.discount_yen + quote.surcharge_yen
    assert 0 <= quote.discount_yen <= quote.list_price_yen
    assert 0 <= quote.tax_yen < quote.total_yen
    # The tax split is the one a tax-included total implies: net × 1.1 rounds back to total.
    assert quote.net_yen * 110 // 100 <= quote.total_yen <= (quote.net_yen + 1) * 110 // 100
    if not dimensions:
        assert quote.surcharge_yen == 0
