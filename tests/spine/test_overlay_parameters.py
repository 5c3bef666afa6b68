"""An overlay's `parameters` merge with the page's by parameter; no page parameter is dropped unreported.

Before, step 07's update `parameters: [IdempotencyKey]` on POST /payouts replaced the page's whole list: a page
adding a required `FedaPay-Account` header ended with no mention of it in the spec, exit 0, the report calling the
dropped required parameter "overridden by overlay 07". Now the overlay's entry replaces only the page's entry of
the same (`in`, `name`); the page's new required header reaches the spec and the gate stops it as breaking.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from regenerate import apply_overlays

from tests.spine.spine_support import edit_page, git_status, regenerate

STEP_07 = Path("spec/overlays/07-payout-operations.yaml")
CREATE = "      description: This endpoint creates a new payout.\n      requestBody:"
ACCOUNT = (
    "      description: This endpoint creates a new payout.\n      parameters:\n"
    "        - name: FedaPay-Account\n          in: header\n          required: true\n"
    "          description: The account to debit.\n          schema:\n            type: string\n      requestBody:"
)
ACCOUNT_ID = "parameter-added-required POST /payouts header parameter FedaPay-Account"
IDEMPOTENCY = {"$ref": "#/components/parameters/IdempotencyKey"}


def _apply(document: dict[str, Any], *actions: dict[str, Any]) -> dict[str, Any]:
    return apply_overlays(document, [(STEP_07, {"actions": list(actions)})])


def test_an_overlays_parameter_joins_the_pages_and_replaces_only_its_own() -> None:
    account = {"name": "FedaPay-Account", "in": "header", "required": True}
    page_key = {"name": "idempotency-key", "in": "header", "required": True}
    document: dict[str, Any] = {
        "components": {"parameters": {"IdempotencyKey": {"name": "Idempotency-Key", "in": "header"}}},
        "paths": {"/payouts": {"post": {"parameters": [account, page_key], "tags": ["Payout", "x"]}}},
    }

    result = _apply(document, {
        "target": "$.paths['/payouts'].post", "update": {"parameters": [IDEMPOTENCY], "tags": ["payouts"]},
    })

    post = result["paths"]["/payouts"]["post"]
    # The page's header kept; its Idempotency-Key (a header name has no case) is the overlay's, in its place.
    assert post["parameters"] == [account, IDEMPOTENCY]
    # A value list is still replaced whole.
    assert post["tags"] == ["payouts"]


def test_a_parameter_an_overlay_appends_to_a_list_replaces_the_pages_of_the_same_name() -> None:
    document: dict[str, Any] = {"paths": {"/s": {"get": {"parameters": [
        {"name": "search", "in": "query", "required": True}, {"name": "search", "in": "header"},
    ]}}}}
    mine = {"name": "search", "in": "query", "required": False}

    appended = [mine, {"name": "q", "in": "query"}]

    result = _apply(document, {"target": "$.paths['/s'].get.parameters", "update": appended})

    assert result["paths"]["/s"]["get"]["parameters"] == [
        mine, {"name": "search", "in": "header"}, {"name": "q", "in": "query"},
    ]


def test_a_pages_new_required_header_on_create_reaches_the_spec_and_is_gated(git_copy: Path) -> None:
    edit_page(git_copy, CREATE, ACCOUNT)

    refused = regenerate("--root", str(git_copy))

    # Before: exit 0, written, FedaPay-Account nowhere in the spec.
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert f"  {ACCOUNT_ID}\n" in refused.stdout
    assert "overridden by" not in refused.stdout
    report = json.loads((git_copy / "build/regenerate-report.json").read_text(encoding="utf-8"))
    assert report["unacknowledged"] == [ACCOUNT_ID]
    assert all(not change["overridden_by"] for change in report["upstream_changes"])
    assert git_status(git_copy) == " M spec/source/create-payout.page.txt\n"

    accepted = regenerate("--root", str(git_copy), "--accept-breaking", "send FedaPay-Account")

    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    spec = yaml.safe_load((git_copy / "spec/openapi.yaml").read_text(encoding="utf-8"))
    parameters = spec["paths"]["/payouts"]["post"]["parameters"]
    assert parameters == [
        {"name": "FedaPay-Account", "in": "header", "required": True, "description": "The account to debit.",
         "schema": {"type": "string"}},
        IDEMPOTENCY,
    ]
