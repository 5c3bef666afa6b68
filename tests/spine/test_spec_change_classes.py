"""Spec changes the differ used to miss or misjudge, each as a small two-document case (scripts/spec_changes.py)."""

from __future__ import annotations

import copy
from typing import Any

from spec_changes import compare

Schema = dict[str, Any]
BASE: Schema = {"$ref": "#/components/schemas/Base"}


def _doc(request: Schema, reply: Schema | None = None, *, security: list[Any] | None = None,
         parameters: list[Any] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": "create_payout",
        "requestBody": {"required": True, "content": {"application/json": {"schema": request}}},
        "responses": {"201": {"description": "ok", "content": {"application/json": {"schema": reply or {}}}}},
    }
    if parameters is not None:
        operation["parameters"] = parameters
    return {
        "openapi": "3.0.3",
        "paths": {"/payouts": {"post": operation}},
        "security": security if security is not None else [{"bearerAuth": []}],
        "components": {
            "schemas": {
                "Base": {"type": "object", "properties": {"amount": {"type": "integer"}}},
                "Money": {"type": "integer"},
            },
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
                "sameKey": {"type": "apiKey", "in": "header", "name": "x-key"},
            },
        },
    }


def _found(old: dict[str, Any], new: dict[str, Any]) -> set[tuple[str, bool]]:
    return {(change.id, change.breaking) for change in compare(old, new)}


def test_an_added_allof_branch_requiring_a_request_field_is_breaking() -> None:
    added = {"type": "object", "properties": {"purpose": {"type": "string"}}, "required": ["purpose"]}
    assert _found(_doc({"allOf": [BASE]}), _doc({"allOf": [BASE, added]})) == {
        ("property-added-required POST /payouts request body.purpose", True)
    }


def test_a_reply_branch_dropped_removes_its_fields() -> None:
    branch = {"properties": {"id": {"type": "integer"}}, "required": ["id"]}
    old = _doc({"type": "object"}, {"allOf": [BASE, branch]})
    new = _doc({"type": "object"}, {"allOf": [BASE]})
    assert _found(old, new) == {("property-removed POST /payouts response 201.id", True)}


def test_required_added_in_another_allof_branch_makes_the_field_required() -> None:
    old = _doc({"allOf": [BASE, {"type": "object"}]})
    new = _doc({"allOf": [BASE, {"type": "object", "required": ["amount"]}]})
    assert _found(old, new) == {("became-required POST /payouts request body.amount", True)}


def test_additional_properties_gaining_a_schema_narrows_request_values() -> None:
    old = _doc({"type": "object", "properties": {"meta": {"type": "object"}}})
    limits = {"type": "string", "maxLength": 10, "pattern": "^[a-z]+$"}
    new = _doc({"type": "object", "properties": {"meta": {"type": "object", "additionalProperties": limits}}})
    found = _found(old, new)
    assert ("type-changed POST /payouts request body.meta.* (none -> string)", True) in found
    # `true` is the same as absent: the same change from there.
    old_true = _doc({"type": "object", "properties": {"meta": {"type": "object", "additionalProperties": True}}})
    assert _found(old_true, new) == found


def test_additional_properties_limits_are_each_reported_when_the_type_stays() -> None:
    old = _doc({"type": "object", "properties": {"meta": {"type": "object", "additionalProperties": True}}})
    limits = {"maxLength": 10, "pattern": "^[a-z]+$"}
    new = _doc({"type": "object", "properties": {"meta": {"type": "object", "additionalProperties": limits}}})
    assert _found(old, new) == {
        ("constraint-narrowed POST /payouts request body.meta.* (maxLength none -> 10)", True),
        ("constraint-narrowed POST /payouts request body.meta.* (pattern none -> ^[a-z]+$)", True),
    }


def test_two_uses_of_one_ref_inlined_differently_are_each_compared() -> None:
    money = {"$ref": "#/components/schemas/Money"}
    old = _doc({"type": "object", "properties": {"a": money, "b": money}})
    new = _doc({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}})
    assert _found(old, new) == {("type-changed POST /payouts request body.b (integer -> string)", True)}


def test_a_security_scheme_change_is_breaking() -> None:
    assert _found(_doc({"type": "object"}), _doc({"type": "object"}, security=[{"key": []}])) == {
        ("security-changed POST /payouts security (bearer -> apiKey header x-key)", True)
    }


def test_a_security_scheme_renamed_without_another_change_is_no_change() -> None:
    # The same header under another local name (and in another case): callers send the same thing.
    old = _doc({"type": "object"}, security=[{"key": []}])
    assert _found(old, _doc({"type": "object"}, security=[{"sameKey": []}])) == set()


def test_enum_one_to_true_is_a_change() -> None:
    old = _doc({"type": "object", "properties": {"x": {"enum": [1, 2]}}})
    new = _doc({"type": "object", "properties": {"x": {"enum": [True, 2]}}})
    assert _found(old, new) == {
        ("enum-narrowed POST /payouts request body.x (removed [1])", True),
        ("enum-widened POST /payouts request body.x (added [True])", False),
    }


