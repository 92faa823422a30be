"""A bound on password hashing: a login flood must not take the CPU the feed needs.

One argon2 check costs about 0.17 s of CPU, spread over four threads (its lanes). Unbounded,
ten a second moved feed latency from 3 ms to 22 ms median. Work that hashes a password (login,
sign-up, reset, change) runs through the gate:

* at most `concurrency` at once in this process, on the gate's own threads; the rest wait on
  the event loop (holding no thread of the pool the other routes use);
* those threads run at the lowest CPU priority (nice 19; argon2's lane threads inherit it), so
  when the machine is busy the feed's threads are served first and hashing takes what is left;
* beyond `queue` waiting, the request is answered at once with 503 and how long to wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from marketplace.errors import DomainError

T = TypeVar("T")
LOWEST_PRIORITY = 19


class HashingBusy(DomainError):
    code = "busy"
    status = 503
    template = "ただいま混み合っています。{seconds} 秒ほどたってから再度お試しください。"


def _lower_priority(niceness: int) -> None:
    # On Linux a thread's nice value is its own (PRIO_PROCESS with a thread id) and the
    # threads it starts inherit it. Raising it needs no privilege.
    # Elsewhere (no such call, or refused) the bound on concurrency still holds.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)


class HashingGate:
    def __init__(
        self,
        concurrency: int,
        queue: int,
        seconds_per_hash: float = 0.5,
        niceness: int = LOWEST_PRIORITY,
    ) -> None:
        assert concurrency >= 1 and queue >= 0
        self.concurrency = concurrency
        self.queue = queue
        self._seconds_per_hash = seconds_per_hash
        self._inside = 0
        self._threads = ThreadPoolExecutor(
            max_workers=concurrency,
            thread_name_prefix="password-hashing",
            initializer=_lower_priority,
            initargs=(niceness,),
        )

    @property
    def inside(self) -> int:
        """Hashing now plus waiting to."""
        return self._inside

    @property
    def full(self) -> bool:
        """Another caller now would be refused: worth knowing before doing other work first."""
        return self._inside >= self.concurrency + self.queue

    def busy(self) -> HashingBusy:
        return HashingBusy(seconds=self.retry_after())

    async def run(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`work(*args, **kwargs)` on one of the gate's threads once one is free."""
        if self.full:
            raise self.busy()
        self._inside += 1
        try:
            call = partial(contextvars.copy_context().run, work, *args, **kwargs)
            return await asyncio.get_running_loop().run_in_executor(self._threads, call)
        finally:
            self._inside -= 1

    def retry_after(self) -> int:
        """Seconds until the queue has room again, at the usual cost of one hash."""
        return max(1, round(self._inside / self.concurrency * self._seconds_per_hash))
