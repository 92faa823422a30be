from __future__ import annotations

import uuid

from portal_plugin.security.ratelimit import RateLimiter, lockout_message, wait_minutes


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


def test_retry_after_says_when_one_more_attempt_is_allowed() -> None:
    limiter = RateLimiter("memory://")
    key = uuid.uuid4().hex
    assert limiter.retry_after("2/minute;10/hour", "login", key) == 0
    assert limiter.hit("2/minute;10/hour", "login", key)
    assert limiter.hit("2/minute;10/hour", "login", key)
    assert not limiter.hit("2/minute;10/hour", "login", key)
    assert 55 <= limiter.retry_after("2/minute;10/hour", "login", key) <= 60


def test_attempts_refused_during_a_lockout_do_not_lengthen_it() -> None:
    limiter = RateLimiter("memory://")
    key = uuid.uuid4().hex
    rules = "2/minute;3/hour"
    assert [limiter.hit(rules, "login", key) for _ in range(2)] == [True, True]
    for _ in range(10):  # hammering while locked out
        assert not limiter.hit(rules, "login", key)
    # Only the minute's lock holds: the hour has room for one more attempt after it.
    assert limiter.retry_after(rules, "login", key) <= 60


def test_the_wait_is_said_in_whole_minutes_rounded_up() -> None:
    assert [wait_minutes(s) for s in (0, 1, 60, 61, 3600)] == [1, 1, 1, 2, 60]
    assert "あと 2 分後に再度お試しください。" in lockout_message(61)
    assert "メールで再設定" not in lockout_message(61, can_reset_by_mail=False)


def test_day_rules_count_hits_instead_of_keeping_each_one() -> None:
    """The ad-tracking limits count every impression for a day: kept hit by hit, a worker's
    memory grew with its traffic all day (the soak's growing workers)."""
    limiter = RateLimiter("memory://")
    keys = [uuid.uuid4().hex for _ in range(50)]
    for key in keys:
        for _ in range(40):
            assert limiter.hit("100/day", "ad-resident", key)
    # The memory storage both strategies share: what it keeps for these keys.
    storage = next(v.storage for v in vars(limiter).values() if hasattr(v, "storage"))
    kept = sum(len(entries) for entries in storage.events.values())  # type: ignore[attr-defined]
    assert kept == 0, f"{kept} hits kept one by one"
    assert [limiter.hit("41/day", "ad-ip", keys[0]) for _ in range(42)][-2:] == [True, False]


def test_day_rules_still_refuse_over_the_limit_and_say_when() -> None:
    limiter = RateLimiter("memory://")
    key = uuid.uuid4().hex
    assert [limiter.hit("3/day", "ad-ip", key) for _ in range(4)] == [True, True, True, False]
    assert 0 < limiter.retry_after("3/day", "ad-ip", key) <= 2 * 86400
