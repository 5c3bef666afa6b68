"""Fixtures of the contract suite, and the end-of-session summary (case counts, times, teeth table)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from contract_tests.suite import RunReport

if TYPE_CHECKING:
    from fedapay_mock import MockServer

API_KEY = "sk_sandbox_contract_tests"

# Filled by the tests, printed once at the end of the session (pytest captures a test's own output).
REPORTS: list[RunReport] = []
TEETH: dict[str, tuple[RunReport, frozenset[str]]] = {}


@pytest.fixture(scope="module")
def contract_mock() -> Iterator[MockServer]:
    """A fresh mock for the schemathesis suite alone, with a frozen clock.

    Fresh: the stateful phase is only reproducible when the server starts from the same state.
    Frozen clock: started payouts do not turn `sent` mid-run because of wall-clock time.
    """
    from fedapay_mock import run_mock

    with run_mock(api_key=API_KEY, freeze_clock=True) as server:
        yield server


def teeth_table() -> list[str]:
    rows = ["| broken variant | suite fails | failing checks (expected ones in bold) |", "|---|---|---|"]
    for name, (report, expected) in TEETH.items():
        checks = ", ".join(f"**{c}**" if c in expected else c for c in sorted(report.failing_checks)) or "none"
        rows.append(f"| {name} | {'yes' if not report.ok else 'NO'} | {checks} |")
    return rows


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not REPORTS and not TEETH:
        return
    terminalreporter.section("fedapay contract suite")
    for report in REPORTS:
        terminalreporter.write_line(report.headline())
        times = report.phase_seconds.items()
        phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in times if seconds >= 0.05)
        terminalreporter.write_line(f"  phase times: {phases}")
    if TEETH:
        total = sum(report.total_cases for report, _ in TEETH.values())
        seconds = sum(report.duration for report, _ in TEETH.values())
        terminalreporter.write_line(f"broken variants: {len(TEETH)} runs, {total} cases in {seconds:.1f} s")
        for row in teeth_table():
            terminalreporter.write_line(row)
