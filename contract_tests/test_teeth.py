"""Teeth: the suite must fail against every deliberately broken variant of the mock.

Each variant runs the same suite (same spec, config, checks and phases) in teeth mode: fewer
examples per phase, to stay fast, and the run stops as soon as every check the variant must fail has
failed (what follows could only add failures). A control run against the unbroken mock through the
same middleware runs whole and must pass, so a variant's failure is the variant's doing, not the harness's.
"""

from __future__ import annotations

import pytest
from fedapay_contract.isolated import run_suite_isolated
from fedapay_contract.suite import Mode, RunReport
from fedapay_mock.asgi import ASGIApp

from contract_tests.broken import VARIANTS, Rewrite, Variant
from contract_tests.conftest import API_KEY, record_report
from contract_tests.serve import serve_asgi

TIMEOUT = 300


def run_against(wrap: Variant | None, target: str, expected: frozenset[str] = frozenset()) -> RunReport:
    from fedapay_mock import create_app

    app: ASGIApp = create_app(api_key=API_KEY, freeze_clock=True)
    wrapped = wrap(app, API_KEY) if wrap is not None else Rewrite(app)
    with serve_asgi(wrapped) as served:
        return run_suite_isolated(
            base_url=served.base_url,
            api_key=API_KEY,
            mode=Mode.TEETH,
            target=target,
            timeout=TIMEOUT,
            stop_once_failed=expected,
        )


def test_control_unbroken_mock_passes_in_teeth_mode() -> None:
    report = run_against(None, "control (mock through a no-op middleware)")
    assert report.ok, report.format()
    assert not report.stopped_early
    assert report.stateful_steps > 0, report.headline()


@pytest.mark.parametrize("name", list(VARIANTS))
def test_suite_fails_against_broken_variant(name: str, request: pytest.FixtureRequest) -> None:
    wrap, expected = VARIANTS[name]
    report = run_against(wrap, name, expected)
    record_report(request, report, expected)
    assert not report.ok, f"the suite passed against broken variant {name!r}: {report.headline()}"
    assert not report.errors, report.format()
    missing = expected - report.failing_checks
    assert not missing, f"{name}: expected {sorted(missing)} to fail, got {sorted(report.failing_checks)}"
    assert report.stopped_early, report.headline()  # and the run ended there, not at its last phase
