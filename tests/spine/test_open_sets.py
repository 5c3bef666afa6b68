"""A reply field step 03 declares open (`status`, `mode`) is never closed by a page's `enum`.

Before, a page listing today's statuses as an `enum` passed through to the generated parser: once
acknowledged, every create raised PayoutOutcomeUnknownError ("status of the wrong type") on the next status
FedaPay added. Now regenerate refuses, naming step 03 and how to keep the field open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from regenerate import OpenSetClosed, check_open_sets

from tests.spine.spine_support import edit_page, git_status, regenerate

STEP_03 = "spec/overlays/03-payout-as-sent.yaml"
REPLY_STATUS = "                  status:\n                    type: string\n"
REPLY_MODE = (
    "                  mode:\n                    type: string\n                    description: Payout mode.\n"
)
PLACE = "$.components.schemas.Payout.properties"


@pytest.mark.parametrize(
    ("field", "before", "enum"),
    [("status", REPLY_STATUS, "[pending, scheduled, sent, failed]"), ("mode", REPLY_MODE, "[mtn_open, moov]")],
)
def test_a_pages_enum_on_an_open_reply_field_is_refused_naming_step_03(
    git_copy: Path, field: str, before: str, enum: str
) -> None:
    edit_page(git_copy, before, before.replace("type: string\n", f"type: string\n                    enum: {enum}\n"))

    result = regenerate("--root", str(git_copy), "--accept-breaking", "whatever it is")

    assert result.returncode == 1, result.stdout + result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"regenerate: FAILED: {STEP_03}: {PLACE}.{field} is an open set")
    assert f"closes it with enum {yaml.safe_load(enum)!r}" in first
    assert f"`target: {PLACE}.{field}.enum` and `remove: true`" in first
    assert "regenerate: what changed upstream:" in result.stderr
    assert f"POST /payouts response 201.{field}: enum" in result.stderr
    assert git_status(git_copy) == " M spec/source/create-payout.page.txt\n"


def test_the_remove_action_the_refusal_suggests_keeps_status_an_open_string(git_copy: Path) -> None:
    edit_page(git_copy, REPLY_STATUS, REPLY_STATUS + "                    enum: [pending, sent]\n")
    step = git_copy / STEP_03
    step.write_text(
        step.read_text(encoding="utf-8") + f"  - target: {PLACE}.status.enum\n    remove: true\n", encoding="utf-8"
    )

    result = regenerate("--root", str(git_copy))

    assert result.returncode == 0, result.stdout + result.stderr
    spec = yaml.safe_load((git_copy / "spec/openapi.yaml").read_text(encoding="utf-8"))
    status = spec["components"]["schemas"]["Payout"]["properties"]["status"]
    assert status["type"] == "string"
    assert "enum" not in status
    assert not [name for name in git_status(git_copy).split() if name.endswith(".py")]


def _document(status: dict[str, Any]) -> dict[str, Any]:
    return {"components": {"schemas": {
        "Status": {"type": "string", "enum": ["a", "b"]},
        "Payout": {"properties": {"status": status}},
    }}}


OPEN = [(Path("spec/overlays/03-x.yaml"), {"info": {"x-open-sets": [f"{PLACE}.status"]}, "actions": []})]


@pytest.mark.parametrize(
    ("status", "closed_by"),
    [
        ({"type": "string", "enum": ["a"]}, "enum ['a']"),
        ({"$ref": "#/components/schemas/Status"}, "enum ['a', 'b'] (through #/components/schemas/Status)"),
        ({"allOf": [{"type": "string"}, {"$ref": "#/components/schemas/Status"}]},
         "enum ['a', 'b'] (through #/components/schemas/Status)"),
        ({"oneOf": [{"enum": ["a"]}, {"enum": ["b"]}]}, "oneOf of enum ['a'], enum ['b']"),
    ],
)
def test_every_way_a_schema_closes_an_open_field_is_refused(status: dict[str, Any], closed_by: str) -> None:
    with pytest.raises(OpenSetClosed) as refused:
        check_open_sets(_document(status), OPEN)

    assert f"closes it with {closed_by}. Keep it open: " in str(refused.value)
    direct = "enum" in status
    assert (f"`target: {PLACE}.status.enum` and `remove: true`" in str(refused.value)) is direct


@pytest.mark.parametrize("status", [{"type": "string"}, {"oneOf": [{"enum": ["a"]}, {"type": "string"}]}])
def test_an_open_field_stays_accepted(status: dict[str, Any]) -> None:
    check_open_sets(_document(status), OPEN)


STUB = {"description": "Payout status. Open set."}


def _payout(**payout: Any) -> dict[str, Any]:
    return {"components": {"schemas": {"Base": {"properties": {"status": {"type": "string", "enum": ["a"]}}},
                                       "Payout": payout}}}


@pytest.mark.parametrize(
    ("payout", "place"),
    [
        ({"allOf": [{"properties": {"status": {"type": "string", "enum": ["a"]}}}]},
         "$.components.schemas.Payout.allOf[0].properties.status"),
        ({"anyOf": [{"type": "object"}, {"allOf": [{"properties": {"status": {"enum": ["a"]}}}]}]},
         "$.components.schemas.Payout.anyOf[1].allOf[0].properties.status"),
        ({"allOf": [{"$ref": "#/components/schemas/Base"}]}, "$.components.schemas.Base.properties.status"),
    ],
)
def test_an_enum_on_the_open_field_in_a_branch_of_its_schema_is_refused(payout: dict[str, Any], place: str) -> None:
    """Before: only Payout.properties.status (step 03's description stub) was read; the branch closed the parser."""
    with pytest.raises(OpenSetClosed) as refused:
        check_open_sets(_payout(properties={"status": STUB}, **payout), OPEN)

    message = str(refused.value)
    assert f"{PLACE}.status is an open set" in message
    assert f"closes it at {place} with enum ['a']" in message
    assert f"`target: {place}.enum` and `remove: true`" in message


def test_a_branch_keeping_the_field_open_is_accepted_beside_the_stub() -> None:
    check_open_sets(_payout(properties={"status": STUB}, allOf=[{"properties": {"status": {"type": "string"}}}]), OPEN)


def test_a_declared_open_field_that_is_only_a_stub_without_a_type_is_refused() -> None:
    """Before: a page renaming `status` left step 03's description as the field, of no type, silently."""
    with pytest.raises(OpenSetClosed) as refused:
        check_open_sets(_payout(properties={"status": STUB, "state": {"type": "string"}}), OPEN)

    message = str(refused.value)
    assert message.startswith(f"spec/overlays/03-x.yaml: info.x-open-sets: {PLACE}.status has no type in the spec")
    assert "point the declaration and the overlay's actions on the field at its new place" in message


REPLY_STATUS_FULL = REPLY_STATUS + (
    "                    description: >-\n"
    "                      Payout status (e.g., 'pending', 'scheduled', 'sent',\n"
    "                      'failed').\n"
)
REPLY_SCHEMA = "              schema:\n                type: object\n                properties:\n"
BRANCH = (
    "                allOf:\n                  - type: object\n                    properties:\n"
    "                      status:\n                        type: string\n"
    "                        enum: [pending, scheduled, sent, failed]\n"
)


def test_a_page_moving_status_with_an_enum_into_an_allof_branch_is_refused(git_copy: Path) -> None:
    edit_page(git_copy, REPLY_STATUS_FULL, "")
    properties = "                properties:\n"
    edit_page(git_copy, REPLY_SCHEMA, REPLY_SCHEMA.replace(properties, BRANCH + properties))

    result = regenerate("--root", str(git_copy), "--accept-breaking", "whatever it is")

    # Before: exit 0, written; the generated PayoutStatus Literal refused 'processing' with TypeError.
    assert result.returncode == 1, result.stdout + result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"regenerate: FAILED: {STEP_03}: {PLACE}.status is an open set")
    assert "closes it at $.components.schemas.Payout.allOf[0].properties.status with enum" in first
    # The page's enum reached the spec (the refusal is about it): the upstream report does not call it overridden.
    assert "POST /payouts response 201.status: enum ['pending', 'scheduled', 'sent', 'failed'] introduced" in (
        result.stderr
    )
    assert "overridden by" not in result.stderr
    assert git_status(git_copy) == " M spec/source/create-payout.page.txt\n"


def test_a_page_renaming_status_is_refused_not_left_a_field_of_no_type(git_copy: Path) -> None:
    edit_page(git_copy, REPLY_STATUS, REPLY_STATUS.replace("status:", "state:"))

    result = regenerate("--root", str(git_copy), "--accept-breaking", "whatever it is")

    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.splitlines()[0].startswith(
        f"regenerate: FAILED: {STEP_03}: info.x-open-sets: {PLACE}.status has no type in the spec"
    )
    assert git_status(git_copy) == " M spec/source/create-payout.page.txt\n"


def test_a_declared_open_field_that_is_gone_is_refused() -> None:
    with pytest.raises(OpenSetClosed, match=r"x-open-sets: \$\.components\.schemas\.Payout\.properties\.status "
                                            "matches nothing in the spec"):
        check_open_sets({"components": {"schemas": {"Payout": {"properties": {}}}}}, OPEN)
