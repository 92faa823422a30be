from __future__ import annotations

import pytest

from marketplace.errors import InvalidInput
from marketplace.inventory.targeting import ALLOWED_VALUES, EVERYONE, parse_targeting


def test_empty_targeting_means_everyone() -> None:
    assert parse_targeting(None) is EVERYONE
    assert parse_targeting({}) is EVERYONE
    assert EVERYONE.dimensions == ()
    assert EVERYONE.matches(age_band=None, household=None, district=None)


def test_valid_targeting_round_trips() -> None:
    targeting = parse_targeting(
        {"age_bands": ["30-39", "40-49"], "districts": ["tsuruga"], "interests": ["子育て"]}
    )
    assert targeting.dimensions == ("age_bands", "districts", "interests")
    assert parse_targeting(targeting.to_json()) == targeting


@pytest.mark.parametrize(
    "key", ["religion", "health", "nationality", "income", "political_view", "gender", "name"]
)
def test_sensitive_or_unknown_dimensions_are_impossible(key: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_targeting({key: ["anything"]})
    assert error.value.field == f"targeting.{key}"


@pytest.mark.parametrize(
    ("dimension", "value"),
    [("age_bands", "25-29"), ("households", "rich"), ("districts", "tokyo"), ("interests", "宗教")],
)
def test_values_outside_the_vocabulary_are_refused(dimension: str, value: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_targeting({dimension: [value]})
    assert error.value.field == f"targeting.{dimension}"
    assert value in error.value.message


def test_a_bare_string_is_not_a_list() -> None:
    with pytest.raises(InvalidInput):
        parse_targeting({"districts": "tsuruga"})


def test_choosing_every_value_is_no_targeting() -> None:
    targeting = parse_targeting({"age_bands": sorted(ALLOWED_VALUES["age_bands"])})
    assert targeting.dimensions == ()


def test_matching() -> None:
    targeting = parse_targeting({"age_bands": ["70+"], "interests": ["除雪", "防災"]})
    assert targeting.matches(age_band="70+", household=None, district="ikki", interests=["防災"])
    assert not targeting.matches(
        age_band="60-69", household=None, district=None, interests=["防災"]
    )
    assert not targeting.matches(age_band="70+", household=None, district=None, interests=[])
    assert not targeting.matches(age_band=None, household=None, district=None, interests=["防災"])
