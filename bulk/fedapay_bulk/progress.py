"""Progress: a bar on a terminal (rich), plain log lines otherwise (a CI log, a file, a pipe)."""

from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO


class Progress(Protocol):
    def phase(self, name: str, total: int | None) -> None: ...
    def advance(self, count: int = 1) -> None: ...
    def done(self) -> None: ...


class SilentProgress:
    def phase(self, name: str, total: int | None) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass

    def done(self) -> None:
        pass


class LogProgress:
    """A line when a phase starts, then at most one every `every` seconds, and one when it ends."""

    def __init__(self, out: TextIO = sys.stderr, every: float = 2.0) -> None:
        self.out = out
        self.every = every
        self.name = ""
        self.total: int | None = None
        self.count = 0
        self.began = self.last = 0.0

    def phase(self, name: str, total: int | None) -> None:
        self.name, self.total, self.count = name, total, 0
        self.began = self.last = time.monotonic()
        self._line("started")

    def advance(self, count: int = 1) -> None:
        self.count += count
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self._line("")

    def done(self) -> None:
        self._line(f"done in {time.monotonic() - self.began:.1f} s")

    def _line(self, suffix: str) -> None:
        of = f"/{self.total}" if self.total is not None else ""
        stamp = time.strftime("%H:%M:%S")
        self.out.write(f"{stamp} {self.name}: {self.count}{of}{' ' + suffix if suffix else ''}\n")
        self.out.flush()


class RichProgress:
    """A live progress bar (rich) on stderr."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=Console(stderr=True), transient=False,
        )
        self._bar.start()
        self._task: int | None = None

    def phase(self, name: str, total: int | None) -> None:
        self._task = self._bar.add_task(name, total=total)

    def advance(self, count: int = 1) -> None:
        if self._task is not None:
            self._bar.advance(self._task, count)  # type: ignore[arg-type]

    def done(self) -> None:
        if self._task is not None:
            task = self._bar.tasks[-1]
            if task.total is None:
                self._bar.update(self._task, total=task.completed)  # type: ignore[arg-type]
            self._task = None

    def close(self) -> None:
        self._bar.stop()


def for_terminal(stream: TextIO = sys.stderr) -> LogProgress | RichProgress:
    return RichProgress() if stream.isatty() else LogProgress(stream)
