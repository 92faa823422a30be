"""Synthetic portal traffic: who opens their feed, and when, under a realistic daily curve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from marketplace.calendar import start_of_tokyo_day
from marketplace.delivery.types import Audience
from marketplace.synthetic import SyntheticCity

# Relative feed opens per Tokyo hour: quiet nights, a morning check, lunch, busy evenings.
HOURLY_WEIGHTS: tuple[float, ...] = (
    0.8, 0.4, 0.25, 0.2, 0.25, 0.6,  # 00-05
    1.6, 3.2, 3.6, 2.6, 2.2, 2.4,  # 06-11
    3.4, 2.6, 2.2, 2.2, 2.4, 2.9,  # 12-17
    3.8, 4.8, 5.2, 4.6, 3.0, 1.6,  # 18-23
)  # fmt: skip
assert len(HOURLY_WEIGHTS) == 24


@dataclass(frozen=True)
class Visit:
    at: datetime
    resident_idx: int


def visit_schedule(
    rng: np.random.Generator,
    n_residents: int,
    first_day: date,
    days: int,
    mean_visits_per_day: float = 0.6,
    activity_sigma: float = 0.9,
    activity: np.ndarray | None = None,
) -> list[Visit]:
    """Feed opens over `days` Tokyo days, sorted by time.

    Residents differ in how often they come (`activity`, relative; log-normal when not given);
    the hour of each visit
    follows HOURLY_WEIGHTS, with the minute and second uniform within the hour.
    """
    if activity is None:
        activity = rng.lognormal(0.0, activity_sigma, size=n_residents)
    activity = np.asarray(activity, dtype=np.float64) * (mean_visits_per_day / activity.mean())
    hour_p = np.array(HOURLY_WEIGHTS) / sum(HOURLY_WEIGHTS)
    visits: list[Visit] = []
    for offset in range(days):
        midnight = start_of_tokyo_day(first_day + timedelta(days=offset))
        counts = rng.poisson(activity)
        who = np.repeat(np.arange(n_residents), counts)
        hours = rng.choice(24, size=len(who), p=hour_p)
        seconds = hours * 3600 + rng.integers(0, 3600, size=len(who))
        order = np.argsort(seconds, kind="stable")
        for index in order:
            at = midnight + timedelta(seconds=int(seconds[index]))
            visits.append(Visit(at.astimezone(UTC), int(who[index])))
    return visits


def city_audiences(city: SyntheticCity) -> list[Audience]:
    """Every synthetic resident as the delivery code sees a viewer."""
    frame = city.residents
    return [
        Audience(
            key=str(row.external_id),
            age_band=str(row.age_band),
            household=str(row.household),
            district=str(row.district),
            interests=tuple(str(i) for i in row.interests),  # type: ignore[union-attr]
            consent=bool(row.personalization_consent),
        )
        for row in frame.itertuples(index=False)
    ]
