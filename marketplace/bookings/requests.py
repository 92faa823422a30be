"""What a shop asks for when it books, validated field by field before anything is written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from marketplace.calendar import week_start
from marketplace.errors import InvalidInput
from marketplace.inventory.pricing import MAX_WEEKS
from marketplace.inventory.targeting import Targeting, parse_targeting

# Bookings open this many weeks ahead; the running week can no longer be booked.
BOOKING_HORIZON_WEEKS: Final = 52
IDEMPOTENCY_KEY_MAX: Final = 64


@dataclass(frozen=True)
class BookingRequest:
    placement_id: int
    first_week: date
    weeks: int
    shares: int
    targeting: Targeting
    creative_id: int | None = None

    @property
    def week_starts(self) -> tuple[date, ...]:
        return tuple(self.first_week + timedelta(weeks=n) for n in range(self.weeks))

    @property
    def last_week(self) -> date:
        return self.first_week + timedelta(weeks=self.weeks - 1)


def first_bookable_week(today: date) -> date:
    """The Monday after the current (Tokyo) week: a running week cannot be sold any more."""
    return week_start(today) + timedelta(weeks=1)


def _int_field(data: Mapping[str, Any], name: str, label: str, low: int, high: int) -> int:
    raw = data.get(name)
    if raw is None or raw == "":
        raise InvalidInput("{label}を入力してください", field=name, label=label)
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise InvalidInput("{label}は整数で入力してください", field=name, label=label) from None
    if not low <= value <= high:
        raise InvalidInput(
            "{label}は{low}〜{high}の範囲で入力してください",
            field=name,
            label=label,
            low=low,
            high=high,
        )
    return value


def _optional_int(data: Mapping[str, Any], name: str, label: str) -> int | None:
    raw = data.get(name)
    if raw is None or raw == "":
        return None
    return _int_field(data, name, label, 1, 2**62)


def parse_first_week(raw: Any, today: date) -> date:
    if raw is None or raw == "":
        raise InvalidInput("開始週を選んでください", field="first_week")
    try:
        value = raw if isinstance(raw, date) else date.fromisoformat(str(raw).strip())
    except ValueError:
        raise InvalidInput(
            "開始週は YYYY-MM-DD 形式の日付で入力してください", field="first_week"
        ) from None
    if value.weekday() != 0:
        raise InvalidInput("開始週は月曜日の日付にしてください", field="first_week")
    earliest = first_bookable_week(today)
    latest = earliest + timedelta(weeks=BOOKING_HORIZON_WEEKS - 1)
    if not earliest <= value <= latest:
        raise InvalidInput(
            "開始週は {earliest} から {latest} までの月曜日にしてください",
            field="first_week",
            earliest=earliest.isoformat(),
            latest=latest.isoformat(),
        )
    return value


def parse_booking_request(
    data: Mapping[str, Any], today: date, targeting: Mapping[str, Any] | None = None
) -> BookingRequest:
    """Build a request from form or JSON values; raise InvalidInput naming the first bad field."""
    return BookingRequest(
        placement_id=_int_field(data, "placement_id", "広告枠", 1, 2**62),
        first_week=parse_first_week(data.get("first_week"), today),
        weeks=_int_field(data, "weeks", "期間(週)", 1, MAX_WEEKS),
        shares=_int_field(data, "shares", "枠数", 1, 100),
        targeting=parse_targeting(targeting if targeting is not None else data.get("targeting")),
        creative_id=_optional_int(data, "creative_id", "広告素材"),
    )


def parse_idempotency_key(raw: Any) -> str:
    key = str(raw or "").strip()
    if not 8 <= len(key) <= IDEMPOTENCY_KEY_MAX or not key.isascii() or not key.isprintable():
        raise InvalidInput(
            "申込番号(idempotency key)は8〜64文字の英数字にしてください", field="idempotency_key"
        )
    return key
