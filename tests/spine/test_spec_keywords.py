"""Keywords a page and the overlays write together agree: nullable with enum, a keyword with its schema's type.

Before: a page's `enum` on `last_error_code` silently dropped step 03's `nullable: true` (the generated parser
refused the null FedaPay sends, every create failed to read its reply; the report said `ok`), and a page retyping
`amount` integer -> string left steps 04/14's `minimum`/`maximum` binding nothing (the 1,000,000 cap gone, exit 0).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml
from fedapay_mock import run_mock
from spec_changes import compare
from spec_keywords import Misplaced, misplaced, null_in_enums

from tests.spine.spine_support import edit_page, git_status, regenerate

REPLY_CODE = "                  last_error_code:\n                    type: string\n"
REQUEST_AMOUNT = (
    "                amount:\n                  type: integer\n                  description: Amount of the payout."
)
AUTH = {"Authorization": "Bearer sk_sandbox_spine"}
CUSTOMER = {"firstname": "Ada", "lastname": "Lovelace", "phone_number": {"number": "+22997808080", "country": "bj"}}
# Parses replies with the copy's generated Payout model, in a child process (the copy's package first on sys.path).
PARSE = """
import json, sys, typing
sys.path.insert(0, sys.argv[1])
from fedapay_payouts_api.models.payout import Payout
reply = json.loads(sys.argv[2])
hint = typing.get_type_hints(Payout)["last_error_code"]
out = {"args": sorted(repr(arg) for arg in typing.get_args(hint)), "parsed": {}}
for value in (None, "NO_ERROR"):
    try:
        out["parsed"][repr(value)] = repr(Payout.from_dict({**reply, "last_error_code": value}).last_error_code)
    except Exception as exc:
        out["parsed"][repr(value)] = type(exc).__name__
# The client over the copy's models, against the mock: its reply checks read the enum's union (a Literal in it).
from fedapay_payouts import FedaPay
with FedaPay("sk_sandbox_spine", base_url=sys.argv[3], max_retries=0) as client:
    try:
        created = client.payouts.create(amount=1000, currency="XOF", mode="mtn_open", customer=json.loads(sys.argv[4]))
        out["client"] = repr(created.last_error_code)
    except Exception as exc:
        out["client"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(out))
