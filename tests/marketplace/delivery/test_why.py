"""Why an ad reached a resident: only their own attributes that met the shop's targeting."""

from __future__ import annotations

from marketplace.delivery.types import Audience
from marketplace.delivery.why import MatchedAttribute, matched_attributes
from marketplace.inventory.targeting import EVERYONE, Targeting

RESIDENT = Audience(
    key="k",
    age_band="30-39",
    household="young_children",
    district="tsuruga",
    interests=("子育て", "観光"),
    consent=True,
)


def test_only_the_targeted_dimensions_are_told_with_the_residents_own_values() -> None:
    targeting = Targeting(
        age_bands=frozenset({"30-39", "40-49"}), interests=frozenset({"子育て", "防災"})
    )
    assert matched_attributes(targeting, RESIDENT) == (
        MatchedAttribute("age_band", "30代"),
        MatchedAttribute("interests", "子育て"),
    )
    everything = Targeting(
        age_bands=frozenset({"30-39"}),
        households=frozenset({"young_children"}),
        districts=frozenset({"tsuruga"}),
    )
    assert [m.value for m in matched_attributes(everything, RESIDENT)] == [
        "30代",
        "未就学児のいる世帯",
        "鶴城",
    ]


def test_nothing_matched_when_untargeted_or_the_attributes_were_not_used() -> None:
    targeted = Targeting(age_bands=frozenset({"30-39"}))
    assert matched_attributes(EVERYONE, RESIDENT) == ()
    assert matched_attributes(targeted, RESIDENT._replace(consent=False)) == ()
    assert matched_attributes(targeted, Audience(key=None, age_band="30-39")) == ()
    # A value the resident does not have is never told (the other band the shop chose).
    assert matched_attributes(targeted, RESIDENT._replace(age_band="40-49")) == ()
