import threading

import pytest

from marketplace.lru import LruCache


def test_the_least_recently_used_entry_makes_room() -> None:
    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3)
    assert "b" not in cache and cache.get("a") == 1 and cache.get("c") == 3
    assert len(cache) == 2


def test_putting_an_existing_key_replaces_its_value_and_refreshes_it() -> None:
    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    cache.put("c", 3)
    assert cache.get("a") == 10 and "b" not in cache


def test_get_or_make_makes_once_while_remembered() -> None:
    cache: LruCache[int, list[int]] = LruCache(4)
    made = cache.get_or_make(1, lambda: [1])
    assert cache.get_or_make(1, lambda: [2]) is made


def test_a_cache_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError):
        LruCache(0)


def test_threads_filling_and_reading_at_once_keep_it_bounded() -> None:
    cache: LruCache[int, int] = LruCache(100)

    def fill(offset: int) -> None:
        for n in range(5_000):
            cache.put(offset + n, n)
            cache.get(offset + n // 2)

    threads = [threading.Thread(target=fill, args=(k * 10_000,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 100
