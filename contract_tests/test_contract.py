"""The schemathesis contract suite: against the mock (always) and against any server named by env vars.

CI mode (default): fixed seed, derandomized, fixed example counts, >= 1,500 cases incl. stateful.
Deep mode (`FEDAPAY_CONTRACT_MODE=deep`): more examples, random seed (printed; replay it with
`FEDAPAY_CONTRACT_SEED`). Another server, e.g. FedaPay's sandbox:
`FEDAPAY_CONTRACT_BASE_URL=https://sandbox-api.fedapay.com/v1 FEDAPAY_CONTRACT_API_KEY=sk_sandbox_...`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from contract_tests.conftest import API_KEY, REPORTS
from contract_tests.suite import ENV_API_KEY, ENV_BASE_URL, Mode, mode_from_env, run_suite

if TYPE_CHECKING:
    from fedapay_mock import MockServer

MODE = mode_from_env()
# CI mode runs in well under a minute; deep mode and remote servers (rate limits, latency) take longer.
SUITE_TIMEOUT = 300 if MODE is Mode.CI else 3 * 3600
EXTERNAL_TIMEOUT = 3 * 3600

# What CI mode promises (see README): enough cases, a real stateful run, every check exercised.
MIN_CASES = 1500
MIN_STATEFUL_STEPS = 300
EXPECTED_CHECKS = frozenset(
    {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "positive_data_acceptance",
        "negative_data_rejection",
        "use_after_free",
        "ensure_resource_availability",
        "missing_required_header",
        "ignored_auth",
        "object_level_authorization",
        "unsupported_method",
        "allow_header_conformance",
        "refused_start_keeps_pending",
    }
)
PHASES = ("examples", "coverage", "fuzzing", "stateful")


@pytest.mark.timeout(SUITE_TIMEOUT)
def test_mock_honours_the_contract(contract_mock: MockServer) -> None:
    report = run_suite(
        base_url=contract_mock.base_url,
        api_key=API_KEY,
        mode=MODE,
        target="mock",
        not_implemented=contract_mock.stats()["not_implemented"],
    )
    REPORTS.append(report)
    assert report.ok, report.format()
    # The run really was the suite it claims to be: every phase produced cases, every check ran.
    assert all(report.cases_by_phase.get(phase, 0) > 0 for phase in PHASES), report.cases_by_phase
    assert report.checks_run >= EXPECTED_CHECKS, sorted(EXPECTED_CHECKS - report.checks_run)
    if MODE is Mode.CI:  # deep mode's size is whatever FEDAPAY_CONTRACT_MAX_EXAMPLES asks for
        assert report.total_cases >= MIN_CASES, report.headline()
        assert report.stateful_steps >= MIN_STATEFUL_STEPS, report.headline()


@pytest.mark.timeout(EXTERNAL_TIMEOUT)
def test_external_server_honours_the_contract() -> None:
    base_url = os.environ.get(ENV_BASE_URL, "").strip()
    api_key = os.environ.get(ENV_API_KEY, "").strip()
    if not base_url or not api_key:
        pytest.skip(
            f"no external server to check: set {ENV_BASE_URL} (e.g. https://sandbox-api.fedapay.com/v1) "
            f"and {ENV_API_KEY} (an sk_sandbox_... key) to run the same suite against it"
        )
    report = run_suite(base_url=base_url, api_key=api_key, mode=MODE, target=base_url)
    REPORTS.append(report)
    assert report.ok, report.format()
