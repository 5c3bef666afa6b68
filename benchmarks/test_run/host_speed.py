"""Benchmark (not a test): how fast this host is right now, to read a timing of the full check against.

    .venv/bin/python benchmarks/test_run/host_speed.py [--rounds 3]

These machines share their host: on 2026-11-29 the same code's full check took 145 s at one hour and
157-181 s the next, and one run of every test in one process spent 194 CPU-seconds at one hour and 279
the next. CPU-seconds themselves grow when the host is busy, and not for every kind of work alike: a
loop of arithmetic kept its time while the contract suite's cases (allocation-heavy Hypothesis draws,
HTTP on loopback) took twice theirs. This prints both, round after round, side by side:

- `loop`: a fixed pure-Python loop over a small dict (stays in the core's caches);
- `suite`: the contract suite's CI part "unit: create" (the same cases every run: derandomized) against
  the mock on loopback, both in this process.

Run it just before and just after a timing: a `suite` figure far above its usual says the host, not the
change, made the run slow. Two runs of 3 and 6 rounds, ten minutes apart on 2026-11-29: `suite` 2.36-4.22
CPU-s from one round to the next (340 cases each time; the collector's share steady at 0.3 s), `loop`
0.87-0.98.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

LOOP_ITERATIONS = 20_000_000
SUITE_PART = "unit: create"
API_KEY = "sk_sandbox_host_speed"


def _loop() -> int:
    table: dict[int, int] = {}
    for index in range(LOOP_ITERATIONS):
        table[index % 1000] = index * 2
    return len(table)


def _suite() -> int:
    from fedapay_contract.suite import CI_PARTS, Mode, run_suite
    from fedapay_mock import run_mock

    (part,) = (part for part in CI_PARTS if part.name == SUITE_PART)
    with run_mock(api_key=API_KEY, freeze_clock=True) as mock:
        report = run_suite(base_url=mock.base_url, api_key=API_KEY, mode=Mode.CI, target="mock", part=part)
    if not report.ok:
        raise SystemExit(f"the suite failed against the mock, so its time says nothing:\n{report.format()}")
    return report.total_cases


def _measure(work: Callable[[], int]) -> tuple[float, int]:
    """This process's CPU-seconds (user and system) for `work`, and what it returned."""
    started = time.process_time()
    size = work()
    return time.process_time() - started, size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    _suite()  # imports and first-use caches out of the figures
    loops: list[float] = []
    suites: list[float] = []
    print("| round | loop CPU-s | suite CPU-s | suite cases | suite / loop |")
    print("|---|---|---|---|---|")
    for round_number in range(1, args.rounds + 1):
        loop_cpu, _ = _measure(_loop)
        suite_cpu, cases = _measure(_suite)
        loops.append(loop_cpu)
        suites.append(suite_cpu)
        print(f"| {round_number} | {loop_cpu:.2f} | {suite_cpu:.2f} | {cases} | {suite_cpu / loop_cpu:.2f} |")
    loop_median, suite_median = statistics.median(loops), statistics.median(suites)
    print(f"| median | {loop_median:.2f} | {suite_median:.2f} | | {suite_median / loop_median:.2f} |")
    with open("/proc/loadavg", encoding="ascii") as loadavg:
        print(f"load average: {' '.join(loadavg.read().split()[:3])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
