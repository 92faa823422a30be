"""A booking's delivery so far with its cause, read from the system's own records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from fractions import Fraction

import pytest
from sqlalchemy.orm import Session

from marketplace.audit import SYSTEM, record
from marketplace.bookings.controls import pause_booking, resume_booking
from marketplace.calendar import start_of_tokyo_day
from marketplace.delivery.shortfall import Cause
from marketplace.delivery.shortfall_reading import delivery_progress
from marketplace.lifecycle import BookingStatus
from marketplace.models import Booking, Shop
from marketplace.switches import set_disaster_mode
from tests.support.delivery_rows import rollup_hour

FIRST = date(2026, 5, 4)
START = start_of_tokyo_day(FIRST)


def at(h: float) -> datetime:
    return START + timedelta(hours=h)


def deliver(
    session: Session,
    booking: Booking,
    per_hour: list[int],
    seen: bool = True,
    offset: int = 0,
    offers: int | None = None,
) -> None:
    """Hours offset + h of the booking's week: 100 eligible slots and per_hour[h] impressions."""
    for h, count in enumerate(per_hour, start=offset):
        rollup_hour(session, booking, at(h), count, 100, offers=offers, seen=seen)
    session.flush()


@pytest.fixture
def live(session: Session, make_shop: Callable[..., Shop], hold: Callable[..., Booking]) -> Booking:
    """One of four shares for a week, running."""
    booking = hold(make_shop(), weeks=1, first_week=FIRST)
    booking.status = BookingStatus.LIVE
    session.flush()
    return booking


def test_on_target_is_not_behind(session: Session, live: Booking) -> None:
    deliver(session, live, [25] * 10)
    progress = delivery_progress(session, live, at(10))
    assert (progress.measure.impressions, progress.measure.owed) == (250, 250)
    assert not progress.behind and progress.causes == ()
    assert progress.share_of_owed == 1


def test_a_staff_pause_is_the_cause(session: Session, live: Booking) -> None:
    deliver(session, live, [25, 25, 25, 0, 0, 0, 25, 25, 25, 25])
    pause_booking(session, live.id, SYSTEM, "苦情の確認", now=at(3))
    resume_booking(session, live.id, SYSTEM, now=at(6))
    progress = delivery_progress(session, live, at(10))
    assert progress.behind and progress.causes == (Cause.PAUSED,)
    assert progress.measure.shortfall == 75


def test_a_pause_still_running_counts_up_to_now(session: Session, live: Booking) -> None:
    deliver(session, live, [25, 25, 0, 0])
    pause_booking(session, live.id, SYSTEM, "確認中", now=at(2))
    progress = delivery_progress(session, live, at(4))
    assert progress.causes == (Cause.PAUSED,)


def test_disaster_mode_is_the_cause(session: Session, live: Booking) -> None:
    deliver(session, live, [25, 0, 0, 25, 25])
    set_disaster_mode(session, SYSTEM, True, "地震", now=at(1))
    set_disaster_mode(session, SYSTEM, False, now=at(3))
    assert delivery_progress(session, live, at(5)).causes == (Cause.DISASTER,)


def test_waiting_for_review_is_the_cause(session: Session, live: Booking) -> None:
    deliver(session, live, [0, 0, 0, 25, 25])
    live.status = BookingStatus.IN_REVIEW
    session.flush()
    assert delivery_progress(session, live, at(5)).causes == (Cause.REVIEW,)
    # Once approved, the hours before the approval (recorded for the booking) stay the cause.
    live.status = BookingStatus.LIVE
    record(session, SYSTEM, "booking_review_done", "booking", live.id, at=at(3))
    assert delivery_progress(session, live, at(5)).causes == (Cause.REVIEW,)


def test_an_hour_whose_impressions_were_not_counted_is_an_outage(
    session: Session, live: Booking
) -> None:
    deliver(session, live, [25, 25, 25])
    # Two hours in which the booking's few offers were not counted as seen (nor anyone's):
    # the placement's view rate falls to 75/85, and those hours hold the shortfall.
    deliver(session, live, [0, 0], seen=False, offset=3, offers=5)
    progress = delivery_progress(session, live, at(5))
    assert progress.measure.view_rate == Fraction(15, 17)
    assert progress.behind and progress.causes == (Cause.OUTAGE,)


def test_ordinary_hours_behind_without_a_forecast_say_the_reason_is_being_checked(
    session: Session, live: Booking
) -> None:
    deliver(session, live, [15] * 10)
    progress = delivery_progress(session, live, at(10))
    assert progress.behind and progress.causes == (Cause.CHECKING,)


def test_a_caught_up_pause_is_not_behind(session: Session, live: Booking) -> None:
    deliver(session, live, [25, 0, 50, 25])
    pause_booking(session, live.id, SYSTEM, "確認", now=at(1))
    resume_booking(session, live.id, SYSTEM, now=at(2))
    progress = delivery_progress(session, live, at(4))
    assert not progress.behind and progress.causes == ()
