from __future__ import annotations

import random

from marketplace.delivery.reach import ReachIndex
from marketplace.delivery.types import ANONYMOUS, Audience, reaches
from marketplace.inventory.targeting import ALLOWED_VALUES, Targeting
from tests.support.delivery_factories import ad


def random_targeting(rng: random.Random) -> Targeting:
    """Each dimension open, or narrowed to one to three of its values."""
    chosen: dict[str, frozenset[str]] = {}
    for name, values in ALLOWED_VALUES.items():
        if rng.random() < 0.5:
            chosen[name] = frozenset(rng.sample(sorted(values), rng.randint(1, 3)))
    return Targeting(**chosen)


def random_audience(rng: random.Random, number: int) -> Audience:
    def maybe(name: str) -> str | None:
        return None if rng.random() < 0.15 else rng.choice(sorted(ALLOWED_VALUES[name]))

    interests = tuple(rng.sample(sorted(ALLOWED_VALUES["interests"]), rng.randint(0, 4)))
    return Audience(
        key=f"r{number}",
        age_band=maybe("age_bands"),
        household=maybe("households"),
        district=maybe("districts"),
        interests=interests,
        consent=rng.random() < 0.8,
    )


def test_reach_agrees_with_each_bookings_targeting_check() -> None:
    rng = random.Random(7)
    for round_ in range(40):
        bookings = [
            ad(i, targeting=random_targeting(rng) if rng.random() < 0.8 else Targeting())
            for i in range(rng.randint(0, 12))
        ]
        index = ReachIndex(bookings)
        for number in range(60):
            viewer = random_audience(rng, number)
            expected = tuple(b for b in bookings if reaches(b.targeting, viewer))
            assert index.reaching(viewer) == expected, (round_, viewer)
        assert index.reaching(ANONYMOUS) == tuple(b for b in bookings if not b.targeting.dimensions)


def test_one_shared_interest_is_enough_and_none_is_not() -> None:
    snow = ad(1, targeting=Targeting(interests=frozenset({"除雪"})))
    elderly_snow = ad(
        2, targeting=Targeting(age_bands=frozenset({"70+"}), interests=frozenset({"除雪"}))
    )
    index = ReachIndex([snow, elderly_snow])
    young = Audience("r1", "20-29", "single", None, ("子育て", "除雪"), consent=True)
    old = Audience("r2", "70+", None, None, ("除雪",), consent=True)
    none = Audience("r3", "70+", None, None, (), consent=True)
    assert index.reaching(young) == (snow,)
    assert index.reaching(old) == (snow, elderly_snow)
    assert index.reaching(none) == ()


def test_an_unknown_attribute_never_matches_a_narrowed_dimension() -> None:
    ohto = ad(1, targeting=Targeting(districts=frozenset({"ohto"})))
    everyone = ad(2)
    index = ReachIndex([ohto, everyone])
    unknown_district = Audience("r1", "70+", "single", None, (), consent=True)
    assert index.reaching(unknown_district) == (everyone,)


def test_the_same_set_of_bookings_is_the_same_tuple() -> None:
    index = ReachIndex([ad(1), ad(2, targeting=Targeting(age_bands=frozenset({"70+"})))])
    first = Audience("r1", "70+", "single", "ohto", (), consent=True)
    second = Audience("r2", "70+", "couple", None, ("除雪",), consent=True)
    assert index.reaching(first) is index.reaching(second)
