"""An operation the spec gained before the mock did is reported as not implemented, and the rest still runs."""

from __future__ import annotations

from pathlib import Path

import yaml
from fedapay_contract.suite import SPEC_PATH, UNIT_PHASES, Mode, Part, run_suite

from contract_tests.conftest import API_KEY

# The unit phases of one implemented operation: the new operation is outside `Part.operations` (those name
# the packaged spec's operations), so it runs with them unless the suite leaves it out as not implemented.
# Enough to show both: the rest runs, the missing one does not (the whole suite: 4 s more, nothing more shown).
PART = Part("retrieve, and whatever the spec gained", UNIT_PHASES, ("retrieve_payout",))


def test_an_operation_without_a_handler_is_reported_not_implemented_and_the_suite_passes(tmp_path: Path) -> None:
    from fedapay_mock import run_mock

    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    spec["paths"]["/payouts/{id}/cancel"] = {
        "parameters": [{"$ref": "#/components/parameters/PayoutId"}],
        "post": {
            "operationId": "cancel_payout",
            "tags": ["payouts"],
            "responses": {
                "200": {
                    "description": "The cancelled payout.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PayoutEnvelope"}}},
                },
                "404": {"$ref": "#/components/responses/NotFound"},
            },
        },
    }
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")

    with run_mock(api_key=API_KEY, freeze_clock=True, spec_path=str(path)) as mock:
        missing = mock.stats()["not_implemented"]
        report = run_suite(
            base_url=mock.base_url,
            api_key=API_KEY,
            mode=Mode.TEETH,
            target="mock with a newer spec",
            spec_path=path,
            part=PART,
            not_implemented=missing,
        )

    assert missing == ["cancel_payout"]
    assert report.ok, report.format()
    assert report.not_implemented == ["cancel_payout"]
    assert "not implemented by the target: cancel_payout" in report.headline()
    assert report.total_cases > 0
    assert sorted(report.cases_by_operation) == ["GET /payouts/{id}"]
