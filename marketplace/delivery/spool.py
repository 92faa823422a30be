"""The spool directory the event writers of all workers share, safe between processes.

Every worker of a server appends the batches it could not write to the same spool file, and
every worker replays the spool once the database answers again. Each operation opens the file
anew and takes an `flock` on it, which keeps threads and processes apart alike:

* **Appending** takes an exclusive lock on the live spool, then checks that the file it opened
  is still the one at the spool's path: a replay may have renamed it aside between the open and
  the lock, and a line written to the renamed file after the replay read it would be lost. If it
  was renamed, the append starts over on the new live spool.
* **Setting aside** the live spool for a replay renames it under the same lock, so no append is
  half-way through it.
* **Replaying** claims one set-aside file at a time with a lock that does not wait: a file
  another worker is replaying is skipped, and a file that another worker finished (and removed)
  between the listing and the lock is recognised as gone. Only the claimant removes it.

A crashed process's locks are released by the kernel, so a claimed file is never orphaned.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

LIVE_NAME = "delivery-events.jsonl"
SET_ASIDE_PATTERN = "replaying-*.jsonl"


def _still_at(handle: IO[str], path: Path) -> bool:
    """Whether the open file is the one `path` names now (not renamed, not removed)."""
    try:
        named = path.stat()
    except FileNotFoundError:
        return False
    opened = os.fstat(handle.fileno())
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def _open(path: Path, mode: str) -> IO[str] | None:
    try:
        return open(path, mode, encoding="utf-8")
    except FileNotFoundError:
        return None


@contextmanager
def _locked(path: Path, mode: str, *, wait: bool) -> Iterator[IO[str] | None]:
    """`path` opened in `mode` and exclusively locked; None when it is gone, renamed before the
    lock was had, or (with `wait=False`) locked by someone else."""
    handle = _open(path, mode)
    if handle is None:
        yield None
        return
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield None
            return
        yield handle if _still_at(handle, path) else None


class SpoolDirectory:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @property
    def live_path(self) -> Path:
        return self.directory / LIVE_NAME

    def append(self, line: str) -> None:
        """Append one line to the live spool and sync it to disk."""
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            with _locked(self.live_path, "a", wait=True) as spool:
                if spool is None:  # renamed aside between our open and our lock: start over
                    continue
                spool.write(line)
                spool.flush()
                os.fsync(spool.fileno())
                return

    def set_aside(self) -> None:
        """Rename the live spool aside for replay; appends meanwhile start a new one."""
        if not self.live_path.exists():
            return
        with _locked(self.live_path, "r", wait=True) as spool:  # "r": never creates it
            if spool is not None and os.fstat(spool.fileno()).st_size:
                # The process id keeps two workers setting aside at the same instant apart.
                aside = f"replaying-{time.time_ns()}-{os.getpid()}.jsonl"
                self.live_path.rename(self.directory / aside)

    def replay(self, handle_lines: Callable[[Path, list[str]], None]) -> int:
        """Hand each set-aside file's lines, oldest file first, to `handle_lines`, and remove
        the file once it returns; returns the files handled. Files another worker is replaying
        are skipped. If `handle_lines` raises, the file stays for a later replay."""
        handled = 0
        for path in sorted(self.directory.glob(SET_ASIDE_PATTERN)):
            with _locked(path, "r", wait=False) as claimed:
                if claimed is None:
                    continue
                handle_lines(path, [line for line in claimed if line.strip()])
                path.unlink()
                handled += 1
        return handled
