"""One run per journal at a time: an OS lock (`fcntl.flock`) on `JOURNAL.lock`, beside the journal.

Two runs of one file at once (a double click, an overlapping cron job) would share a staging file and a
journal; the second is refused at once, before reading the file, naming the lock. The lock is the
kernel's: it goes with the process (a `kill -9` releases it), so a stale lock file never blocks a run.
The file itself stays (removing it would let a third run lock a different file than the second).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .errors import BulkError, Problem


class JournalLock:
    """Held from before the file is read until the journal is closed."""

    def __init__(self, journal: Path) -> None:
        self.path = Path(f"{journal}.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise BulkError(
                f"cannot create the lock {self.path}: {exc.strerror or exc}; nothing was sent",
                [Problem(0, "--journal", f"{self.path.parent} must be a writable folder")],
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise BulkError(
                f"another run of this journal is in progress (it holds {self.path}); nothing was sent",
                [Problem(0, "journal", "wait for the other run to end (one run per journal at a time)")],
            ) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None
