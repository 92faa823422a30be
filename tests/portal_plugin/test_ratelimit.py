from __future__ import annotations

import uuid

from portal_plugin.security.ratelimit import RateLimiter


def test_memory_limits_count_every_rule() -> None:
    limiter = RateLimiter("memory://")
    key = uuid.uuid4().hex
    assert [limiter.hit("2/minute;10/hour", "login", key) for _ in range(3)] == [True, True, False]
    assert limiter.hit("2/minute;10/hour", "login", "someone-else")


def test_redis_storage_is_shared_between_limiters() -> None:
    """Two workers (two limiters) on the machine's Redis share one count."""
    first, second = RateLimiter("redis://127.0.0.1:6379"), RateLimiter("redis://127.0.0.1:6379")
    key = uuid.uuid4().hex  # a fresh key per run: Redis outlives the test
    assert first.hit("3/minute", "login", key)
    assert second.hit("3/minute", "login", key)
    assert first.hit("3/minute", "login", key)
    assert not second.hit("3/minute", "login", key)
