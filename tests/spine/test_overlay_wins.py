"""An overlay's list replaces the page's: the correction wins whole, for every overlay (`enum`, `required`...).

Before, oas_patch's merge joined the two lists: a page's `enum: [EUR]` under step 04's `[XOF, GNF]` became
`[EUR, XOF, GNF]` (the client and the mock accepted EUR; the report said both "overridden by overlay 04" and
"enum-widened ... added ['EUR']"), and a page's `required` under step 03's doubled names into an invalid spec.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from regenerate import apply_overlays

from tests.spine.spine_support import ROOT, edit_page, git_status, regenerate

MOCK_SPEC = "mock/fedapay_mock/openapi.yaml"

ISO = "                    iso:\n                      type: string\n"
BALANCE_ID = (
    "                  balance_id:\n                    type: integer\n                    description: Balance ID.\n"
)
STEP_03_REQUIRED = [
    "klass", "id", "reference", "amount", "status", "customer_id", "currency_id", "mode", "created_at", "updated_at",
]


def _report(root: Path) -> dict[str, Any]:
    return json.loads((root / "build/regenerate-report.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _spec(root: Path) -> dict[str, Any]:
    return yaml.safe_load((root / "spec/openapi.yaml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _same_spec_and_client(root: Path) -> None:
    """The spec means what it meant (only the order of a field's keys may move) and no Python module changed:
    the client and the mock (which reads the spec's copy) accept and refuse what they did."""
    assert _spec(root) == _spec(ROOT)
    assert yaml.safe_load((root / MOCK_SPEC).read_text(encoding="utf-8")) == _spec(ROOT)
    changed = [line[3:] for line in git_status(root).splitlines()]
    assert [name for name in changed if name.endswith(".py")] == []


def test_every_overlays_update_replaces_a_list_and_merges_an_object() -> None:
    document: dict[str, Any] = {
        "a": {"enum": ["EUR"], "required": ["x", "y"], "tags": ["t"], "nested": {"list": [1, 2], "keep": True}},
        "params": [{"name": "p"}],
    }
    overlay_values = {"enum": ["XOF", "GNF"], "required": ["z"], "nested": {"list": [3]}}
    overlays = [
        (Path("spec/overlays/07-any-name.yaml"), {"actions": [{"target": "$.a", "update": overlay_values}]}),
        (Path("spec/overlays/99-other.yaml"), {"actions": [{"target": "$.params", "update": {"name": "q"}}]}),
    ]

    result = apply_overlays(document, overlays)

    assert result["a"] == {
        "enum": ["XOF", "GNF"], "required": ["z"], "tags": ["t"], "nested": {"list": [3], "keep": True},
    }
    # An update whose target is a list appends to it (the Overlay specification's rule; steps 12 and 13 use it).
    assert result["params"] == [{"name": "p"}, {"name": "q"}]
    # The document holds copies: changing it never changes the overlay (applied to two documents by the report).
    result["a"]["enum"].append("USD")
    assert overlay_values["enum"] == ["XOF", "GNF"]


def test_a_pages_currency_enum_is_replaced_by_step_04s(git_copy: Path) -> None:
    edit_page(git_copy, ISO, ISO + "                      enum: [EUR]\n")

    result = regenerate("--root", str(git_copy))

    assert result.returncode == 0, result.stdout + result.stderr
    assert _spec(git_copy)["components"]["schemas"]["CurrencyInput"]["properties"]["iso"]["enum"] == ["XOF", "GNF"]
    _same_spec_and_client(git_copy)
    report = _report(git_copy)
    assert report["spec_changes"] == []
    (upstream,) = report["upstream_changes"]
    assert upstream["id"] == "enum-narrowed POST /payouts request body.currency.iso (enum ['EUR'] introduced)"
    assert upstream["overridden_by"] == "04-create-request-rules.yaml"
    assert "EUR" not in result.stdout.split("spec changes", 1)[1]
    assert "spec changes: none" in result.stdout


def test_a_pages_required_list_on_the_reply_is_replaced_by_step_03s(git_copy: Path) -> None:
    edit_page(git_copy, BALANCE_ID, BALANCE_ID + "                required:\n                  - id\n"
              "                  - balance_id\n")

    result = regenerate("--root", str(git_copy))

    # Before: [id, balance_id, klass, id, ...] with `id` twice, an invalid spec, exit 1.
    assert result.returncode == 0, result.stdout + result.stderr
    assert _spec(git_copy)["components"]["schemas"]["Payout"]["required"] == STEP_03_REQUIRED
    _same_spec_and_client(git_copy)
    assert all(change["overridden_by"] for change in _report(git_copy)["upstream_changes"])
