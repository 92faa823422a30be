"""Why a booking is behind: its shortfall on the one measure, traced to hours and their cause.

The shortfall itself is the one measure's (`measure.DeliveryMeasure.shortfall`). This module only
says where it came from, for the shop's booking page and the make-good credit note, which must
name the same cause. Each hour with eligible slots belongs to at most one cause, in this order:

* **paused** (市の職員による一時停止): the hour overlaps a staff pause (`booking_paused` …
  `booking_resumed` events);
* **disaster** (災害モード): the hour overlaps disaster mode (the switch's audit entries);
* **review** (素材の審査待ち): the hour came before the booking's creative was approved;
* **outage** (配信の計測障害): the placement's ads were offered that hour but not one impression
  was counted (the counting failed; such hours count as seen, `measure.view_rate`).

An hour's deficit is what it owed (share bought × its seen eligible slots) minus its valid
impressions; a cause's deficit is the sum over its hours. Catch-up shows as a negative deficit
of ordinary hours. What ordinary hours still owe is named by the reach forecast when it names a
limit (sold out to the same residents, too narrow, the frequency cap), and otherwise honestly as
「理由を確認中」: the system has no data that tells the cause apart.

Pure: `shortfall_reading.py` reads the hours and windows from the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Final

from marketplace.delivery.forecast import Limit

HOUR = timedelta(hours=1)
# Behind when the share delivered so far is below this fraction of the share bought (the
# issue's tolerance: within 3% is on target).
BEHIND_BELOW: Final = Fraction(97, 100)
# A cause is named when its deficit is at least this part of the shortfall (the largest always).
NAMED_FROM: Final = Fraction(1, 5)


class Cause(StrEnum):
    PAUSED = "paused"
    DISASTER = "disaster"
    REVIEW = "review"
    OUTAGE = "outage"
    SOLD_OUT = "sold_out"
    NARROW = "narrow"
    CAP = "cap"
    CHECKING = "checking"


# Japanese, as the shop reads it on the booking page and on the credit note (English in
# locale/en/labels.po through portal_plugin.labels).
CAUSE_TEXT: Final[Mapping[Cause, str]] = {
    Cause.PAUSED: "市の職員による一時停止",
    Cause.DISASTER: "災害モード(市がすべての広告を止めていた時間)",
    Cause.REVIEW: "素材の審査待ち",
    Cause.OUTAGE: "配信の計測障害",
    Cause.SOLD_OUT: "同じ住民向けの広告がほかにも売れていて、表示できる枠が足りない",
    Cause.NARROW: "絞り込みが狭く、当てはまる住民の閲覧が少ない",
    Cause.CAP: "表示回数の上限(1人1日の回数)",
    Cause.CHECKING: "理由を確認中",
}

REACH_CAUSES: Final[Mapping[Limit, Cause]] = {
    Limit.SOLD_OUT: Cause.SOLD_OUT,
    Limit.NARROW: Cause.NARROW,
    Limit.CAP: Cause.CAP,
}

Window = tuple[datetime, datetime]


@dataclass(frozen=True)
class HourCounts:
    """One hour of a booking: its eligible slots and valid impressions, and whether the
    placement's counting worked (ads were offered but no impression of any booking counted)."""

    hour: datetime
    eligible_slots: int
    impressions: int
    counting_failed: bool = False


@dataclass(frozen=True)
class Windows:
    """When the booking could not be shown, from the system's records."""

    paused: tuple[Window, ...] = ()
    disaster: tuple[Window, ...] = ()
    review: tuple[Window, ...] = ()


def _overlaps(hour: datetime, windows: Iterable[Window]) -> bool:
    end = hour + HOUR
    return any(start < end and hour < stop for start, stop in windows)


def cause_of_hour(counts: HourCounts, windows: Windows) -> Cause | None:
    """The cause an hour belongs to, or None for an ordinary hour."""
    if _overlaps(counts.hour, windows.paused):
        return Cause.PAUSED
    if _overlaps(counts.hour, windows.disaster):
        return Cause.DISASTER
    if _overlaps(counts.hour, windows.review):
        return Cause.REVIEW
    if counts.counting_failed:
        return Cause.OUTAGE
    return None


def deficits(
    hours: Iterable[HourCounts], windows: Windows, share_bought: Fraction, view_rate: Fraction
) -> dict[Cause | None, Fraction]:
    """Owed minus delivered, per cause (None: ordinary hours; negative where caught up)."""
    found: dict[Cause | None, Fraction] = {}
    for counts in hours:
        cause = cause_of_hour(counts, windows)
        owed = share_bought * view_rate * counts.eligible_slots
        found[cause] = found.get(cause, Fraction(0)) + owed - counts.impressions
    return found


def name_causes(
    found: Mapping[Cause | None, Fraction], shortfall: Fraction, reach: Limit | None
) -> tuple[Cause, ...]:
    """The causes of a shortfall, largest first; () when nothing is short.

    Ordinary hours that are behind are named by the reach forecast's limit, or 「理由を確認中」.
    """
    if shortfall <= 0:
        return ()
    named: list[tuple[Fraction, Cause]] = []
    for cause, deficit in found.items():
        if deficit <= 0:
            continue
        if cause is None:
            cause = REACH_CAUSES.get(reach, Cause.CHECKING) if reach else Cause.CHECKING
        named.append((deficit, cause))
    named.sort(key=lambda pair: (-pair[0], list(Cause).index(pair[1])))
    if not named:
        return (Cause.CHECKING,)
    largest = named[0][0]
    floor = min(largest, shortfall * NAMED_FROM)
    return tuple(dict.fromkeys(cause for deficit, cause in named if deficit >= floor))


def is_behind(share_bought: Fraction, share_delivered: Fraction | None) -> bool:
    """Delivered less than BEHIND_BELOW of the share bought (nothing measured is not behind)."""
    return share_delivered is not None and share_delivered < share_bought * BEHIND_BELOW


def ordinary_behind(found: Mapping[Cause | None, Fraction], shortfall: Fraction) -> bool:
    """Ordinary hours owe a named part of the shortfall: only then is the forecast asked."""
    deficit = found.get(None, Fraction(0))
    return shortfall > 0 and deficit > 0 and deficit >= shortfall * NAMED_FROM


def describe(causes: Sequence[Cause]) -> str:
    """The causes in Japanese, joined as the credit note prints them."""
    return "、".join(CAUSE_TEXT[cause] for cause in causes)
