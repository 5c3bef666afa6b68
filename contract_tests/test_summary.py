"""The end-of-run summary survives pytest-xdist: reports made in the workers are printed by the controller.

A small pytest run with two workers, on tests that record made-up reports (no server, no schemathesis
run), with this folder's conftest loaded as a plugin: the summary must add up every worker's reports.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

FAKE_TESTS = '''
from fedapay_contract.suite import CheckFailure, Mode, RunReport

from contract_tests.conftest import record_report


def report(target, part, cases, failures=()):
    return RunReport(target=target, mode=Mode.CI, seed=1, derandomized=True, part=part, started=1000.0,
                     duration=2.0, cases_by_phase={"fuzzing": cases}, checks_run={"not_a_server_error"},
                     failures=list(failures))


def test_one_part(request):
    record_report(request, report("mock", "unit: create", 300))


def test_another_part(request):
    record_report(request, report("mock", "unit: start", 45))


def test_a_variant(request):
    failure = CheckFailure("response_schema_conformance", "GET /payouts", 200, "t", "m", "curl")
    caught = report("no_envelope", "", 7, [failure])
    caught.stopped_early = True
    record_report(request, caught, frozenset({"response_schema_conformance"}))
'''


def test_reports_travel_from_the_workers_to_the_summary(tmp_path: Path) -> None:
    (tmp_path / "test_fake.py").write_text(FAKE_TESTS, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    # Only the plugins this needs: the workers start faster without schemathesis', Hypothesis' and the rest.
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    plugins = ["-p", "xdist", "-p", "contract_tests.conftest", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", *plugins, "."],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "2 workers [3 items]" in out, out
    # Both parts, whichever worker ran them, in one line; each part on its own line; the variant's row.
    assert "mock [ci mode, derandomized]: 345 cases (fuzzing 345; 0 stateful scenarios)" in out, out
    assert "(2 parts on" in out, out
    assert "  mock unit: create [ci mode, derandomized]: 300 cases" in out, out
    assert "  mock unit: start [ci mode, derandomized]: 45 cases" in out, out
    assert "broken variants: 1 runs, 7 cases" in out, out
    assert "(1 stopped as soon as their expected checks failed)" in out, out
    assert "| no_envelope | yes | **response_schema_conformance** |" in out, out