"""


def _spec(root: Path) -> dict[str, Any]:
    return yaml.safe_load((root / "spec/openapi.yaml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_an_enum_a_page_adds_to_a_nullable_reply_field_keeps_null(git_copy: Path) -> None:
    edit_page(git_copy, REPLY_CODE, REPLY_CODE + "                    enum: [NO_ERROR, INSUFFICIENT_BALANCE]\n")

    result = regenerate("--root", str(git_copy), "--accept-breaking", "spine: last_error_code is an enum")

    assert result.returncode == 0, result.stdout + result.stderr
    field = _spec(git_copy)["components"]["schemas"]["Payout"]["properties"]["last_error_code"]
    assert field["enum"] == ["NO_ERROR", "INSUFFICIENT_BALANCE", None]
    assert field["nullable"] is True
    # The report says the enum with its null, and no nullability lost.
    assert (
        "  ok       enum-narrowed              Payout.last_error_code: enum ['NO_ERROR', 'INSUFFICIENT_BALANCE', None]"
        " introduced" in result.stdout
    )
    assert "nullable-removed" not in result.stdout
    # One Literal and None: the generator was given the enum's null without `nullable` beside it (both made it
    # write three copies of the Literal).
    assert (
        "fedapay_payouts.Payout.last_error_code: None | str | Unset = UNSET -> None | PayoutLastErrorCodeType1 | Unset"
        " = UNSET" in result.stdout
    )
    # The mock (this checkout's, on the copy's spec) sends the field null, and the copy's generated model reads it.
    with run_mock(spec_path=str(git_copy / "spec/openapi.yaml")) as mock:
        created = httpx.post(
            mock.base_url + "/payouts", headers=AUTH,
            json={"amount": 1000, "currency": {"iso": "XOF"}, "mode": "mtn_open", "customer": CUSTOMER},
        )
        assert created.status_code == 201, created.text
        reply = created.json()["v1/payout"]
        assert reply["last_error_code"] is None
        done = subprocess.run(
            [sys.executable, "-c", PARSE, str(git_copy / "generated"), json.dumps(reply), mock.base_url,
             json.dumps(CUSTOMER)],
            capture_output=True, text=True, check=True,
        )
    parsed = json.loads(done.stdout)
    assert parsed["client"] == "None"
    assert parsed["parsed"] == {"None": "None", "'NO_ERROR'": "'NO_ERROR'"}
    assert parsed["args"] == [
        "<class 'NoneType'>", "<class 'fedapay_payouts_api.types.Unset'>",
        "typing.Literal['INSUFFICIENT_BALANCE', 'NO_ERROR']",
    ]


def test_null_joins_the_enum_of_a_nullable_schema_only() -> None:
    document: dict[str, Any] = {"components": {"schemas": {
        "A": {"type": "string", "nullable": True, "enum": ["x"]},
        "B": {"type": "string", "enum": ["x"]},
        "C": {"type": "string", "nullable": True, "enum": ["x", None]},
        "D": {"type": "string", "nullable": True, "example": {"nullable": True, "enum": ["data"]}},
    }}}

    changed = null_in_enums(document)

    schemas = document["components"]["schemas"]
    assert changed == [("components", "schemas", "A")]
    assert [schemas[name].get("enum") for name in "ABCD"] == [["x", None], ["x"], ["x", None], None]
    assert schemas["D"]["example"] == {"nullable": True, "enum": ["data"]}


def _reply(field: dict[str, Any]) -> dict[str, Any]:
    schema = {"type": "object", "properties": {"code": field}}
    return {"openapi": "3.0.3", "paths": {"/p": {"get": {"operationId": "get_p", "responses": {"200": {
        "description": "ok", "content": {"application/json": {"schema": schema}}}}}}}}


def test_the_report_reads_an_enum_without_null_as_not_nullable() -> None:
    nullable = {"type": "string", "nullable": True}

    lost = compare(_reply(nullable), _reply({**nullable, "enum": ["A"]}))
    kept = compare(_reply(nullable), _reply({**nullable, "enum": ["A", None]}))
    regained = compare(_reply({**nullable, "enum": ["A"]}), _reply({**nullable, "enum": ["A", None]}))

    assert sorted(change.id for change in lost) == [
        "enum-narrowed GET /p response 200.code (enum ['A'] introduced)", "nullable-removed GET /p response 200.code",
    ]
    assert [change.id for change in kept] == ["enum-narrowed GET /p response 200.code (enum ['A', None] introduced)"]
    # Null added to the enum is the field becoming nullable, said once (not also as a new enum value).
    assert [(change.id, change.breaking) for change in regained] == [("nullable-added GET /p response 200.code", True)]


def test_a_page_retyping_a_capped_amount_is_refused_naming_the_overlay_actions_whose_bounds_would_bind_nothing(
    git_copy: Path,
) -> None:
    edit_page(git_copy, REQUEST_AMOUNT, REQUEST_AMOUNT.replace("type: integer", "type: string"))

    result = regenerate("--root", str(git_copy), "--accept-breaking", "spine: amount is a string")

    assert result.returncode == 1, result.stdout + result.stderr
    err = result.stderr.splitlines()
    assert err[0].startswith("regenerate: FAILED: spec/openapi.yaml: 4 keyword(s) the schema's type ignores")
    page_type = (
        "`type: string` from spec/source/create-payout.page.txt fence 1 at $.paths['/payouts'].post.requestBody"
        ".content['application/json'].schema.properties.amount.type"
    )
    create, update = "$.components.schemas.PayoutCreate", "$.components.schemas.PayoutUpdate"
    assert err[1:5] == [
        f"  {create}.properties.amount.minimum: `minimum: 1` applies to an integer or a number, not to `type: string`"
        f" (`minimum` from spec/overlays/04-create-request-rules.yaml action 2; {page_type})",
        f"  {create}.properties.amount.maximum: `maximum: 1000000` applies to an integer or a number, not to `type:"
        f" string` (`maximum` from spec/overlays/14-fedapay-rules.yaml action 1; {page_type})",
        f"  {update}.properties.amount.minimum: `minimum: 1` applies to an integer or a number, not to `type: string`"
        f" (`minimum` from spec/overlays/07-payout-operations.yaml action 6 (a copy of {create}.properties.amount"
        f".minimum), which has it from spec/overlays/04-create-request-rules.yaml action 2; {page_type})",
        f"  {update}.properties.amount.maximum: `maximum: 1000000` applies to an integer or a number, not to `type:"
        f" string` (`maximum` from spec/overlays/14-fedapay-rules.yaml action 2 (a copy of {create}.properties.amount"
        f".maximum), which has it from spec/overlays/14-fedapay-rules.yaml action 1; {page_type})",
    ]
    # What changed upstream, as for any refusal a page causes; nothing written, the report says why.
    assert "regenerate: what changed upstream:" in err
    assert "+                  type: string" in err
    assert err[-1] == "regenerate: nothing was written."
    assert git_status(git_copy) == " M spec/source/create-payout.page.txt\n"
    report = json.loads((git_copy / "build/regenerate-report.json").read_text(encoding="utf-8"))
    assert report["status"] == "failed"
    assert "PayoutCreate.properties.amount.maximum" in report["failures"][0]


def test_a_pages_own_keyword_its_type_ignores_names_the_page(git_copy: Path) -> None:
    edit_page(git_copy, REPLY_CODE, REPLY_CODE + "                    minimum: 3\n")

    result = regenerate("--root", str(git_copy))

    assert result.returncode == 1, result.stdout + result.stderr
    place = "$.paths['/payouts'].post.responses['201'].content['application/json'].schema.properties.last_error_code"
    assert result.stderr.splitlines()[1] == (
        "  $.components.schemas.Payout.properties.last_error_code.minimum: `minimum: 3` applies to an integer or a"
        " number, not to `type: string` (`minimum` from spec/overlays/02-shared-components.yaml action 2 (a copy of"
        f" {place}.minimum), which has it from spec/source/create-payout.page.txt fence 1 at {place}.minimum;"
        f" `type: string` from spec/source/create-payout.page.txt fence 1 at {place}.type)"
    )


def _schema(**keywords: Any) -> dict[str, Any]:
    return {"components": {"schemas": {"S": keywords}}}


def test_each_keyword_is_checked_against_the_types_it_applies_to() -> None:
    def found(**keywords: Any) -> list[str]:
        return [item.keyword for item in misplaced(_schema(**keywords))]

    assert found(type="string", minimum=1, maximum=2, exclusiveMinimum=True, multipleOf=5, minLength=1) == [
        "minimum", "maximum", "exclusiveMinimum", "multipleOf",
    ]
    assert found(type="integer", minLength=1, maxLength=3, pattern="^1$", minimum=0, format="int64") == [
        "minLength", "maxLength", "pattern",
    ]
    assert found(type="object", items={"type": "string"}, minItems=1, uniqueItems=True, required=["a"]) == [
        "items", "minItems", "uniqueItems",
    ]
    assert found(type="array", properties={}, required=["a"], maxProperties=3, items={"type": "string"}) == [
        "properties", "required", "maxProperties",
    ]
    assert found(type="integer", format="date-time") == ["format"]
    assert found(type="number", format="double") == []
    assert found(type="boolean", format="int32") == ["format"]
    assert found(type="string", format="a-vendors-own", pattern="x", maxLength=3) == []
    # `format` is open: a vendor's format on a number is no mistake (it was refused; sixteenth review).
    assert found(type="number", format="decimal") == []
    assert found(type="integer", format="timestamp") == []
    assert found(type="string", format="int64") == []
    # A property named like a data keyword is a schema all the same (`default` was skipped, its bound with it).
    assert [item.place for item in misplaced(_schema(type="object", properties={
        "default": {"type": "string", "maximum": 5}, "example": {"type": "integer", "pattern": "x"},
    }))] == [("components", "schemas", "S", "properties", "default", "maximum"),
             ("components", "schemas", "S", "properties", "example", "pattern")]
    assert null_in_enums(_schema(type="object", properties={"enum": {"type": "string", "nullable": True,
                                                                      "enum": ["a"]}})) == [
        ("components", "schemas", "S", "properties", "enum")]
    # No type, no check; a parameter's `required: true` is not a schema's; examples hold data, not schemas.
    assert found(minimum=1, pattern="x") == []
    assert found(type="string", required=True) == []
    assert found(type="string", example={"type": "string", "minimum": 1}) == []


def test_a_problem_says_what_the_keyword_is_for() -> None:
    assert Misplaced(("S", "format"), "integer", "date-time").problem() == (
        "`format: date-time` is a format of strings, not of `type: integer`"
    )
    assert Misplaced(("S", "items"), "object", {"type": "string"}).problem() == (
        "`items` applies to an array, not to `type: object`"
    )
