"""The schemathesis contract suite: against the mock (always) and against any server named by env vars.

CI mode (default): fixed seed, derandomized, fixed example counts, >= 3,000 cases incl. stateful, in
parts (`CI_PARTS`), each against its own fresh mock, so `pytest -n 2` runs them on both cores.
Deep mode (`FEDAPAY_CONTRACT_MODE=deep`): more examples, random seed (printed; replay it with
`FEDAPAY_CONTRACT_SEED`). Another server, e.g. FedaPay's sandbox:
`FEDAPAY_CONTRACT_BASE_URL=https://sandbox-api.fedapay.com/v1 FEDAPAY_CONTRACT_API_KEY=sk_sandbox_...`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from fedapay_contract.cli import redactor
from fedapay_contract.isolated import hypothesis_storage, run_suite_isolated
from fedapay_contract.suite import (
    CI_PARTS,
    ENV_API_KEY,
    ENV_BASE_URL,
    OPERATION_IDS,
    PHASES,
    STATEFUL,
    UNIT_PHASES,
    Mode,
    Part,
    mode_from_env,
    populate,
    run_suite,
)
from fedapay_contract.visible import visible

from contract_tests.conftest import API_KEY, record_report

if TYPE_CHECKING:
    from fedapay_mock import MockServer

MODE = mode_from_env()
# CI mode runs in well under a minute; deep mode and remote servers (rate limits, latency) take longer.
SUITE_TIMEOUT = 300 if MODE is Mode.CI else 3 * 3600
EXTERNAL_TIMEOUT = 3 * 3600

# What CI mode promises (see README): enough cases, a real stateful run, every check exercised.
# Each part asserts its own minimum (`Part.min_cases`); together they make these.
MIN_CASES = 3000
MIN_STATEFUL_STEPS = 1500
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
        "accepted_start_was_startable",
        "accepted_start_reads_back",
        "create_reply_matches_request",
        "new_payout_is_pending",
        "created_payout_reads_back",
        "accepted_update_reads_back",
    }
)

# Operations that name an existing payout, by operation id -> schemathesis' label.
ACTS_ON_A_PAYOUT = {
    "retrieve_payout": "GET /payouts/{id}",
    "update_payout": "PUT /payouts/{id}",
    "delete_payout": "DELETE /payouts/{id}",
    "start_payouts": "PUT /payouts/start",
}


def test_the_parts_make_the_whole_suite() -> None:
    """Splitting the suite must not lose a phase, an operation, the second stateful seed or cases."""
    for phase in UNIT_PHASES:
        covered = [op for part in CI_PARTS if phase in part.phases for op in (part.operations or OPERATION_IDS)]
        assert sorted(covered) == sorted(OPERATION_IDS), phase  # each operation once per unit phase
    stateful = [part for part in CI_PARTS if STATEFUL in part.phases]
    assert len({part.seed_offset for part in stateful}) == len(stateful) >= 2
    assert len({part.name for part in CI_PARTS}) == len(CI_PARTS)
    assert sum(part.min_cases for part in CI_PARTS) >= MIN_CASES
    assert sum(part.min_cases for part in stateful) >= MIN_STATEFUL_STEPS
    # Operations that act on an existing payout meet real ones, as when create's cases ran first.
    for part in CI_PARTS:
        if part.operations and "create_payout" not in part.operations:
            assert part.prefill > 0, part.name
    # A check a part leaves out is still required of the others.
    assert not frozenset.intersection(*(part.checks_off for part in CI_PARTS))


@pytest.mark.timeout(SUITE_TIMEOUT)
@pytest.mark.parametrize("part", CI_PARTS, ids=[part.name for part in CI_PARTS])
def test_mock_honours_the_contract(part: Part, contract_mock: MockServer, request: pytest.FixtureRequest) -> None:
    if part.prefill:
        populate(contract_mock.base_url, API_KEY, part.prefill)
    report = run_suite_isolated(
        base_url=contract_mock.base_url, api_key=API_KEY, mode=MODE, target="mock", part=part, timeout=SUITE_TIMEOUT,
        not_implemented=contract_mock.stats()["not_implemented"],
    )
    record_report(request, report)
    assert report.ok, report.format()
    # The run really was the part it claims to be: each of its phases produced cases, every check ran.
    assert all(report.cases_by_phase.get(phase, 0) > 0 for phase in part.phases), report.cases_by_phase
    assert set(report.cases_by_phase) <= set(part.phases), report.cases_by_phase
    expected_checks = EXPECTED_CHECKS - part.checks_off
    assert report.checks_run >= expected_checks, sorted(expected_checks - report.checks_run)
    if MODE is Mode.CI:  # deep mode's size is whatever FEDAPAY_CONTRACT_MAX_EXAMPLES asks for
        assert report.total_cases >= part.min_cases, report.headline()
    # Prefilled: the operations that act on a payout met real ones (some 2xx), not only unknown ids.
    if part.prefill:
        for operation in sorted(set(part.operations) & ACTS_ON_A_PAYOUT.keys()):
            label = ACTS_ON_A_PAYOUT[operation]
            assert report.statuses.get(label, {}).get("2xx", 0) > 0, (label, report.statuses.get(label))


@pytest.mark.timeout(EXTERNAL_TIMEOUT)
def test_external_server_honours_the_contract(request: pytest.FixtureRequest) -> None:
    base_url = os.environ.get(ENV_BASE_URL, "").strip()
    api_key = os.environ.get(ENV_API_KEY, "").strip()
    if not base_url or not api_key:
        pytest.skip(
            f"no external server to check: set {ENV_BASE_URL} (e.g. https://sandbox-api.fedapay.com/v1) "
            f"and {ENV_API_KEY} (an sk_sandbox_... key) to run the same suite against it"
        )
    # One run of every phase, not parts in parallel: a remote server has rate limits and real latency.
    # Every text of the report is redacted at once, as the command does (its curl repros quote the key, and a
    # server can echo it), and its control characters shown as escapes: the report reaches pytest's output,
    # assertion introspection included, and --junitxml through `record_report`.
    redact = redactor(api_key)
    # In this process, so its Hypothesis caches would go to `.hypothesis/` in the user's working directory.
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(hypothesis_storage())
    report = run_suite(base_url=base_url, api_key=api_key, mode=MODE, target=base_url).redacted(
        lambda text: visible(redact(text))
    )
    record_report(request, report)
    if not report.ok:
        pytest.fail(report.format(), pytrace=False)
    empty = [phase for phase in PHASES if not report.cases_by_phase.get(phase)]
    if empty:
        pytest.fail(f"phases that produced no cases: {', '.join(empty)}", pytrace=False)
