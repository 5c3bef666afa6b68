"""Benchmark helper (not a test): where the test run's CPU goes, per test file, as a pytest plugin.

The full check is bound by CPU: on 2 cores its pytest run takes about 270 CPU-seconds (user
and system, every process), so it cannot end before about 135 s however the tests are spread. This plugin
says which files spend them. Each test's share is the machine's busy time while it ran (`/proc/stat`: its
subprocesses, mock servers and forked suite processes included, which the test's own process time misses),
so run it alone, in one process, on a quiet machine:

    .venv/bin/python -m pytest -n 0 -p benchmarks.test_run.cpu_by_file [pytest arguments]

At the end it prints the files by CPU-seconds, with their wall time and the part spent in pytest's own process.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator

import pytest

_TICKS = os.sysconf("SC_CLK_TCK")
_rows: list[tuple[str, float, float, float]] = []  # (test id, machine CPU-s, wall s, own process CPU-s)


def _busy_seconds() -> float:
    """CPU-seconds every core of the machine has spent busy since boot."""
    with open("/proc/stat") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks) - idle) / _TICKS


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
    busy, wall, own = _busy_seconds(), time.perf_counter(), time.process_time()
    yield
    _rows.append(
        (item.nodeid, _busy_seconds() - busy, time.perf_counter() - wall, time.process_time() - own)
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    by_file: dict[str, list[float]] = {}
    for nodeid, busy, wall, own in _rows:
        totals = by_file.setdefault(nodeid.split("::")[0], [0.0, 0.0, 0.0, 0.0])
        totals[0] += busy
        totals[1] += wall
        totals[2] += own
        totals[3] += 1
    write = terminalreporter.write_line
    write("")
    write(f"CPU by test file (machine busy time while its tests ran; {len(_rows)} tests):")
    write(f"{'CPU s':>8} {'wall s':>8} {'own s':>8} {'tests':>6}  file")
    for name, (busy, wall, own, count) in sorted(by_file.items(), key=lambda item: -item[1][0]):
        write(f"{busy:8.1f} {wall:8.1f} {own:8.1f} {count:6.0f}  {name}")
    write(f"{sum(row[1] for row in _rows):8.1f} {sum(row[2] for row in _rows):8.1f} "
          f"{sum(row[3] for row in _rows):8.1f} {len(_rows):6d}  in all")