def test_a_header_renamed_only_in_case_is_no_change() -> None:
    def header(name: str) -> list[Any]:
        return [{"in": "header", "name": name, "required": True, "schema": {"type": "string"}}]

    old = _doc({"type": "object"}, parameters=header("Idempotency-Key"))
    assert _found(old, _doc({"type": "object"}, parameters=header("idempotency-key"))) == set()
    # A query parameter is case-sensitive: the same rename there is a removal and an addition.
    query = [{**header("Page")[0], "in": "query"}]
    renamed = [{**header("page")[0], "in": "query"}]
    assert {kind.split()[0] for kind, _ in _found(_doc({}, parameters=query), _doc({}, parameters=renamed))} == {
        "parameter-removed",
        "parameter-added-required",
    }


def test_a_required_name_with_no_schema_added_to_a_request_is_breaking_and_dropping_it_relaxes() -> None:
    # The client and the mock refuse a body without `purpose` though `properties` does not describe it.
    old = _doc({"type": "object", "properties": {"amount": {"type": "integer"}}, "required": ["amount"]})
    new = _doc({"type": "object", "properties": {"amount": {"type": "integer"}}, "required": ["amount", "purpose"]})
    added = "property-added-required POST /payouts request body.purpose (required, no schema under properties)"
    assert _found(old, new) == {(added, True)}
    relaxed = "became-optional POST /payouts request body.purpose (required, no schema under properties)"
    assert _found(new, old) == {(relaxed, False)}


def test_a_required_name_with_no_schema_in_a_reply_is_breaking_only_when_dropped() -> None:
    old = _doc({"type": "object"}, {"type": "object", "required": ["id"]})
    new = _doc({"type": "object"}, {"type": "object", "required": ["id", "status"]})
    assert _found(old, new) == {
        ("property-added-required POST /payouts response 201.status (required, no schema under properties)", False)
    }
    assert _found(new, old) == {
        ("became-optional POST /payouts response 201.status (required, no schema under properties)", True)
    }


def test_a_not_added_to_a_request_field_narrows_it_dropped_widens_replaced_changes() -> None:
    def body(mode: Schema) -> dict[str, Any]:
        return _doc({"type": "object", "properties": {"mode": {"type": "string", **mode}}})

    plain, no_moov, no_mtn = body({}), body({"not": {"enum": ["moov"]}}), body({"not": {"enum": ["mtn"]}})
    where = "POST /payouts request body.mode"
    assert _found(plain, no_moov) == {(f'constraint-narrowed {where} (not none -> {{"enum":["moov"]}})', True)}
    assert _found(no_moov, plain) == {(f'constraint-widened {where} (not {{"enum":["moov"]}} -> none)', False)}
    assert _found(no_moov, no_mtn) == {
        (f'constraint-changed {where} (not {{"enum":["moov"]}} -> {{"enum":["mtn"]}})', True)
    }


def test_a_not_is_compared_by_the_schema_it_refers_to() -> None:
    old = _doc({"type": "object", "properties": {"amount": {"not": {"$ref": "#/components/schemas/Money"}}}})
    new = copy.deepcopy(old)
    new["components"]["schemas"]["Money"] = {"type": "string"}
    (found,) = _found(old, new)
    assert found == (
        'constraint-changed POST /payouts request body.amount (not {"type":"integer"} -> {"type":"string"})', True
    )


def test_allof_bounds_are_the_tightest_of_all_branches_not_the_first_found() -> None:
    amount = {"type": "integer", "minimum": 1, "maximum": 1000000}

    def body(*more: Schema) -> dict[str, Any]:
        return _doc({"type": "object", "properties": {"amount": {"allOf": [amount, *more]}}})

    where = "POST /payouts request body.amount"
    assert _found(body(), body({"maximum": 5000})) == {(f"constraint-narrowed {where} (maximum 1000000 -> 5000)", True)}
    assert _found(body(), body({"minimum": 100})) == {(f"constraint-narrowed {where} (minimum 1 -> 100)", True)}
    # A looser bound in another branch changes nothing: the first branch's still applies.
    assert _found(body(), body({"maximum": 9000000, "minimum": 0})) == set()
    # At the same value, an exclusive bound is the tighter one.
    assert _found(body(), body({"maximum": 1000000, "exclusiveMaximum": True})) == {
        (f"constraint-narrowed {where} (exclusiveMaximum none -> True)", True)
    }


def test_allof_enums_patterns_and_nots_all_apply() -> None:
    def body(*branches: Schema) -> dict[str, Any]:
        return _doc({"type": "object", "properties": {"iso": {"allOf": [{"type": "string"}, *branches]}}})

    where = "POST /payouts request body.iso"
    both = {"enum": ["XOF", "GNF"]}
    assert _found(body(both), body(both, {"enum": ["XOF", "XAF"]})) == {
        (f"enum-narrowed {where} (removed ['GNF'])", True)
    }
    upper = {"pattern": "^[A-Z]+$"}
    assert _found(body(upper), body(upper, {"pattern": "^X"})) == {
        (f"constraint-narrowed {where} (pattern ^[A-Z]+$ -> ['^[A-Z]+$', '^X'])", True)
    }
    assert _found(body(upper, {"pattern": "^X"}), body(upper)) == {
        (f"constraint-widened {where} (pattern ['^[A-Z]+$', '^X'] -> ^[A-Z]+$)", False)
    }
    no_xaf = {"not": {"enum": ["XAF"]}}
    assert _found(body(no_xaf), body(no_xaf, {"not": {"enum": ["GNF"]}})) == {
        (f'constraint-narrowed {where} (not {{"enum":["XAF"]}} -> {{"anyOf":[{{"enum":["XAF"]}},{{"enum":["GNF"]}}]}})',
         True)
    }
