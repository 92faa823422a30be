from __future__ import annotations

from datetime import date, timedelta

import pytest

from marketplace.bookings.cancellation import NOTICE_DAYS, cancellation_terms

WEEKS = tuple(date(2027, 3, 29) + timedelta(weeks=n) for n in range(4))  # spans FY2026→FY2027


def test_unpaid_hold_is_free_and_releases_everything() -> None:
    terms = cancellation_terms(weeks=WEEKS, total_yen=44_000, paid=False, today=date(2027, 3, 1))
    assert terms.refund_yen == 0
    assert terms.released_weeks == WEEKS


def test_full_refund_with_enough_notice() -> None:
    today = WEEKS[0] - timedelta(days=NOTICE_DAYS)
    terms = cancellation_terms(weeks=WEEKS, total_yen=44_001, paid=True, today=today)
    assert terms.refund_yen == 44_001
    assert terms.refunded_weeks == WEEKS


def test_week_inside_the_notice_period_is_not_refunded_but_released() -> None:
    today = WEEKS[0] - timedelta(days=NOTICE_DAYS - 1)
    terms = cancellation_terms(weeks=WEEKS, total_yen=44_000, paid=True, today=today)
    assert terms.refunded_weeks == WEEKS[1:]
    assert terms.refund_yen == 33_000
    assert terms.released_weeks == WEEKS


def test_running_week_is_neither_refunded_nor_released() -> None:
    today = WEEKS[1]  # Monday of the second week: it has started
    terms = cancellation_terms(weeks=WEEKS, total_yen=40_000, paid=True, today=today)
    assert terms.released_weeks == WEEKS[2:]
    assert terms.refunded_weeks == WEEKS[2:]  # the third week starts exactly 7 days later
    assert terms.refund_yen == 20_000
    later = cancellation_terms(weeks=WEEKS, total_yen=40_000, paid=True, today=today.replace(day=6))
    assert later.refunded_weeks == WEEKS[3:]
    assert later.refund_yen == 10_000


def test_city_cancellation_refunds_every_unstarted_week() -> None:
    today = WEEKS[0] - timedelta(days=1)
    terms = cancellation_terms(weeks=WEEKS, total_yen=10, paid=True, today=today, by_city=True)
    assert terms.refunded_weeks == WEEKS
    assert terms.refund_yen == 10


def test_pro_rata_rounds_down() -> None:
    weeks = WEEKS[:3]
    terms = cancellation_terms(
        weeks=weeks, total_yen=10_000, paid=True, today=weeks[1] - timedelta(days=7)
    )
    assert terms.refund_yen == 6_666


def test_a_booking_has_weeks() -> None:
    with pytest.raises(ValueError):
        cancellation_terms(weeks=(), total_yen=0, paid=True, today=date(2027, 1, 1))
