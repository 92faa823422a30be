"""The one measure of delivery: what a booking got, against what it was owed.

Written once here and in docs/delivery.md ("What a booking gets"), and used by pacing, the
shop's report and booking page, make-goods, the finance dashboard and the delivery simulation.

    share delivered = valid impressions ÷ seen eligible slots
    owed            = share bought × seen eligible slots

* **Eligible slots**: ad slots of the booking's placement, in its live hours (its Tokyo weeks,
  a flyer's 掲載期間 within them), whose viewer its targeting reaches (attribute targeting needs
  consent), who was under its frequency cap and had not hidden the shop. A slot counts whether
  or not the booking won it, and whether or not it could be shown then (paused by staff,
  awaiting review, disaster mode, its shop already elsewhere on the page): the shop bought
  those hours.
* **Valid impressions**: the booking's impressions that were actually seen (the impression
  pixel loaded) and valid (not a bot, staff preview or rate-limited). An offer that was
  fetched but never seen is not delivered.
* **Seen**: an empty slot cannot report that it was seen, so eligible slots are scaled by the
  placement's view rate (valid impressions ÷ offers of all bookings on it over the same
  period): the slot sits at the same place on the page whoever fills it. Without any offer or
  any impression on the placement the view rate is 1.

Everything is an exact `Fraction` and yen are integers: `credit_yen` is the shortfall priced at
what the booking paid, rounded down, never more than paid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

ONE = Fraction(1)


class MeasureError(ValueError):
    """Counts that cannot describe a booking's delivery (a programmer's mistake)."""


def view_rate(impressions: int, offers: int) -> Fraction:
    """Share of a placement's offers that were seen (valid impressions ÷ offers), at most 1.

    1 when nothing was offered, and when nothing offered was seen: no impression at all means
    the counting failed (an outage), not that nobody looked, so every slot counts as seen.
    """
    if impressions < 0 or offers < 0:
        raise MeasureError("impressions and offers must not be negative")
    if offers == 0 or impressions == 0:
        return ONE
    return min(ONE, Fraction(impressions, offers))


@dataclass(frozen=True)
class DeliveryMeasure:
    """A booking's delivery over some hours: eligible slots, valid impressions, share bought.

    >>> m = DeliveryMeasure(Fraction(1, 10), eligible_slots=1000, impressions=85)
    >>> m.owed, m.share_delivered, m.credit_yen(10_000)
    (Fraction(100, 1), Fraction(17, 200), 1500)
    """

    share_bought: Fraction
    eligible_slots: int
    impressions: int
    view_rate: Fraction = ONE

    def __post_init__(self) -> None:
        if not 0 < self.share_bought <= 1:
            raise MeasureError("share_bought must be within (0, 1]")
        if self.eligible_slots < 0 or self.impressions < 0:
            raise MeasureError("eligible_slots and impressions must not be negative")
        if not 0 < self.view_rate <= 1:
            raise MeasureError("view_rate must be within (0, 1]")

    @property
    def seen_slots(self) -> Fraction:
        return self.eligible_slots * Fraction(self.view_rate)

    @property
    def owed(self) -> Fraction:
        """Impressions the booking is owed for these slots."""
        return Fraction(self.share_bought) * self.seen_slots

    @property
    def share_delivered(self) -> Fraction | None:
        """Valid impressions ÷ seen eligible slots; None before any eligible slot."""
        if self.eligible_slots == 0:
            return None
        return self.impressions / self.seen_slots

    @property
    def shortfall(self) -> Fraction:
        """Impressions owed but not delivered (0 when on or ahead of what is owed)."""
        return max(Fraction(0), self.owed - self.impressions)

    @property
    def shortfall_ratio(self) -> Fraction:
        """The undelivered part of what was owed, 0 to 1."""
        if self.owed == 0:
            return Fraction(0)
        return self.shortfall / self.owed

    @property
    def deviation(self) -> Fraction | None:
        """share delivered ÷ share bought − 1 (negative when behind)."""
        delivered = self.share_delivered
        return None if delivered is None else delivered / Fraction(self.share_bought) - 1

    def credit_yen(self, paid: int) -> int:
        """The shortfall priced at what was paid for the booking: floor(paid × shortfall ratio)."""
        if paid < 0:
            raise MeasureError("paid must not be negative")
        return math.floor(paid * self.shortfall_ratio)

    def __add__(self, other: DeliveryMeasure) -> DeliveryMeasure:
        """Two spans of the same booking (same share bought and view rate) taken together."""
        if (self.share_bought, self.view_rate) != (other.share_bought, other.view_rate):
            raise MeasureError("only spans measured alike can be added")
        return DeliveryMeasure(
            self.share_bought,
            self.eligible_slots + other.eligible_slots,
            self.impressions + other.impressions,
            self.view_rate,
        )


def hourly_rate_ratio(
    impressions: int, eligible_slots: int, share_bought: Fraction | float
) -> float | None:
    """An hour's delivery over the booking's even rate for that hour (share × eligible slots).

    1 is on pace; catch-up may go up to 2 (`pacing.MAX_CATCH_UP`). None for an hour without
    eligible slots.
    """
    if eligible_slots <= 0:
        return None
    return float(impressions / (Fraction(share_bought) * eligible_slots))
