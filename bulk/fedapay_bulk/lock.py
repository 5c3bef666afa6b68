"""One run per journal at a time: OS locks (`fcntl.flock`) on `JOURNAL.lock` and on the journal file itself.

Two runs of one journal at once (a double click, an overlapping cron job) would share a staging file and
a journal; the second is refused at once, before reading the file, naming the lock. The locks are the
kernel's: they go with the process (a `kill -9` releases them), so a stale lock file never blocks a run.

The lock file is named after the journal's resolved path (`os.path.realpath`): a symlinked --journal
locks the same file. The journal file itself is locked too, as soon as it exists: a hard link to it
(another name, the same file) and a lock file deleted during a run cannot let a second run in.
`flock` and SQLite's own (POSIX) locks are independent on Linux; the journal's descriptor here is closed
only after SQLite closed the journal (closing it earlier would drop SQLite's POSIX locks).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .errors import BulkError, Problem


class JournalLock:
    """Held from before the file is read until the journal is closed."""

    def __init__(self, journal: Path) -> None:
        self.journal = Path(os.path.realpath(journal))
        self.path = Path(f"{self.journal}.lock")
        self._fds: list[int] = []
        self._journal_held = False

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise BulkError(
                f"cannot create the lock {self.path}: {exc.strerror or exc}; nothing was sent",
                [Problem(0, "--journal", f"{self.path.parent} must be a writable folder")],
            ) from None
        self._lock(fd, self.path)
        try:
            self.hold_journal()
        except BaseException:
            self.release()
            raise

    def hold_journal(self) -> None:
        """Lock the journal file too, once it exists (call again after creating it)."""
        if self._journal_held or not self.journal.is_file():
            return
        try:
            fd = os.open(self.journal, os.O_RDONLY)
        except OSError:
            return  # unreadable: opening it as the journal will say so
        self._lock(fd, self.journal)
        self._journal_held = True

    def _lock(self, fd: int, what: Path) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise BulkError(
                f"another run of this journal is in progress (it holds {what}); nothing was sent",
                [Problem(0, "journal", "wait for the other run to end (one run per journal at a time)")],
            ) from None
        self._fds.append(fd)

    def release(self) -> None:
        while self._fds:
            os.close(self._fds.pop())  # closing a descriptor releases its lock
        self._journal_held = False
