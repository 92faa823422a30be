"""The cancellation policy, as a pure function of the booking and the day (Asia/Tokyo).

Policy (shown to shops on the booking page):
- A hold that is not confirmed yet can be cancelled at any time, free of charge.
- After confirmation, each booked week that starts at least NOTICE_DAYS days after the day of
  cancellation is refunded in full (pro rata of the total paid, rounded down).
  Weeks starting sooner, and weeks already running, are not refunded.
- When the city cancels (for example after a failed review or an ad-standards breach), every
  week that has not started yet is refunded, whatever the notice.
- In every case, the shares of weeks that have not started return to the inventory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

NOTICE_DAYS: Final = 7


@dataclass(frozen=True)
class CancellationTerms:
    refund_yen: int
    refunded_weeks: tuple[date, ...]
    released_weeks: tuple[date, ...]


def cancellation_terms(
    *,
    weeks: tuple[date, ...],
    total_yen: int,
    paid: bool,
    today: date,
    by_city: bool = False,
) -> CancellationTerms:
    """What a cancellation on `today` refunds and which weeks it gives back to the inventory."""
    if not weeks:
        raise ValueError("a booking has at least one week")
    released = tuple(week for week in weeks if week > today)
    if not paid:
        return CancellationTerms(0, (), released)
    if by_city:
        refunded = released
    else:
        notice = today + timedelta(days=NOTICE_DAYS)
        refunded = tuple(week for week in weeks if week >= notice)
    refund = total_yen * len(refunded) // len(weeks)
    return CancellationTerms(refund, refunded, released)
