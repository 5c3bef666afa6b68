"""Fixtures of the contract suite, and the end-of-session summary (case counts, times, cases/s, teeth table).

Each suite run records its `RunReport` on its test's report (`user_properties`, as JSON): pytest-xdist
carries test reports from its workers to the controller, so the summary is printed by whichever process
runs the terminal, with or without `-n`.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from fedapay_contract.isolated import close_zygotes
from fedapay_contract.suite import CI_PARTS, ENV_SEED, Mode, RunReport, mode_from_env
from fedapay_contract.summary import suite_lines

from contract_tests.broken import VARIANTS

if TYPE_CHECKING:
    from fedapay_mock import MockServer

API_KEY = "sk_sandbox_contract_tests"
REPORT_PROPERTY = "fedapay_contract_report"

@dataclass(frozen=True)
class Recorded:
    report: RunReport
    expected: frozenset[str] | None  # teeth runs: the checks that must fail
    worker: str  # the process that ran it: "main", or an xdist worker id ("gw0", ...)


# Filled from the test reports (in the controller when running with -n), printed once at the end.
RECORDED: list[Recorded] = []


@pytest.fixture
def contract_mock() -> Iterator[MockServer]:
    """A fresh mock for one run of the schemathesis suite (or one part of it), with a frozen clock.

    Fresh: the stateful phase is only reproducible when the server starts from the same state, and a
    part must not depend on which parts ran before it in the same worker.
    Frozen clock: started payouts do not turn `sent` mid-run because of wall-clock time.
    """
    from fedapay_mock import run_mock

    with run_mock(api_key=API_KEY, freeze_clock=True) as server:
        yield server


def record_report(request: pytest.FixtureRequest, report: RunReport, expected: frozenset[str] | None = None) -> None:
    """Attach `report` to the running test's report, for the summary (call before asserting on it).

    `user_properties` travel with the test report from an xdist worker to the controller (and into
    --junitxml output); the `record_property` fixture would do the same but warns under xunit2.
    """
    payload = {
        "report": report.to_dict(),
        "expected": sorted(expected) if expected is not None else None,
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
    }
    request.node.user_properties.append((REPORT_PROPERTY, json.dumps(payload)))


def pytest_configure(config: pytest.Config) -> None:
    """Deep mode: one random seed for every part, chosen before any xdist worker starts.

    Workers inherit this process's environment, so every part runs with the seed the summary prints,
    and FEDAPAY_CONTRACT_SEED=<that seed> replays the whole run.
    """
    if hasattr(config, "workerinput"):
        return
    try:
        mode = mode_from_env()
    except ValueError:
        return  # test_contract.py reports the bad value when it is collected
    if mode is Mode.DEEP:
        os.environ.setdefault(ENV_SEED, str(random.SystemRandom().randrange(2**31)))


def pytest_unconfigure(config: pytest.Config) -> None:
    """End the zygotes the suite's runs were forked from (`fedapay_contract.isolated`) and reap them.

    At exit would do too, but a pytest-xdist worker may end without running exit handlers: then the
    zygotes would end on their own (their stdin closes) without being waited for.
    """
    close_zygotes()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name == REPORT_PROPERTY and isinstance(value, str):
            data = json.loads(value)
            expected = data["expected"]
            RECORDED.append(
                Recorded(
                    report=RunReport.from_dict(data["report"]),
                    expected=frozenset(expected) if expected is not None else None,
                    worker=data["worker"],
                )
            )


def teeth_table(teeth: list[Recorded]) -> list[str]:
    rows = ["| broken variant | suite fails | failing checks (expected ones in bold) |", "|---|---|---|"]
    for item in teeth:
        expected = item.expected or frozenset()
        checks = ", ".join(f"**{c}**" if c in expected else c for c in sorted(item.report.failing_checks)) or "none"
        rows.append(f"| {item.report.target} | {'yes' if not item.report.ok else 'NO'} | {checks} |")
    return rows


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RECORDED:
        return
    # Workers finish in any order: print parts and variants in their declared order.
    part_order = {part.name: index for index, part in enumerate(CI_PARTS)}
    variant_order = {name: index for index, name in enumerate(VARIANTS)}
    runs = sorted((r for r in RECORDED if r.expected is None), key=lambda r: part_order.get(r.report.part, -1))
    teeth = sorted((r for r in RECORDED if r.expected is not None), key=lambda r: variant_order.get(r.report.target, 0))
    terminalreporter.section("fedapay contract suite")
    by_target: dict[str, list[Recorded]] = {}
    for item in runs:
        by_target.setdefault(item.report.target, []).append(item)
    for target_runs in by_target.values():
        for line in suite_lines([item.report for item in target_runs], len({item.worker for item in target_runs})):
            terminalreporter.write_line(line)
    if teeth:
        total = sum(item.report.total_cases for item in teeth)
        seconds = sum(item.report.duration for item in teeth)
        stopped = sum(item.report.stopped_early for item in teeth)
        terminalreporter.write_line(
            f"broken variants: {len(teeth)} runs, {total} cases in {seconds:.1f} s "
            f"({stopped} stopped as soon as their expected checks failed)"
        )
        for row in teeth_table(teeth):
            terminalreporter.write_line(row)
