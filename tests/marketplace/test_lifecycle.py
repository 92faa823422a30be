from __future__ import annotations

import pytest

from marketplace.errors import InvalidTransition
from marketplace.lifecycle import (
    BOOKING_TRANSITIONS,
    CREATIVE_TRANSITIONS,
    BookingStatus,
    CreativeStatus,
    IllegalTransition,
    check_transition,
)

B = BookingStatus


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (B.DRAFT, B.HELD),
        (B.HELD, B.IN_REVIEW),
        (B.HELD, B.SCHEDULED),
        (B.HELD, B.EXPIRED),
        (B.IN_REVIEW, B.APPROVED),
        (B.APPROVED, B.SCHEDULED),
        (B.SCHEDULED, B.LIVE),
        (B.LIVE, B.COMPLETED),
        (B.LIVE, B.PAUSED),
        (B.PAUSED, B.LIVE),
        (B.IN_REVIEW, B.REJECTED),
        (B.LIVE, B.CANCELLED),
    ],
)
def test_legal_booking_moves(current: BookingStatus, target: BookingStatus) -> None:
    assert check_transition("予約", BOOKING_TRANSITIONS, current, target) is target


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (B.DRAFT, B.LIVE),
        (B.HELD, B.COMPLETED),
        (B.EXPIRED, B.HELD),
        (B.CANCELLED, B.LIVE),
        (B.COMPLETED, B.CANCELLED),
        (B.REJECTED, B.SCHEDULED),
        (B.IN_REVIEW, B.LIVE),
    ],
)
def test_illegal_booking_moves_raise(current: BookingStatus, target: BookingStatus) -> None:
    with pytest.raises(IllegalTransition) as error:
        check_transition("予約", BOOKING_TRANSITIONS, current, target)
    assert isinstance(error.value, InvalidTransition)
    assert current.value in error.value.message and target.value in error.value.message


def test_every_status_has_a_row_and_terminal_states_are_final() -> None:
    assert set(BOOKING_TRANSITIONS) == set(BookingStatus)
    assert set(CREATIVE_TRANSITIONS) == set(CreativeStatus)
    for terminal in (B.COMPLETED, B.CANCELLED, B.EXPIRED):
        assert BOOKING_TRANSITIONS[terminal] == frozenset()


def test_an_approved_creative_version_can_only_be_superseded() -> None:
    with pytest.raises(IllegalTransition):
        check_transition(
            "素材", CREATIVE_TRANSITIONS, CreativeStatus.APPROVED, CreativeStatus.REJECTED
        )
    with pytest.raises(IllegalTransition):
        check_transition(
            "素材", CREATIVE_TRANSITIONS, CreativeStatus.DRAFT, CreativeStatus.APPROVED
        )
