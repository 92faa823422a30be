from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from marketplace.bookings.requests import (
    first_bookable_week,
    parse_booking_request,
    parse_first_week,
    parse_idempotency_key,
)
from marketplace.calendar import fiscal_year, tokyo_date
from marketplace.errors import InvalidInput


@pytest.mark.parametrize(
    ("instant", "first"),
    [
        # Sunday 23:59 in Tokyo (14:59 UTC): the running week ends tonight, next Monday opens.
        (datetime(2027, 3, 28, 14, 59, tzinfo=UTC), date(2027, 3, 29)),
        # Monday 00:00 in Tokyo is still Sunday in UTC, but the new week has begun in Tokyo.
        (datetime(2027, 3, 28, 15, 0, tzinfo=UTC), date(2027, 4, 5)),
    ],
)
def test_first_bookable_week_follows_tokyo_not_utc(instant: datetime, first: date) -> None:
    assert first_bookable_week(tokyo_date(instant)) == first


def test_first_week_must_be_a_future_monday_within_the_horizon() -> None:
    today = date(2027, 3, 24)  # Wednesday
    assert parse_first_week("2027-03-29", today) == date(2027, 3, 29)
    for bad in ("2027-03-22", "2027-03-30", "2028-03-27", "29/03/2027", ""):
        with pytest.raises(InvalidInput) as error:
            parse_first_week(bad, today)
        assert error.value.field == "first_week"


def test_a_booking_may_span_the_fiscal_year_boundary() -> None:
    request = parse_booking_request(
        {"placement_id": "1", "first_week": "2027-03-29", "weeks": "2", "shares": "1"},
        date(2027, 3, 24),
    )
    assert [fiscal_year(week) for week in request.week_starts] == [2026, 2027]
    assert request.last_week == date(2027, 4, 5)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("placement_id", "x"),
        ("weeks", "53"),
        ("shares", "0"),
        ("shares", ""),
        ("creative_id", "-1"),
    ],
)
def test_numbers_are_checked_and_the_field_named(field: str, value: str) -> None:
    data = {
        "placement_id": "1",
        "first_week": "2027-03-29",
        "weeks": "1",
        "shares": "1",
        field: value,
    }
    with pytest.raises(InvalidInput) as error:
        parse_booking_request(data, date(2027, 3, 24))
    assert error.value.field == field


def test_idempotency_key() -> None:
    assert parse_idempotency_key(" abcdefgh ") == "abcdefgh"
    for bad in ("short", "x" * 65, "キー" * 5, None):
        with pytest.raises(InvalidInput):
            parse_idempotency_key(bad)
