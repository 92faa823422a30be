from __future__ import annotations

import platform
import subprocess
import sys
import time

import pytest

from portal_plugin.cli.process_tuning import MemoryTrimmer

SCRIPT = """
import os
from portal_plugin.cli.process_tuning import cap_malloc_arenas
print(cap_malloc_arenas(), os.environ["MALLOC_ARENA_MAX"])
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_the_cap_applies_to_this_process_and_is_passed_to_workers() -> None:
    env = {"PATH": "/usr/bin:/bin"}
    output = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    assert output == ["True", "2"]


def test_an_operator_setting_is_kept() -> None:
    env = {"PATH": "/usr/bin:/bin", "MALLOC_ARENA_MAX": "4"}
    output = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    assert output[1] == "4"


def test_a_malformed_setting_is_refused_with_a_clear_error() -> None:
    env = {"PATH": "/usr/bin:/bin", "MALLOC_ARENA_MAX": "two"}
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env)
    assert result.returncode != 0
    assert "MALLOC_ARENA_MAX must be a positive whole number, not 'two'" in result.stderr


FREEZE = """
import gc
from portal_plugin.cli.process_tuning import FrozenAfterLoads
from tests.support.settings import make_settings
hooks = FrozenAfterLoads(make_settings("sqlite://"))
before = gc.get_freeze_count()
hooks.long_lived_data_loaded()
print(before, gc.get_freeze_count() > before)
"""


def test_the_serve_command_freezes_what_is_loaded_and_the_library_does_not() -> None:
    output = subprocess.run(
        [sys.executable, "-c", FREEZE], capture_output=True, text=True, check=True
    ).stdout.split()
    assert output == ["0", "True"]


REFREEZE = """
import gc, weakref
from portal_plugin.cli.process_tuning import FrozenAfterLoads
from tests.support.settings import make_settings
class Node: pass
hooks = FrozenAfterLoads(make_settings("sqlite://"))
hooks.long_lived_data_loaded()  # the model and rankings, loaded once
cycle = Node(); cycle.me = cycle  # a passing structure alive at the next load
alive = weakref.ref(cycle)
hooks.long_lived_data_loaded()  # rankings worked out again
del cycle
gc.collect()
print(alive() is None)
"""


def test_later_loads_do_not_freeze_what_becomes_garbage() -> None:
    """Freezing at every load (each re-ranking) kept any cycle alive at that moment forever:
    frozen objects are never collected. The soak's workers grew with it."""
    output = subprocess.run(
        [sys.executable, "-c", REFREEZE], capture_output=True, text=True, check=True
    ).stdout.split()
    assert output == ["True"]


TRIM = """
import random
from portal_plugin.cli.process_tuning import trim_freed_memory
def resident_mb():
    return [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS")][0] / 1024
blocks = [bytes(random.randint(600, 20_000)) for _ in range(20_000)]  # about 200 MB, malloc's
kept = blocks[::16]  # live blocks all over the heap: free() alone can give nothing back
del blocks
before = resident_mb()
print(trim_freed_memory(), round(before - resident_mb()))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_trimming_gives_freed_heap_pages_back() -> None:
    trimmed, released_mb = subprocess.run(
        [sys.executable, "-c", TRIM], capture_output=True, text=True, check=True
    ).stdout.split()
    assert trimmed == "True"
    assert int(released_mb) > 100  # of the ~190 MB freed


def test_the_trimmer_trims_every_interval_until_stopped() -> None:
    calls: list[float] = []
    trimmer = MemoryTrimmer(interval=0.01, trim=lambda: calls.append(time.monotonic())).start()
    deadline = time.monotonic() + 5
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    trimmer.stop()
    made = len(calls)
    time.sleep(0.05)
    assert made >= 3 and len(calls) == made
