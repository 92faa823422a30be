"""Audience targeting limited to the closed vocabularies.

Only four dimensions exist: age band, household type, district and interest category. Any
other key (health, religion, nationality, income...) is refused, so a sensitive attribute can
never be targeted: there is no field in which to say it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final

from marketplace.errors import InvalidInput
from marketplace.vocab import DISTRICTS, INTERESTS, AgeBand, Household

ALLOWED_VALUES: Final[dict[str, frozenset[str]]] = {
    "age_bands": frozenset(band.value for band in AgeBand),
    "households": frozenset(household.value for household in Household),
    "districts": frozenset(DISTRICTS),
    "interests": frozenset(INTERESTS),
}
DIMENSION_LABELS: Final = {
    "age_bands": "年代",
    "households": "世帯構成",
    "districts": "地区",
    "interests": "関心分野",
}


@dataclass(frozen=True)
class Targeting:
    age_bands: frozenset[str] = frozenset()
    households: frozenset[str] = frozenset()
    districts: frozenset[str] = frozenset()
    interests: frozenset[str] = frozenset()

    @cached_property
    def dimensions(self) -> tuple[str, ...]:
        """The dimensions that narrow the audience (an empty one means everyone); asked for
        every candidate ad of every feed, so worked out once."""
        return tuple(name for name in ALLOWED_VALUES if getattr(self, name))

    def to_json(self) -> dict[str, list[str]]:
        return {name: sorted(getattr(self, name)) for name in self.dimensions}

    def matches(
        self,
        *,
        age_band: str | None,
        household: str | None,
        district: str | None,
        interests: Iterable[str] = (),
    ) -> bool:
        """Whether a resident with this profile is in the audience; unknown never matches."""
        if self.age_bands and age_band not in self.age_bands:
            return False
        if self.households and household not in self.households:
            return False
        if self.districts and district not in self.districts:
            return False
        return not self.interests or bool(self.interests & set(interests))


EVERYONE: Final = Targeting()


def parse_targeting(data: Mapping[str, Any] | None) -> Targeting:
    """Validate targeting from a form or JSON; raise InvalidInput naming the bad field."""
    if not data:
        return EVERYONE
    if not isinstance(data, Mapping):
        raise InvalidInput("ターゲティングの形式が正しくありません", field="targeting")
    unknown = sorted(set(data) - set(ALLOWED_VALUES))
    if unknown:
        raise InvalidInput(
            "ターゲティングに使えない項目です: {names}",
            field=f"targeting.{unknown[0]}",
            names=", ".join(str(name) for name in unknown),
        )
    values: dict[str, frozenset[str]] = {}
    for name, allowed in ALLOWED_VALUES.items():
        raw = data.get(name) or []
        if isinstance(raw, str) or not isinstance(raw, list | tuple | set | frozenset):
            raise InvalidInput(
                "{label}は一覧で指定してください",
                field=f"targeting.{name}",
                label=DIMENSION_LABELS[name],
            )
        chosen = frozenset(str(value) for value in raw)
        bad = sorted(chosen - allowed)
        if bad:
            raise InvalidInput(
                "{label}に使えない値です: {values}",
                field=f"targeting.{name}",
                label=DIMENSION_LABELS[name],
                values=", ".join(bad),
            )
        if chosen == allowed:
            # Choosing every value is the same as not targeting; don't charge for it.
            chosen = frozenset()
        values[name] = chosen
    return Targeting(**values)
