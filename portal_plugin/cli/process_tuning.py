"""How `portal-marketplace serve` tunes its own processes for a long life.

This is process policy, so it lives with the command that owns the process, not in the library
a host imports: a host serving the plugin from its own process chooses its own (and may copy
these two steps).

* **malloc arenas.** Each thread that allocates while another holds the main arena gets an
  arena of its own (up to eight per core), and memory freed in one arena is not reused by the
  others. A worker has an event loop, a thread pool for blocking routes, the event writer and
  the refresh thread, so under mixed traffic its resident size keeps creeping up although
  nothing leaks. Two arenas keep the lock contention negligible and let freed memory be reused.
  `MALLOC_ARENA_MAX` does the same for processes started afterwards (uvicorn's workers), since
  glibc reads it at start-up.
* **Frozen long-lived objects.** The relevance model holds millions of small objects (a profile
  per resident). A full garbage collection walks all of them: measured at 0.5 s with 20,000
  residents, during which no request is answered. `FrozenAfterLoads` hooks freeze what the
  process holds once the plugin reports its long-lived data loaded (`PortalHooks.
  long_lived_data_loaded`), so those objects are never walked again. Frozen objects freed by
  reference counting are released as usual; frozen objects caught in reference cycles are not.
  So it freezes once, at the first load: the plugin reports a load again after every
  re-ranking, and freezing each time kept any cycle alive at that moment forever (the soak's
  workers grew by tens of MB an hour with it).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os

from starlette.applications import Starlette

from portal_plugin.demo.app import create_demo_app
from portal_plugin.hooks import PortalHooks
from portal_plugin.settings import load_settings

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


def freeze_long_lived_objects() -> None:
    """Collect once, then keep everything the process holds out of later full collections."""
    gc.collect()
    gc.freeze()


class FrozenAfterLoads(PortalHooks):
    """The default hooks, with the process's long-lived objects frozen after the first load."""

    frozen = False

    def long_lived_data_loaded(self) -> None:
        if not self.frozen:
            self.frozen = True
            freeze_long_lived_objects()


def create_served_app() -> Starlette:
    """The demo portal as `serve` starts it in each uvicorn worker, its process tuned."""
    cap_malloc_arenas()
    settings = load_settings()
    return create_demo_app(settings, hooks=FrozenAfterLoads(settings))
