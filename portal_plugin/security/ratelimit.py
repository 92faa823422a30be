"""Rate limits for login, sign-up and other abuse-prone actions, backed by the `limits` library.

Storage comes from settings (memory:// for one process, redis:// to share across workers).

Rules of a minute or less use a moving window: exact, but it keeps one entry per counted hit
until the hit leaves the window. Rules of an hour or more would keep every hit for that long
(the ad-tracking limits count every impression for a day: a worker's memory grew with its
traffic all day, which the soak saw), so they use limits' sliding-window counter: two counters
per key, the previous window's weighted by how much of it still overlaps.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter

from portal_plugin.i18n import gettext as _

# Windows at least this long are counted, not kept hit by hit.
COUNTED_WINDOW_SECONDS = 3600


class RateLimiter:
    def __init__(self, storage_url: str) -> None:
        storage = storage_from_string(storage_url)
        self._moving = MovingWindowRateLimiter(storage)
        self._counted = SlidingWindowCounterRateLimiter(storage)

    def _limiter(
        self, item: RateLimitItem
    ) -> MovingWindowRateLimiter | SlidingWindowCounterRateLimiter:
        return self._counted if item.get_expiry() >= COUNTED_WINDOW_SECONDS else self._moving

    def hit(self, rules: str, *identifiers: str) -> bool:
        """Count one attempt against every rule (e.g. "5/minute;20/hour"); False if over any.

        A refused attempt is not counted, so trying again during a lockout does not lengthen
        it and the wait `retry_after` tells stays true.
        """
        items = _parse(rules)
        if not all(self._limiter(item).test(item, *identifiers) for item in items):
            return False
        allowed = True
        for item in items:
            if not self._limiter(item).hit(item, *identifiers):
                allowed = False
        return allowed

    def retry_after(self, rules: str, *identifiers: str) -> int:
        """Seconds until every rule allows one more attempt (0 when they already do)."""
        now = time.time()
        waits = [
            stats.reset_time - now
            for stats in (
                self._limiter(item).get_window_stats(item, *identifiers) for item in _parse(rules)
            )
            if stats.remaining <= 0
        ]
        return max(0, math.ceil(max(waits, default=0)))


def lockout_message(seconds: int, *, can_reset_by_mail: bool = True) -> str:
    """What a locked-out login says: that it is locked, for how long, and the way out.

    It never says the password was wrong: during the lock even the right one is refused.
    Staff reset passwords through an administrator (`portal-marketplace staff`), not by mail.
    """
    if can_reset_by_mail:
        template = _(
            "ログインの失敗が続いたため、このアカウントへのログインを一時的に止めています。"
            "あと {minutes} 分後に再度お試しください。"
            "この間は正しいパスワードでもログインできません。"
            "パスワードを忘れた場合は、メールで再設定できます。"
        )
    else:
        template = _(
            "ログインの失敗が続いたため、このアカウントへのログインを一時的に止めています。"
            "あと {minutes} 分後に再度お試しください。"
            "この間は正しいパスワードでもログインできません。"
        )
    return template.format(minutes=wait_minutes(seconds))


def wait_minutes(seconds: int) -> int:
    """Whole minutes, rounded up, so that trying again after them works."""
    return max(1, math.ceil(seconds / 60))


def _parse(rules: str) -> list[RateLimitItem]:
    return parse_many(rules)


SIGNUP_RULES = "3/minute;20/day"
# Mails telling an account's owner that someone tried to sign up with its address.
SIGNUP_NOTICE_RULES = "3/hour"
# Password reset links: per address asking, and per account written to (mail bombing).
RESET_ADDRESS_RULES = "10/hour"
RESET_EMAIL_RULES = "3/hour"
