"""Rate limits for login, sign-up and other abuse-prone actions, backed by the `limits` library.

Storage comes from settings (memory:// for one process, redis:// to share across workers).
"""

from __future__ import annotations

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


class RateLimiter:
    def __init__(self, storage_url: str) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_url))

    def hit(self, rules: str, *identifiers: str) -> bool:
        """Count one attempt against every rule (e.g. "5/minute;20/hour"); False if over any."""
        allowed = True
        for item in _parse(rules):
            if not self._limiter.hit(item, *identifiers):
                allowed = False
        return allowed


def _parse(rules: str) -> list[RateLimitItem]:
    return parse_many(rules)


LOGIN_RULES = "5/minute;30/hour"
SIGNUP_RULES = "3/minute;20/day"
