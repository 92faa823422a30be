from __future__ import annotations

from marketplace.delivery.types import ANONYMOUS, Audience, reaches
from marketplace.inventory.targeting import EVERYONE, parse_targeting
from tests.support.delivery_factories import END, START, ad

RESIDENT = Audience("r1", "30-39", "young_children", "tsuruga", ("子育て",), consent=True)


def test_untargeted_reaches_everyone() -> None:
    assert reaches(EVERYONE, RESIDENT) and reaches(EVERYONE, ANONYMOUS)


def test_each_dimension_must_match() -> None:
    t = parse_targeting({"age_bands": ["30-39"], "districts": ["tsuruga", "ikki"]})
    assert reaches(t, RESIDENT)
    assert not reaches(t, Audience("r2", "40-49", None, "tsuruga", consent=True))
    assert reaches(parse_targeting({"interests": ["子育て", "観光"]}), RESIDENT)
    assert not reaches(parse_targeting({"households": ["single"]}), RESIDENT)


def test_targeted_ads_never_reach_non_consenting_or_anonymous() -> None:
    t = parse_targeting({"age_bands": ["30-39"]})
    no_consent = Audience("r1", "30-39", "young_children", "tsuruga", consent=False)
    assert not reaches(t, no_consent)
    assert not reaches(t, ANONYMOUS)
    assert no_consent.segment == ("unknown", "unknown", "unknown")
    assert RESIDENT.segment == ("30-39", "young_children", "tsuruga")


def test_live_window_is_half_open() -> None:
    booking = ad(1)
    assert booking.live_at(START) and not booking.live_at(END)
