"""The spool directory shared by the event writers of several workers (`spool.py`).

Each `SpoolDirectory` here opens its own file descriptors, as another process would: `flock`
locks held through one descriptor exclude the others, in one process or in several.
"""

from __future__ import annotations

import fcntl
import threading
import time
from pathlib import Path

import pytest

from marketplace.delivery.spool import LIVE_NAME, SpoolDirectory


def set_aside_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("replaying-*.jsonl"))


def test_lines_are_replayed_once_oldest_file_first_and_removed(tmp_path: Path) -> None:
    spool = SpoolDirectory(tmp_path)
    spool.append("first\n")
    spool.set_aside()
    spool.append("second\n")
    spool.append("\n")  # blank lines are not batches
    spool.set_aside()
    seen: list[list[str]] = []
    assert spool.replay(lambda path, lines: seen.append(lines)) == 2
    assert seen == [["first\n"], ["second\n"]]
    assert list(tmp_path.iterdir()) == []


def test_an_empty_live_spool_is_not_set_aside(tmp_path: Path) -> None:
    (tmp_path / LIVE_NAME).write_text("")
    SpoolDirectory(tmp_path).set_aside()
    assert set_aside_files(tmp_path) == []


def test_a_file_another_worker_is_replaying_is_left_to_it(tmp_path: Path) -> None:
    first, second = SpoolDirectory(tmp_path), SpoolDirectory(tmp_path)
    first.append("a batch\n")
    first.set_aside()
    second_saw: list[list[str]] = []

    def replay_meanwhile(path: Path, lines: list[str]) -> None:
        # While the first worker holds the file, the second finds nothing it may take.
        assert second.replay(lambda p, more: second_saw.append(more)) == 0

    assert first.replay(replay_meanwhile) == 1
    assert second_saw == [] and set_aside_files(tmp_path) == []


def test_a_failed_replay_keeps_the_file_for_later(tmp_path: Path) -> None:
    spool = SpoolDirectory(tmp_path)
    spool.append("a batch\n")
    spool.set_aside()

    def database_down(path: Path, lines: list[str]) -> None:
        raise ConnectionError("database down")

    with pytest.raises(ConnectionError):
        spool.replay(database_down)
    [kept] = set_aside_files(tmp_path)
    assert kept.read_text() == "a batch\n"
    assert spool.replay(lambda path, lines: None) == 1 and set_aside_files(tmp_path) == []


def test_an_append_racing_a_set_aside_lands_in_the_new_live_spool(tmp_path: Path) -> None:
    """A worker opens the live spool, another sets it aside before the first has the lock and
    replays it: the first's line must not go to the file already read."""
    spool = SpoolDirectory(tmp_path)
    spool.append("old\n")
    live = tmp_path / LIVE_NAME
    with open(live, "a") as other_worker:
        fcntl.flock(other_worker.fileno(), fcntl.LOCK_EX)
        appending = threading.Thread(target=spool.append, args=("racing\n",))
        appending.start()
        time.sleep(0.2)  # the append has opened the old file and waits for the lock
        aside = live.rename(tmp_path / "replaying-1-1.jsonl")
        fcntl.flock(other_worker.fileno(), fcntl.LOCK_UN)
    appending.join(5)
    assert not appending.is_alive()
    assert aside.read_text() == "old\n"
    assert live.read_text() == "racing\n"
