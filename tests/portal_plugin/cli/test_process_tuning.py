from __future__ import annotations

import platform
import subprocess
import sys

import pytest

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
