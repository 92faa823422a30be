from __future__ import annotations

import pytest

from marketplace.delivery.events import new_id
from marketplace.delivery.offer_memory import WINDOW, OfferMemory


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_offer_is_counted_once_within_the_horizon_and_forgotten_after() -> None:
    clock = Clock()
    memory = OfferMemory(capacity=1024, horizon_seconds=7200, clock=clock)
    assert memory.add("a" * 32) is True
    assert memory.add("a" * 32) is False
    assert "a" * 32 in memory and "b" * 32 not in memory
    clock.now += 7199
    assert memory.add("a" * 32) is False
    clock.now += 2
    assert "a" * 32 not in memory
    assert memory.add("a" * 32) is True  # a token this old is refused as expired anyway


def test_many_distinct_offers_are_all_remembered_below_capacity() -> None:
    memory = OfferMemory(capacity=1 << 16, clock=Clock())
    ids = [new_id() for _ in range(20_000)]
    assert all(memory.add(i) for i in ids)
    assert all(i in memory for i in ids)
    assert not any(memory.add(i) for i in ids)
    assert sum(new_id() in memory for _ in range(20_000)) == 0


def test_the_memory_does_not_grow_with_traffic() -> None:
    """The table is allocated once: its size is fixed however many offers pass through.

    Each round fills a quarter of the table. At half load a window of 32 occasionally fills
    and its oldest entry gives way (about once in 400,000 insertions, measured), which the
    design allows but which made this test fail one run in 40 when it filled half.
    """
    clock = Clock()
    memory = OfferMemory(capacity=1 << 12, horizon_seconds=60, clock=clock)
    before = memory.nbytes
    for round_ in range(5):
        clock.now += 61  # the previous round has expired
        ids = [new_id() for _ in range(1_000)]
        assert all(memory.add(i) for i in ids), round_
        assert all(i in memory for i in ids)
    assert memory.nbytes == before == (4096 + WINDOW) * 16


def test_a_full_window_gives_up_its_oldest_entry() -> None:
    """Far beyond capacity (64 slots + 32 spare, 500 live ids) at most 96 ids are remembered,
    and it is the oldest that give way: an id is only evicted as the oldest of a full window
    of 32, so the 20 newest can never be."""
    clock = Clock()
    memory = OfferMemory(capacity=64, horizon_seconds=7200, clock=clock)
    ids = []
    for _ in range(500):
        clock.now += 1
        ids.append(new_id())
        assert memory.add(ids[-1])
    remembered = [i in memory for i in ids]
    assert sum(remembered) <= 64 + WINDOW
    assert all(remembered[-20:])
    assert sum(remembered[:250]) < sum(remembered[250:])


@pytest.mark.parametrize("capacity", [0, 16, 1000])
def test_capacity_must_be_a_power_of_two_of_at_least_a_window(capacity: int) -> None:
    with pytest.raises(ValueError, match="power of two"):
        OfferMemory(capacity=capacity)
