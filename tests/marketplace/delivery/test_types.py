from __future__ import annotations

import pytest

from marketplace.delivery.types import ANONYMOUS, Audience, Targeting, TargetingError
from tests.marketplace.delivery.factories import END, START, ad

RESIDENT = Audience("r1", "30-39", "young_children", "tsuruga", ("子育て",), consent=True)


def test_untargeted_matches_everyone() -> None:
    assert Targeting().matches(RESIDENT) and Targeting().matches(ANONYMOUS)


def test_each_dimension_must_match() -> None:
    t = Targeting.from_document({"age_bands": ["30-39"], "districts": ["tsuruga", "ikki"]})
    assert t.matches(RESIDENT)
    assert not t.matches(Audience("r2", "40-49", None, "tsuruga", consent=True))
    assert Targeting.from_document({"interests": ["子育て", "観光"]}).matches(RESIDENT)
    assert not Targeting.from_document({"households": ["single"]}).matches(RESIDENT)


def test_targeted_ads_never_reach_non_consenting_or_anonymous() -> None:
    t = Targeting.from_document({"age_bands": ["30-39"]})
    no_consent = Audience("r1", "30-39", "young_children", "tsuruga", consent=False)
    assert not t.matches(no_consent)
    assert not t.matches(ANONYMOUS)
    assert no_consent.segment == ("unknown", "unknown", "unknown")


def test_targeting_documents_are_validated() -> None:
    with pytest.raises(TargetingError, match="religion"):
        Targeting.from_document({"religion": ["x"]})
    with pytest.raises(TargetingError, match="age_bands"):
        Targeting.from_document({"age_bands": ["31-39"]})
    with pytest.raises(TargetingError):
        Targeting.from_document({"districts": "tsuruga"})
    assert Targeting.from_document(None).untargeted


def test_live_window_is_half_open() -> None:
    booking = ad(1)
    assert booking.live_at(START) and not booking.live_at(END)
