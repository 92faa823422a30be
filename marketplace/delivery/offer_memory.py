"""Which offers were already counted (impressions, clicks), in memory of a fixed size.

A tracking token lives two hours, so a worker must remember the offers it counted for two
hours to refuse a replay at once. Kept in a dict or a set, that memory grows for the first two
hours of every worker's life and its size follows the traffic. Here it is a table allocated,
and written, once at start-up: the worker's memory is the same at the first request and the
millionth.

The table is open addressing over 64-bit fingerprints of the offer ids (keyed BLAKE2b; with
100,000 live ids the chance that two share a fingerprint is about 3 in 10^10). An id lives in
one window of `WINDOW` consecutive slots starting at its fingerprint's home slot. An entry older
than the horizon is free space; lookups look at the whole window, so expiry needs no
tombstones. When a window holds no free slot, the oldest entry in it gives way: that offer could
then be counted again by this worker, and the database still counts it once (the offer id is
its primary key). That is rare below half the capacity (measured at half load: about once in
400,000 insertions) and becomes common only far beyond it.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable

import numpy as np

from marketplace.delivery.tracking import TOKEN_MAX_AGE_SECONDS

DEFAULT_CAPACITY = 1 << 18  # 262,144 slots, 4 MB: over two hours of a busy worker's impressions
WINDOW = 32


class OfferMemory:
    def __init__(
        self,
        capacity: int = DEFAULT_CAPACITY,
        horizon_seconds: float = TOKEN_MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity < WINDOW or capacity & (capacity - 1):
            raise ValueError(f"capacity must be a power of two of at least {WINDOW}")
        self._mask = capacity - 1
        self._horizon = horizon_seconds
        self._clock = clock
        # WINDOW spare slots at the end: every window is one contiguous slice, never wrapped.
        # np.full writes every page now, so the memory is resident from the start.
        self._keys = np.full(capacity + WINDOW, 0, dtype=np.uint64)
        self._seen_at = np.full(capacity + WINDOW, -np.inf, dtype=np.float64)
        self._salt = os.urandom(16)

    @property
    def nbytes(self) -> int:
        return int(self._keys.nbytes + self._seen_at.nbytes)

    def add(self, offer_id: str) -> bool:
        """Remember `offer_id`; False if it was already remembered (within the horizon)."""
        key, start = self._locate(offer_id)
        now = self._clock()
        keys = self._keys[start : start + WINDOW]
        seen_at = self._seen_at[start : start + WINDOW]
        live = seen_at >= now - self._horizon
        if np.any(live & (keys == key)):
            return False
        free = np.flatnonzero(~live)
        slot = int(free[0]) if free.size else int(np.argmin(seen_at))
        keys[slot] = key
        seen_at[slot] = now
        return True

    def __contains__(self, offer_id: object) -> bool:
        if not isinstance(offer_id, str):
            return False
        key, start = self._locate(offer_id)
        live = self._seen_at[start : start + WINDOW] >= self._clock() - self._horizon
        return bool(np.any(live & (self._keys[start : start + WINDOW] == key)))

    def _locate(self, offer_id: str) -> tuple[np.uint64, int]:
        digest = hashlib.blake2b(offer_id.encode(), digest_size=8, key=self._salt).digest()
        fingerprint = int.from_bytes(digest, "little")
        return np.uint64(fingerprint), fingerprint & self._mask
