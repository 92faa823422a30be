"""Delivery scenarios: a JSON description of a week of bookings, pauses, disasters and workers.

`portal-marketplace simulate delivery --scenario FILE` reads one (`load_scenario`) and drives
the real delivery code with it (`scenario_run.run_scenario`). The format is strict: a key it
does not know is refused, and every error names the key at fault (`bookings.0.targeting`).

Days are offsets from the start of the simulation (a Monday, Tokyo time); fractions are
allowed (`2.5` is noon on the third day). Bookings are sold by the week, so a booking ends at
the end of a week (`end_day` a multiple of 7) or after the simulation; it may start late
(`start_day` inside a week: its creative is approved late).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from marketplace.errors import InvalidInput
from marketplace.inventory.targeting import Targeting, parse_targeting
from marketplace.vocab import SHOP_CATEGORIES

MAX_DAYS = 28
MAX_RESIDENTS = 200_000
MAX_WORKERS = 8
PLACEMENT_KEY = re.compile(r"^(feed)-([1-9][0-9]?)$|^(side)(?:-[a-z0-9]+)?$")

Window = tuple[Annotated[float, Field(ge=0)], Annotated[float, Field(ge=0)]]


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the key at fault."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlacementSpec(_Strict):
    """`feed-N`: an in-feed placement at feed position N; `side…`: the gadget column's card."""

    key: str
    shares: Annotated[int, Field(ge=1, le=100)]

    @field_validator("key")
    @classmethod
    def _known_shape(cls, key: str) -> str:
        if not PLACEMENT_KEY.match(key):
            raise ValueError("must be feed-N (a feed position, 1-99) or side")
        return key

    @property
    def side(self) -> bool:
        return key_is_side(self.key)

    @property
    def feed_position(self) -> int | None:
        match = PLACEMENT_KEY.match(self.key)
        return int(match.group(2)) if match and match.group(2) else None


def key_is_side(key: str) -> bool:
    return key.startswith("side")


class BookingSpec(_Strict):
    id: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
    placement: str
    shares: Annotated[int, Field(ge=1)]
    targeting: dict[str, Any] = Field(default_factory=dict)
    start_day: Annotated[float, Field(ge=0)] = 0.0
    end_day: Annotated[float, Field(gt=0)] | None = None
    pauses: list[Window] = Field(default_factory=list)
    # Optional: the shop's category (what kind of ad it is), for the click model.
    category: str = "restaurant"

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value not in SHOP_CATEGORIES:
            raise ValueError(f"unknown shop category; one of {', '.join(SHOP_CATEGORIES)}")
        return value

    @field_validator("targeting")
    @classmethod
    def _valid_targeting(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            parse_targeting(value)
        except InvalidInput as exc:
            raise ValueError(exc.message) from None
        return value

    @property
    def parsed_targeting(self) -> Targeting:
        return parse_targeting(self.targeting)


class Scenario(_Strict):
    residents: Annotated[int, Field(ge=200, le=MAX_RESIDENTS)] = 20_000
    days: Annotated[float, Field(gt=0, le=MAX_DAYS)] = 7
    seed: Annotated[int, Field(ge=0)] = 0
    frequency_cap: Annotated[int, Field(ge=1, le=50)] = 3
    workers: Annotated[int, Field(ge=1, le=MAX_WORKERS)] = 1
    placements: Annotated[list[PlacementSpec], Field(min_length=1)]
    bookings: Annotated[list[BookingSpec], Field(min_length=1)]
    disaster: list[Window] = Field(default_factory=list)
    restarts: list[tuple[Annotated[int, Field(ge=0)], Annotated[float, Field(ge=0)]]] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        keys = [p.key for p in self.placements]
        for key, count in Counter(keys).items():
            if count > 1:
                raise ScenarioError("placements", f"{key} appears {count} times")
        positions = [p.feed_position for p in self.placements if p.feed_position]
        if len(set(positions)) != len(positions):
            raise ScenarioError("placements", "two placements at one feed position")
        shares = {p.key: p.shares for p in self.placements}
        sold: Counter[str] = Counter()
        for n, booking in enumerate(self.bookings):
            at = f"bookings.{n}"
            if booking.placement not in shares:
                raise ScenarioError(f"{at}.placement", f"no placement {booking.placement!r}")
            end = self.end_of(booking)
            if booking.start_day >= end:
                raise ScenarioError(f"{at}.start_day", "must be before end_day")
            ends_inside = booking.end_day is not None and booking.end_day < self.days
            if ends_inside and booking.end_day % 7:  # type: ignore[operator]
                raise ScenarioError(
                    f"{at}.end_day", "bookings are sold by the week: a multiple of 7"
                )
            for i, (start, stop) in enumerate(booking.pauses):
                if not booking.start_day <= start < stop <= end:
                    raise ScenarioError(
                        f"{at}.pauses.{i}", "must be [start, end] inside the booking"
                    )
            sold[booking.placement] += booking.shares
        for key, total in sold.items():
            if total > shares[key]:
                raise ScenarioError(
                    "bookings", f"{total} shares of {key} sold, it has {shares[key]}"
                )
        ids = Counter(b.id for b in self.bookings)
        for booking_id, count in ids.items():
            if count > 1:
                raise ScenarioError("bookings", f"id {booking_id!r} appears {count} times")
        for i, (start, stop) in enumerate(self.disaster):
            if not start < stop <= self.days:
                raise ScenarioError(f"disaster.{i}", "must be [start, end] inside the days")
        for i, (worker, day) in enumerate(self.restarts):
            if worker >= self.workers:
                raise ScenarioError(
                    f"restarts.{i}", f"worker {worker} does not exist (0-{self.workers - 1})"
                )
            if not 0 < day < self.days:
                raise ScenarioError(f"restarts.{i}", "the day must be inside the simulation")
        return self

    def end_of(self, booking: BookingSpec) -> float:
        """When the booking stops being shown in the simulation (its end or the last day)."""
        return min(booking.end_day if booking.end_day is not None else self.days, self.days)

    def placement(self, key: str) -> PlacementSpec:
        return next(p for p in self.placements if p.key == key)


def parse_scenario(data: Any) -> Scenario:
    """Validate a decoded scenario; raise ScenarioError naming the first key at fault."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, ScenarioError):
            raise ScenarioError(cause.key, str(cause).split(": ", 1)[-1]) from None
        if error["type"] == "extra_forbidden":
            raise ScenarioError(key, "unknown key") from None
        message = str(error["msg"]).removeprefix("Value error, ")
        raise ScenarioError(key, message) from None


def load_scenario(path: Path) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError("", f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError("", f"{path}: not JSON (line {exc.lineno}: {exc.msg})") from None
    return parse_scenario(data)
