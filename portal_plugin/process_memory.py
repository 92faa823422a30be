"""Keep a long-running worker's memory flat: cap glibc's per-thread malloc arenas.

Each thread that allocates while another holds the main arena gets an arena of its own (up to
eight per core), and memory freed in one arena is not reused by the others. A worker has an
event loop, a thread pool for blocking routes, the event writer and the refresh thread, so
under mixed traffic its resident size keeps creeping up although nothing leaks. Two arenas keep
the lock contention negligible and let freed memory be reused. `MALLOC_ARENA_MAX` does the same
for processes started afterwards (uvicorn's workers), since glibc reads it at start-up.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

ARENAS = 2
_M_ARENA_MAX = -8  # from glibc's malloc.h


def cap_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Apply the cap to this process and its children; False where libc is not glibc.

    An operator's own `MALLOC_ARENA_MAX` is kept; one that is not a positive whole number is
    refused with a clear error (glibc would silently ignore it).
    """
    raw = os.environ.setdefault("MALLOC_ARENA_MAX", str(arenas))
    if not raw.strip().isdigit() or int(raw) < 1:
        raise ValueError(f"MALLOC_ARENA_MAX must be a positive whole number, not {raw!r}")
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # musl and other libcs have no mallopt
        return False
    return bool(mallopt(_M_ARENA_MAX, int(raw)))
