"""Why an ad reached a resident, in terms they can check: which of their coarse attributes
matched the shop's targeting.

Only the attributes the shop targeted and the resident's own values that met them are told;
never a relevance score, a model detail or the shop's other choices (those are the shop's).
An ad shown without the resident's attributes (no consent, personalised ads off, anonymous)
matched nothing: untargeted ads are the only ones such a viewer can get.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from marketplace.delivery.types import Audience
from marketplace.inventory.targeting import Targeting
from marketplace.vocab import AGE_BAND_LABELS, DISTRICTS, HOUSEHOLD_LABELS

# How residents read each dimension (English in the privacy catalogue).
ATTRIBUTE_LABELS: Final = {
    "age_band": "年代",
    "household": "世帯構成",
    "district": "地区",
    "interests": "関心分野",
}


class MatchedAttribute(NamedTuple):
    dimension: str  # a key of ATTRIBUTE_LABELS
    value: str  # the resident's value, as residents read it


def matched_attributes(targeting: Targeting, viewer: Audience) -> tuple[MatchedAttribute, ...]:
    """The viewer's attributes that met the ad's targeting; empty when the ad was not targeted
    or the viewer's attributes were not used."""
    if not targeting.dimensions or not viewer.personalized:
        return ()
    matched: list[MatchedAttribute] = []
    age_band, household, district = viewer.age_band, viewer.household, viewer.district
    if age_band is not None and age_band in targeting.age_bands:
        matched.append(MatchedAttribute("age_band", AGE_BAND_LABELS.get(age_band, age_band)))
    if household is not None and household in targeting.households:
        matched.append(MatchedAttribute("household", HOUSEHOLD_LABELS.get(household, household)))
    if district is not None and district in targeting.districts:
        matched.append(MatchedAttribute("district", DISTRICTS.get(district, district)))
    for interest in sorted(targeting.interests & set(viewer.interests)):
        matched.append(MatchedAttribute("interests", interest))
    return tuple(matched)
