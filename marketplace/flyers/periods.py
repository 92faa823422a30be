"""A flyer's dates: 掲載期間 (when it may be shown) and 特売期間 (the sale it announces).

Dates are Tokyo calendar days, both ends included. A flyer is shown from the first moment of
`shown_from` to the last of `shown_until` (Tokyo), and nowhere after that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from marketplace.calendar import start_of_tokyo_day
from marketplace.errors import InvalidInput

MAX_SHOWN_DAYS: Final = 92  # about a quarter: a printed flyer is for a season at most
MAX_DAYS_AHEAD: Final = 366


@dataclass(frozen=True)
class FlyerPeriods:
    shown_from: date
    shown_until: date
    sale_from: date | None = None
    sale_until: date | None = None

    def shown_on(self, day: date) -> bool:
        return self.shown_from <= day <= self.shown_until

    @property
    def starts_at(self) -> datetime:
        return start_of_tokyo_day(self.shown_from)

    @property
    def ends_at(self) -> datetime:
        return start_of_tokyo_day(self.shown_until + timedelta(days=1))


def shown_on(shown_from: date | None, shown_until: date | None, day: date) -> bool:
    """Whether a creative version with these 掲載期間 columns may be shown on `day` (an ad has
    none, so it always may)."""
    if shown_from is None or shown_until is None:
        return True
    return shown_from <= day <= shown_until


def shown_window(
    shown_from: date, shown_until: date, starts_at: datetime, ends_at: datetime
) -> tuple[datetime, datetime]:
    """A booking's live window narrowed to the flyer's 掲載期間: delivery paces the booked
    share over the days the flyer may be shown (an empty window when they do not meet)."""
    start = max(starts_at, start_of_tokyo_day(shown_from))
    end = min(ends_at, start_of_tokyo_day(shown_until + timedelta(days=1)))
    return start, max(start, end)


def _date(data: Mapping[str, Any], name: str, label: str, required: bool) -> date | None:
    raw = str(data.get(name) or "").strip()
    if not raw:
        if required:
            raise InvalidInput("{label}を入力してください", field=name, label=label)
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            "{label}は 2026-12-05 のような日付で入力してください", field=name, label=label
        ) from None


def parse_periods(data: Mapping[str, Any], today: date) -> FlyerPeriods:
    """The dates from a form (ISO dates, as `<input type=date>` sends them); InvalidInput."""
    shown_from = _date(data, "shown_from", "掲載開始日", True)
    shown_until = _date(data, "shown_until", "掲載終了日", True)
    assert shown_from is not None and shown_until is not None
    if shown_until < shown_from:
        raise InvalidInput("掲載終了日は掲載開始日より後にしてください", field="shown_until")
    if shown_until < today:
        raise InvalidInput("掲載終了日がもう過ぎています", field="shown_until")
    if (shown_until - shown_from).days + 1 > MAX_SHOWN_DAYS:
        raise InvalidInput(
            "掲載期間は{days}日以内にしてください", field="shown_until", days=MAX_SHOWN_DAYS
        )
    if shown_from > today + timedelta(days=MAX_DAYS_AHEAD):
        raise InvalidInput("掲載開始日は1年以内にしてください", field="shown_from")
    sale_from = _date(data, "sale_from", "特売の開始日", False)
    sale_until = _date(data, "sale_until", "特売の終了日", False)
    if (sale_from is None) != (sale_until is None):
        field = "sale_until" if sale_until is None else "sale_from"
        raise InvalidInput("特売期間は開始日と終了日の両方を入力してください", field=field)
    if sale_from is not None and sale_until is not None:
        if sale_until < sale_from:
            raise InvalidInput("特売の終了日は開始日より後にしてください", field="sale_until")
        if sale_until < shown_from or sale_from > shown_until:
            raise InvalidInput("特売期間が掲載期間と重なっていません", field="sale_from")
    return FlyerPeriods(shown_from, shown_until, sale_from, sale_until)


def every_week_shown(periods: FlyerPeriods, first_week: date, last_week: date) -> bool:
    """Whether each booked week (Monday to Sunday) has a day on which the flyer is shown, so a
    shop never pays for a week in which its flyer cannot appear."""
    return first_week + timedelta(days=6) >= periods.shown_from and last_week <= periods.shown_until
