"""The change classification: one realistic edit of the committed spec per rule of scripts/spec_changes.py."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from spec_changes import RULES, Change, compare, mark_overlays, mark_overridden, overlay_actions

ROOT = Path(__file__).resolve().parents[2]
SPEC: dict[str, Any] = yaml.safe_load((ROOT / "spec/openapi.yaml").read_text(encoding="utf-8"))

Edit = Callable[[dict[str, Any], dict[str, Any]], object]  # (old, new): change either


def _schemas(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["components"]["schemas"]  # type: ignore[no-any-return]


def _props(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return _schemas(doc)[name]["properties"]  # type: ignore[no-any-return]


def _list_params(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["paths"]["/payouts"]["get"]["parameters"]  # type: ignore[no-any-return]


def _param(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in _list_params(doc) if p["name"] == name)


def _set(target: dict[str, Any], key: str, value: Any) -> None:
    target[key] = value


def _api_key_on_list(new: dict[str, Any]) -> None:
    new["components"]["securitySchemes"]["key"] = {"type": "apiKey", "in": "header", "name": "X-Key"}
    new["paths"]["/payouts"]["get"]["security"] = [{"key": []}]


def _add_required_purpose(old: dict[str, Any], new: dict[str, Any]) -> None:
    _props(new, "PayoutCreate")["purpose"] = {"type": "string"}
    _schemas(new)["PayoutCreate"]["required"].append("purpose")


def _add_status_value(old: dict[str, Any], new: dict[str, Any]) -> None:
    _props(old, "Payout")["status"]["enum"] = ["pending", "sent"]
    _props(new, "Payout")["status"]["enum"] = ["pending", "sent", "reversed"]


# (edit, kind, where, breaking): each row one rule's example; some rules twice, once per direction.
CASES: list[tuple[str, Edit, str, str, bool]] = [
    (
        "op removed",
        lambda o, n: n["paths"]["/payouts/{id}"].pop("delete"),
        "operation-removed",
        "DELETE /payouts/{id}",
        True,
    ),
    (
        "op added",
        lambda o, n: _set(
            n["paths"],
            "/payouts/{id}/cancel",
            {"post": {"operationId": "cancel_payout", "responses": {"200": {"description": "ok"}}}},
        ),
        "operation-added",
        "POST /payouts/{id}/cancel",
        False,
    ),
    (
        "op renamed",
        lambda o, n: _set(n["paths"]["/payouts/start"]["put"], "operationId", "start"),
        "operation-renamed",
        "PUT /payouts/start",
        True,
    ),
    (
        "param removed",
        lambda o, n: _list_params(n).remove(_param(n, "status")),
        "parameter-removed",
        "GET /payouts query parameter status",
        True,
    ),
    (
        "required param added",
        lambda o, n: _list_params(n).append(
            {"name": "X-Team", "in": "header", "required": True, "schema": {"type": "string"}}
        ),
        "parameter-added-required",
        "GET /payouts header parameter X-Team",
        True,
    ),
    (
        "optional param added",
        lambda o, n: _list_params(n).append(
            {"name": "merchant_reference", "in": "query", "schema": {"type": "string"}}
        ),
        "parameter-added-optional",
        "GET /payouts query parameter merchant_reference",
        False,
    ),
    (
        "param now required",
        lambda o, n: _set(_param(n, "page"), "required", True),
        "parameter-became-required",
        "GET /payouts query parameter page",
        True,
    ),
    (
        "param now optional",
        lambda o, n: _set(_param(o, "page"), "required", True),
        "parameter-became-optional",
        "GET /payouts query parameter page",
        False,
    ),
    (
        "body now required",
        lambda o, n: _set(o["paths"]["/payouts/{id}"]["put"]["requestBody"], "required", False),
        "body-became-required",
        "PUT /payouts/{id} request body",
        True,
    ),
    (
        "body now optional",
        lambda o, n: _set(n["paths"]["/payouts/{id}"]["put"]["requestBody"], "required", False),
        "body-became-optional",
        "PUT /payouts/{id} request body",
        False,
    ),
    (
        "201 removed",
        lambda o, n: n["paths"]["/payouts"]["post"]["responses"].pop("201"),
        "response-removed-success",
        "POST /payouts response 201",
        True,
    ),
    (
        "409 added",
        lambda o, n: _set(
            n["paths"]["/payouts"]["post"]["responses"], "409", {"$ref": "#/components/responses/NotFound"}
        ),
        "response-added",
        "POST /payouts response 409",
        False,
    ),
    (
        "413 removed",
        lambda o, n: n["paths"]["/payouts"]["post"]["responses"].pop("413"),
        "response-removed-error",
        "POST /payouts response 413",
        False,
    ),
    (
        "reply field removed",
        lambda o, n: _props(n, "Payout").pop("balance_id"),
        "property-removed",
        "Payout.balance_id",
        True,
    ),
    (
        "request field removed",
        lambda o, n: _props(n, "PayoutCreate").pop("description"),
        "property-removed",
        "PayoutCreate.description",
        True,
    ),
    (
        "required request field added",
        _add_required_purpose,
        "property-added-required",
        "PayoutCreate.purpose",
        True,
    ),
    (
        "reply field added",
        lambda o, n: _set(_props(n, "Payout"), "beneficiary_note", {"type": "string"}),
        "property-added-optional",
        "Payout.beneficiary_note",
        False,
    ),
    (
        "request field now required",
        lambda o, n: _schemas(n)["CustomerInput"]["required"].append("email"),
        "became-required",
        "CustomerInput.email",
        True,
    ),
    (
        "reply field now optional",
        lambda o, n: _schemas(n)["Payout"]["required"].remove("mode"),
        "became-optional",
        "Payout.mode",
        True,
    ),
    (
        "request field now optional",
        lambda o, n: _schemas(n)["PayoutCreate"]["required"].remove("mode"),
        "became-optional",
        "PayoutCreate.mode",
        False,
    ),
    (
        "reply type",
        lambda o, n: _set(_props(n, "Payout")["customer_id"], "type", "string"),
        "type-changed",
        "Payout.customer_id",
        True,
    ),
    ("reply format", lambda o, n: _props(n, "Payout")["sent_at"].pop("format"), "type-changed", "Payout.sent_at", True),
    (
        "reply nullable",
        lambda o, n: _set(_props(n, "Payout")["created_at"], "nullable", True),
        "nullable-added",
        "Payout.created_at",
        True,
    ),
    (
        "request nullable",
        lambda o, n: _set(_props(n, "CustomerInput")["email"], "nullable", True),
        "nullable-added",
        "CustomerInput.email",
        False,
    ),
    (
        "request not nullable",
        lambda o, n: _set(_props(o, "CustomerInput")["email"], "nullable", True),
        "nullable-removed",
        "CustomerInput.email",
        True,
    ),
    (
        "currency dropped",
        lambda o, n: _set(_props(n, "CurrencyInput")["iso"], "enum", ["XOF"]),
        "enum-narrowed",
        "CurrencyInput.iso",
        True,
    ),
    (
        "currency added",
        lambda o, n: _set(_props(n, "CurrencyInput")["iso"], "enum", ["XOF", "GNF", "XAF"]),
        "enum-widened",
        "CurrencyInput.iso",
        False,
    ),
    (
        "status value added",
        _add_status_value,
        "enum-widened",
        "Payout.status",
        True,
    ),
    (
        "amount maximum",
        lambda o, n: _set(_props(n, "PayoutCreate")["amount"], "maximum", 500000),
        "constraint-narrowed",
        "PayoutCreate.amount",
        True,
    ),
    (
        "number shorter",
        lambda o, n: _set(_props(n, "PhoneNumber")["number"], "minLength", 1),
        "constraint-widened",
        "PhoneNumber.number",
        False,
    ),
    (
        "reply bound dropped",
        lambda o, n: _set(_schemas(o)["ListMeta"]["properties"]["per_page"], "maximum", 100),
        "constraint-widened",
        "ListMeta.per_page",
        True,
    ),
    (
        "pattern replaced",
        lambda o, n: _set(_props(n, "PhoneNumber")["number"], "pattern", "^[0-9]{8}$"),
        "constraint-changed",
        "PhoneNumber.number",
        True,
    ),
    (
        "default changed",
        lambda o, n: _set(_param(n, "per_page")["schema"], "default", 50),
        "default-changed",
        "GET /payouts query parameter per_page",
        True,
    ),
    (
        "branch removed",
        lambda o, n: _props(n, "PayoutCreate")["customer"]["oneOf"].pop(1),
        "branch-removed",
        "PayoutCreate.customer",
        True,
    ),
    (
        "branch added",
        lambda o, n: _props(n, "PayoutCreate")["customer"]["oneOf"].append(
            {"$ref": "#/components/schemas/PhoneNumber"}
        ),
        "branch-added",
        "PayoutCreate.customer",
        False,
    ),
    (
        "ref replaced",
        lambda o, n: _set(_props(n, "PayoutCreate"), "currency", {"$ref": "#/components/schemas/CustomerRef"}),
        "schema-replaced",
        "PayoutCreate.currency",
        True,
    ),
    (
        "security changed",
        lambda o, n: _api_key_on_list(n),
        "security-changed",
        "GET /payouts security",
        True,
    ),
]


@pytest.mark.parametrize(("edit", "kind", "where", "breaking"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_classifies_its_example(edit: Edit, kind: str, where: str, breaking: bool) -> None:
    old, new = copy.deepcopy(SPEC), copy.deepcopy(SPEC)
    edit(old, new)

    changes = compare(old, new)

    assert [(c.kind, c.where, c.breaking) for c in changes] == [(kind, where, breaking)]


def test_every_rule_of_the_table_has_an_example_here() -> None:
    assert {case[2] for case in CASES} == set(RULES)
    assert len(RULES) == 31  # the module docstring's table, parsed: a row lost to a typo would show here


def test_the_same_spec_has_no_change() -> None:
    assert compare(SPEC, copy.deepcopy(SPEC)) == []


def test_a_shared_schema_is_reported_once_with_every_operation_using_it() -> None:
    new = copy.deepcopy(SPEC)
    _props(new, "Payout")["customer_id"]["type"] = "string"

    (change,) = compare(SPEC, new)

    assert change.id == "type-changed Payout.customer_id (integer -> string)"
    assert change.operations == {
        "create_payout",
        "delete_payout",
        "list_payouts",
        "retrieve_payout",
        "search_payouts",
        "start_payouts",
        "update_payout",
    }
    assert change.directions == {"response"}


def test_a_rename_is_a_removal_and_an_addition_with_the_overlays_that_point_at_the_old_name() -> None:
    new = copy.deepcopy(SPEC)
    props = _props(new, "PayoutCreate")
    props["payout_mode"] = props.pop("mode")
    required = _schemas(new)["PayoutCreate"]["required"]
    required[required.index("mode")] = "payout_mode"
    overlays = [
        (p, yaml.safe_load(p.read_text(encoding="utf-8"))) for p in sorted((ROOT / "spec/overlays").glob("*.yaml"))
    ]

    changes = compare(SPEC, new)
    mark_overlays(changes, overlay_actions(overlays))

    found = {(c.kind, c.where): c for c in changes}
    assert set(found) == {
        ("property-removed", "PayoutCreate.mode"),
        ("property-added-required", "PayoutCreate.payout_mode"),
    }
    assert found[("property-removed", "PayoutCreate.mode")].breaking
    assert "04-create-request-rules.yaml#3" in found[("property-removed", "PayoutCreate.mode")].overlays
    assert found[("property-added-required", "PayoutCreate.payout_mode")].overlays == []


def test_a_path_parameters_change_names_the_overlay_actions_that_write_it_not_other_fields_of_its_name() -> None:
    """Before, `GET /payouts/{id} path parameter id` was matched on `id` alone: steps 08 and 10 (StartPayout.id,
    CustomerRef.id) were named, and step 07, which defines PayoutId and puts it on the path, was not."""
    new = copy.deepcopy(SPEC)
    new["components"]["parameters"]["PayoutId"]["schema"]["maximum"] = 99
    new["components"]["parameters"]["IdempotencyKey"]["schema"]["maxLength"] = 64
    overlays = [
        (p, yaml.safe_load(p.read_text(encoding="utf-8"))) for p in sorted((ROOT / "spec/overlays").glob("*.yaml"))
    ]

    changes = compare(SPEC, new)
    mark_overlays(changes, overlay_actions(overlays))

    step_07 = ["07-payout-operations.yaml#2", "07-payout-operations.yaml#4"]
    assert {change.where: change.overlays for change in changes} == {
        "DELETE /payouts/{id} path parameter id": step_07,
        "GET /payouts/{id} path parameter id": step_07,
        "PUT /payouts/{id} path parameter id": step_07,
        # The $ref on create and the definition; not step 13's parameters of GET /payouts.
        "POST /payouts header parameter Idempotency-Key": [
            "07-payout-operations.yaml#1", "07-payout-operations.yaml#2",
        ],
    }


def test_a_parameter_copied_into_another_operation_names_the_copy_and_the_definition() -> None:
    new = copy.deepcopy(SPEC)
    search = new["paths"]["/payouts/search"]["get"]["parameters"]
    page = next(param for param in search if param.get("name") == "page")
    page["schema"]["maximum"] = 7
    overlays = [
        (p, yaml.safe_load(p.read_text(encoding="utf-8"))) for p in sorted((ROOT / "spec/overlays").glob("*.yaml"))
    ]

    changes = compare(SPEC, new)
    mark_overlays(changes, overlay_actions(overlays))

    (change,) = changes
    assert change.where == "GET /payouts/search query parameter page"
    # Step 07 defines `page` on the list, step 12 copies the list's parameters and adds its own, step 13 adds one.
    assert change.overlays == [
        "07-payout-operations.yaml#3", "12-search.yaml#2", "12-search.yaml#3", "13-library-round-trips.yaml#7",
    ]


def test_an_upstream_change_whose_field_still_changes_in_the_spec_is_not_called_overridden() -> None:
    """A page's enum moved into an allOf branch shows as `enum-narrowed` upstream and as a type change once step 03
    restates the field: it reached the spec (before, the report said "overridden by overlay 06")."""
    enum = Change("enum-narrowed", "POST /payouts response 201.status", "enum ['a'] introduced", {"response"})
    cap = Change("maximum-lowered", "POST /payouts request body.amount", "100 -> 50", {"request"})
    lifted = Change("type-changed", "Payout.status", "string -> none", {"response"})
    amount_reply = Change("type-changed", "Payout.amount", "integer -> string", {"response"})
    steps = [
        ("03-a.yaml", [copy.copy(enum), copy.copy(cap)]),
        ("06-b.yaml", [lifted, amount_reply]),
        ("14-c.yaml", [lifted, amount_reply]),
    ]

    mark_overridden([enum, cap], steps)

    assert enum.overridden_by == ""
    # A change of the same field name in the other direction (the reply's amount) does not hide an override.
    assert cap.overridden_by == "06-b.yaml"
