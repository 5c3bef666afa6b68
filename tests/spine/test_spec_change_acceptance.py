"""A maintainer's view: realistic upstream changes applied to a copy of the repository, then regenerated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from fedapay_mock import run_mock

from tests.spine.spine_support import edit_page, git, git_status, regenerate

CUSTOMER_ID_INTEGER = "                  customer_id:\n                    type: integer\n"
# A number, not a string: a string would leave step 10's `minimum` on CustomerRef.id binding nothing, which regenerate
# refuses on its own (tests/spine/test_spec_keywords.py).
CUSTOMER_ID_NUMBER = "                  customer_id:\n                    type: number\n"
TYPE_CHANGE = "type-changed Payout.customer_id (integer -> number)"
AUTH = {"Authorization": "Bearer sk_sandbox_spine"}


def _report(root: Path) -> dict[str, Any]:
    return json.loads((root / "build/regenerate-report.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_a_caller_breaking_type_change_is_named_and_refused_until_acknowledged(git_copy: Path) -> None:
    edit_page(git_copy, CUSTOMER_ID_INTEGER, CUSTOMER_ID_NUMBER)

    refused = regenerate("--root", str(git_copy))

    assert refused.returncode == 3, refused.stdout + refused.stderr
    out = refused.stdout
    assert "BREAKING type-changed" in out
    assert "Payout.customer_id: integer -> number" in out
    every_reply = (
        "create_payout, delete_payout, list_payouts, retrieve_payout, search_payouts, start_payouts, update_payout"
    )
    assert every_reply in out
    # The Python surface of both packages: the generated model and the hand-written package's re-export.
    assert "BREAKING fedapay_payouts_api.models.payout.Payout.customer_id: int -> float" in out
    assert "BREAKING fedapay_payouts.Payout.customer_id: int -> float" in out
    assert "REFUSED, nothing written" in out
    for stage in ("extract", "normalize", "validate", "generate+format", "report", "total"):
        assert f"  {stage} " in out
    assert git_status(git_copy) == " M spec/source/create-payout.page.txt\n"
    report = _report(git_copy)
    assert report["status"] == "refused"
    assert TYPE_CHANGE in report["unacknowledged"]
    changes = {c["where"]: c for c in report["spec_changes"]}
    assert set(changes) == {"Payout.customer_id", "CustomerRef.id"}
    assert (changes["Payout.customer_id"]["kind"], changes["Payout.customer_id"]["used_in"]) == (
        "type-changed",
        ["response"],
    )
    # CustomerRef.id is copied from customer_id (step 10): what callers send changes too.
    assert (changes["CustomerRef.id"]["kind"], changes["CustomerRef.id"]["used_in"]) == ("type-changed", ["request"])
    assert all(c["breaking"] for c in changes.values())

    # CI's drift gate fails on it too, naming it.
    check = regenerate("--check", "--root", str(git_copy))
    assert check.returncode == 3
    assert TYPE_CHANGE in check.stdout

    accepted = regenerate("--root", str(git_copy), "--accept-breaking", "customer_id is a number: compare as numbers")

    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    changelog = (git_copy / "CHANGELOG.md").read_text(encoding="utf-8")
    unreleased = changelog.split("## Unreleased", 1)[1]
    assert f"- `{TYPE_CHANGE}` (create_payout," in unreleased
    assert "compare as numbers" in unreleased
    assert "`python changed fedapay_payouts.Payout.customer_id` (int -> float)" in unreleased
    model = (git_copy / "generated/fedapay_payouts_api/models/payout.py").read_text(encoding="utf-8")
    assert "    customer_id: float\n" in model
    assert regenerate("--check", "--root", str(git_copy)).returncode == 0


def test_the_gate_is_the_changelog_entry_not_a_one_off_flag(git_copy: Path) -> None:
    """Regenerated with the flag, then the CHANGELOG line is dropped: --check against the old commit fails."""
    edit_page(git_copy, CUSTOMER_ID_INTEGER, CUSTOMER_ID_NUMBER)
    assert regenerate("--root", str(git_copy), "--accept-breaking", "numbers now").returncode == 0
    changelog = git_copy / "CHANGELOG.md"
    kept = [line for line in changelog.read_text(encoding="utf-8").splitlines() if TYPE_CHANGE not in line]
    changelog.write_text("\n".join(kept) + "\n", encoding="utf-8")

    assert regenerate("--check", "--root", str(git_copy)).returncode == 0  # the tree itself is consistent
    since = regenerate("--check", "--since", "HEAD", "--root", str(git_copy))

    assert since.returncode == 3, since.stdout + since.stderr
    assert TYPE_CHANGE in since.stdout


def test_a_non_breaking_change_regenerates_freely_and_is_listed(git_copy: Path) -> None:
    anchor = "                  balance_id:\n"
    added = (
        "                  beneficiary_note:\n                    type: string\n                    description: New.\n"
    )
    edit_page(git_copy, anchor, added + anchor)
    stale = regenerate("--check", "--root", str(git_copy))
    assert stale.returncode == 1  # stale, but nothing to acknowledge
    assert "not acknowledged" not in stale.stdout

    result = regenerate("--root", str(git_copy))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok       property-added-optional    Payout.beneficiary_note" in result.stdout
    assert "0 breaking, 1 other" in result.stdout
    assert _report(git_copy)["status"] == "written"
    changed = set(git_status(git_copy).splitlines())
    assert " M CHANGELOG.md" not in changed
    assert " M spec/openapi.yaml" in changed


def test_a_renamed_request_field_is_reported_as_removed_and_added_with_the_overlays_involved(git_copy: Path) -> None:
    edit_page(git_copy, "\n                mode:\n", "\n                payout_mode:\n")
    edit_page(git_copy, "                - mode\n", "                - payout_mode\n")

    result = regenerate("--root", str(git_copy))

    assert result.returncode == 1
    err = result.stderr
    assert "BREAKING property-removed           POST /payouts request body.mode" in err
    assert "BREAKING property-added-required    POST /payouts request body.payout_mode" in err
    removed = next(line for line in err.splitlines() if "request body.mode" in line)
    assert "overlays: 04-create-request-rules.yaml#3" in removed
    assert "04-create-request-rules.yaml: action 3: target $.components.schemas.PayoutCreate.properties.mode" in err
    # PayoutUpdate copies mode from PayoutCreate (step 07): that action is affected too, and named.
    assert "07-payout-operations.yaml: action 8: copy source $.components.schemas.PayoutCreate.properties.mode" in err
    assert "07-payout-operations.yaml#8" in removed
    report = _report(git_copy)
    assert report["status"] == "failed"
    kinds = {(c["kind"], c["where"]) for c in report["upstream_changes"]}
    assert kinds == {
        ("property-removed", "POST /payouts request body.mode"),
        ("property-added-required", "POST /payouts request body.payout_mode"),
    }
    assert "+                payout_mode:" in report["upstream_diff"]
    assert git_status(git_copy) == " M spec/source/create-payout.page.txt\n"


def test_a_relaxed_requirement_regenerates_freely_and_the_mock_answers_2xx_without_the_field(git_copy: Path) -> None:
    edit_page(git_copy, "                - customer\n                - mode\n", "                - customer\n")

    result = regenerate("--root", str(git_copy))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok       became-optional            PayoutCreate.mode" in result.stdout
    # The generated keyword type's field widened: harmless to code that builds it (the request-body
    # model PayoutCreate is not generated any more: nothing used it, see regenerate.prune).
    assert "ok       fedapay_payouts_api.api.payouts.create_payout.CreatePayoutBody.mode: Required[str] -> str" in (
        result.stdout
    )
    assert "0 breaking" in result.stdout
    body = {
        "amount": 1000,
        "currency": {"iso": "XOF"},
        "customer": {"firstname": "Ada", "lastname": "Lovelace"},
    }
    with run_mock(spec_path=str(git_copy / "spec/openapi.yaml")) as mock:
        created = httpx.post(mock.base_url + "/payouts", json=body, headers=AUTH)
    assert created.status_code == 201, created.text
    assert created.json()["v1/payout"]["mode"] is None
    assert created.json()["v1/payout"]["amount"] == 1000


def _overlay(root: Path, name: str, pattern: str) -> None:
    (root / "spec/overlays" / name).write_text(
        "overlay: 1.1.0\ninfo: {title: reference pattern, version: 1.0.0}\nactions:\n"
        "  - target: $.components.schemas.PayoutCreate.properties.merchant_reference\n"
        f"    update:\n      pattern: {pattern}\n",
        encoding="utf-8",
    )


def test_a_breaking_change_whose_id_holds_a_backtick_is_recorded_and_then_acknowledged(git_copy: Path) -> None:
    """Before, the id was cut at its backtick: the CHANGELOG was left as it was, yet the regenerate wrote."""
    _overlay(git_copy, "15-no-backticks.yaml", "'^[^`]+$'")
    refused = regenerate("--root", str(git_copy))
    assert refused.returncode == 3, refused.stdout + refused.stderr
    (change_id,) = _report(git_copy)["unacknowledged"]
    assert "`" in change_id

    accepted = regenerate("--root", str(git_copy), "--accept-breaking", "no backticks in merchant_reference")

    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "and CHANGELOG.md" in accepted.stdout
    unreleased = (git_copy / "CHANGELOG.md").read_text(encoding="utf-8").split("## Unreleased", 1)[1]
    assert f"- `` {change_id} `` (create_payout): no backticks in merchant_reference" in unreleased
    assert regenerate("--check", "--root", str(git_copy)).returncode == 0
    git(git_copy, "add", "-A")
    git(git_copy, "commit", "-q", "-m", "accepted")
    since = regenerate("--check", "--since", "HEAD~1", "--root", str(git_copy))
    assert since.returncode == 0, since.stdout + since.stderr


def test_a_line_break_in_an_id_is_recorded_escaped_on_one_line_and_reads_back(git_copy: Path) -> None:
    """A line break in an id (a pattern with a newline) is shown escaped, as every control character from the
    spec is (before, the raw newline could not be one bullet line's code span, so the change was refused; and a
    field name with one could print a line of its own). The escaped id is recorded, and acknowledges the change."""
    _overlay(git_copy, "15-two-lines.yaml", '"^a\\nb$"')

    accepted = regenerate("--root", str(git_copy), "--accept-breaking", "two lines")

    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    change_id = "constraint-narrowed PayoutCreate.merchant_reference (pattern none -> ^a\\x0ab$)"
    unreleased = (git_copy / "CHANGELOG.md").read_text(encoding="utf-8").split("## Unreleased", 1)[1]
    assert f"- `{change_id}` (create_payout): two lines\n" in unreleased
    assert regenerate("--check", "--root", str(git_copy)).returncode == 0


def test_accepting_when_nothing_breaks_does_not_claim_a_changelog_entry(git_copy: Path) -> None:
    edit_page(git_copy, "      summary: Create a payout\n", "      summary: Create a payout\n      deprecated: true\n")

    result = regenerate("--root", str(git_copy), "--accept-breaking", "nothing breaks")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "CHANGELOG.md" not in result.stdout.splitlines()[-1]
    assert result.stdout.splitlines()[-1].startswith("regenerate: wrote ")
    assert " M CHANGELOG.md" not in git_status(git_copy).splitlines()


def test_a_required_name_the_page_does_not_describe_is_refused_until_acknowledged(git_copy: Path) -> None:
    # `purpose` in `required` without a schema under `properties`: the client and the mock require it all the same.
    required_end = "                - mode\n      responses:\n"
    edit_page(git_copy, required_end, required_end.replace("\n", "\n                - purpose\n", 1))

    refused = regenerate("--root", str(git_copy))

    assert refused.returncode == 3, refused.stdout + refused.stderr
    added = "property-added-required PayoutCreate.purpose (required, no schema under properties)"
    assert added in _report(git_copy)["unacknowledged"]
    assert "spec changes: none" not in refused.stdout
    assert git_status(git_copy) == " M spec/source/create-payout.page.txt\n"


def test_an_upstream_change_an_overlay_overrides_is_shown_naming_the_overlay(git_copy: Path) -> None:
    # FedaPay's page now caps amount at 500,000; step 14 sets 1,000,000 over it, so the spec does not change.
    amount = "                amount:\n                  type: integer\n"
    edit_page(git_copy, amount, amount + "                  maximum: 500000\n")
    edit_page(git_copy, "                  balance_id:\n", "                  operator_reference:\n"
              "                    type: string\n                  balance_id:\n")

    result = regenerate("--root", str(git_copy))

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "upstream changes an overlay overrides (committed spec/extracted -> new; not in the spec): 1 breaking" in out
    capped = next(line for line in out.splitlines() if "request body.amount: maximum none -> 500000" in line)
    assert capped.endswith("overridden by overlay 14-fedapay-rules.yaml")
    assert "maximum" not in out.split("spec changes", 1)[1]  # the spec keeps the overlay's cap
    upstream = {c["id"]: c["overridden_by"] for c in _report(git_copy)["upstream_changes"]}
    assert upstream == {
        "constraint-narrowed POST /payouts request body.amount (maximum none -> 500000)": "14-fedapay-rules.yaml",
        # A change that reaches the spec is listed there, under its normalized name, and not flagged.
        "property-added-optional POST /payouts response 201.operator_reference": None,
    }
    assert "property-added-optional    Payout.operator_reference" in out
    assert _report(git_copy)["status"] == "written"


def test_an_example_only_change_says_the_text_changed_not_none(git_copy: Path) -> None:
    """Before, the report said "spec changes: none" and regenerate then rewrote spec/openapi.yaml."""
    amount = "                amount:\n                  type: integer\n"
    edit_page(git_copy, amount, amount + "                  example: 2000\n")

    result = regenerate("--root", str(git_copy))

    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "spec changes: none for callers, text only (example): descriptions, examples and summaries change nothing a"
        " program does" in result.stdout.splitlines()
    )
    assert "spec changes: none\n" not in result.stdout
    assert "regenerate: wrote spec/extracted, spec/openapi.yaml, generated/" in result.stdout
    assert " M spec/openapi.yaml\n" in git_status(git_copy)
    report = _report(git_copy)
    assert (report["spec_changes"], report["spec_text_changes"]) == ([], ["example"])
    # Nothing changed at all: "none", as before.
    again = regenerate("--root", str(git_copy))
    assert "spec changes: none" in again.stdout.splitlines()
    assert _report(git_copy)["spec_text_changes"] == []
