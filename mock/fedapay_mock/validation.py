"""Request validation compiled from the spec's schemas at start-up.

Nothing here restates a rule of the API: every constraint comes from `spec/openapi.yaml`, turned into
JSON Schema (OpenAPI 3.0's `nullable` and `#/components` refs translated) and compiled once with
jsonschema-rs. The hot path calls `is_valid` and only walks the errors when a request is bad.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
from fedapay_payouts._schema import to_json_schema  # one OpenAPI -> JSON Schema translation, the client's

from .spec import Operation, Spec

_REF_PREFIX = "#/components/schemas/"
# At most 19 digits: a 64-bit integer, FedaPay's ids and page numbers (and far below Python's 4300-digit
# conversion limit, which a hostile id would otherwise hit).
# ASCII digits only, and the whole text (`fullmatch`: `$` would pass a trailing newline): `\d` is any Unicode
# digit, which `int` reads too ("\u0661" is 1), so "/payouts/\u0661" was payout 1.
_INT_RE = re.compile(r"[+-]?[0-9]{1,19}", re.ASCII)
# A JSON number (no "nan", "inf", "1_0", Unicode digits or spaces, all of which `float` reads), of sane length.
_NUMBER_RE = re.compile(r"-?(?:0|[1-9][0-9]{0,19})(?:\.[0-9]{1,20})?(?:[eE][+-]?[0-9]{1,2})?", re.ASCII)
_MAX_MESSAGE = 200
# A form's list index (`payouts[0][id]`): ASCII digits ("²".isdigit() is true and int("²") fails).
_INDEX_RE = re.compile(r"[0-9]{1,9}", re.ASCII)
# A boolean as text (a form field, a query or header parameter), as PHP (`1`, `0`) and the others write it.
_BOOLEAN_TEXT = {"true": True, "false": False, "1": True, "0": False}

FieldErrors = dict[str, list[str]]


def json_type(value: Any) -> str:
    """The JSON Schema type name of a parsed JSON value (`null`, `boolean`, `integer`, ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def field_name(path: list[str | int] | tuple[str | int, ...]) -> str:
    """`["payouts", 0, "id"]` -> `payouts[0].id`; the root is `body`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _short(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 3] + "..."


@dataclass
class Outcome:
    """Field errors of one validation; `shape` is set when the value is not even the right JSON type."""

    errors: FieldErrors
    shape: bool = False


class SchemaValidator:
    """One compiled schema (with the spec's definitions), reporting errors per field."""

    def __init__(self, schema: dict[str, Any], definitions: dict[str, Any]) -> None:
        self.schema = to_json_schema(schema)
        self._definitions = definitions
        self._validator = self._compile(self.schema)
        # For `oneOf` bodies, report the errors of the branch of the value's type, not "none matched".
        self._branches: list[tuple[str, SchemaValidator]] = []
        for branch in self._deref(self.schema).get("oneOf", []):
            branch_type = self._deref(branch).get("type")
            if isinstance(branch_type, str):
                self._branches.append((branch_type, SchemaValidator._from_json(branch, definitions)))

    @classmethod
    def _from_json(cls, schema: dict[str, Any], definitions: dict[str, Any]) -> SchemaValidator:
        self = cls.__new__(cls)
        self.schema = schema
        self._definitions = definitions
        self._validator = self._compile(schema)
        self._branches = []
        return self

    def _compile(self, schema: dict[str, Any]) -> jsonschema_rs.Draft4Validator:
        root = dict(schema)
        root["definitions"] = self._definitions
        return jsonschema_rs.Draft4Validator(root, validate_formats=True)

    def _deref(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            target = self._definitions[ref[len("#/definitions/") :]]
            return self._deref(target) if isinstance(target, dict) else {}
        return schema

    @property
    def resolved(self) -> dict[str, Any]:
        """The top-level schema with its `$ref` followed."""
        return self._deref(self.schema)

    def is_valid(self, value: Any) -> bool:
        return bool(self._validator.is_valid(value))

    def validate(self, value: Any) -> Outcome:
        if self._validator.is_valid(value):
            return Outcome({})
        if self._branches:
            value_type = json_type(value)
            for branch_type, branch in self._branches:
                if branch_type == value_type:
                    return branch.validate(value)
            expected = " or ".join(t for t, _ in self._branches)
            return Outcome({"body": [f"must be {expected}"]}, shape=True)
        errors: FieldErrors = {}
        shape = _collect(self._validator.iter_errors(value), errors)
        return Outcome(errors, shape)

    def coerce_form(self, value: Any) -> Any:
        """Give form-encoded strings the types the schema asks for (`"1000"` -> 1000, `{"0": ..}` -> list)."""
        return _coerce(self._deref, self.schema, value)


def _collect(found: Iterable[jsonschema_rs.ValidationError], errors: FieldErrors) -> bool:
    """Add each error under its field name; True when the top-level value has the wrong JSON type.

    A value that matches no branch of a nested `oneOf` (such as `customer`, a full description or an
    `{id}`) is reported by the branch it was closest to: one that does not refuse its fields as
    unexpected, then the one with the fewest problems. "customer.lastname: is required" helps;
    "customer: is not valid under any of the schemas" does not.
    """
    shape = False
    for error in found:
        path = list(error.instance_path)
        kind = error.kind
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.OneOfNotValid | jsonschema_rs.ValidationErrorKind.AnyOf):
            branches = [list(branch) for branch in kind.context]
            if branches:
                closest = min(branches, key=lambda branch: (_refuses_fields(branch), len(branch)))
                _collect(closest, errors)
                continue
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
            path.append(str(kind.property))
            message = "is required"
        else:
            message = _short(error.message)
            if not path and isinstance(kind, jsonschema_rs.ValidationErrorKind.Type):
                shape = True
        errors.setdefault(field_name(path), []).append(message)
    return shape


def _refuses_fields(branch: list[jsonschema_rs.ValidationError]) -> bool:
    return any(isinstance(error.kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties) for error in branch)


def _coerce(deref: Any, schema: dict[str, Any], value: Any) -> Any:
    schema = deref(schema)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            wanted = json_type(value) if not isinstance(value, dict) else "object"
            branches = [deref(branch) for branch in schema[key]]
            if isinstance(value, dict):  # the object branch whose required fields are all there comes first
                branches.sort(key=lambda branch: not set(branch.get("required", ())) <= value.keys())
            for branch in branches:
                if branch.get("type") == wanted:
                    return _coerce(deref, branch, value)
            return value
    kind = schema.get("type")
    if isinstance(kind, list):  # a nullable field: in a form, an empty string is null (the PHP library's rule)
        if value == "" and "null" in kind:
            return None
        kind = next((k for k in kind if k != "null"), None)
    if kind == "integer" and isinstance(value, str) and _INT_RE.fullmatch(value):
        return int(value)
    if kind == "number" and isinstance(value, str):
        if _INT_RE.fullmatch(value):
            return int(value)
        return float(value) if _NUMBER_RE.fullmatch(value) else value
    if kind == "boolean" and isinstance(value, str) and value in _BOOLEAN_TEXT:
        return _BOOLEAN_TEXT[value]
    if kind == "array":
        if isinstance(value, dict) and all(_INDEX_RE.fullmatch(k) for k in value):
            value = [value[k] for k in sorted(value, key=int)]
        if isinstance(value, list):
            return [_coerce(deref, schema.get("items", {}), item) for item in value]
        return value
    if kind == "object" and isinstance(value, dict):
        props: Mapping[str, Any] = schema.get("properties", {})
        return {k: _coerce(deref, props[k], v) if k in props else v for k, v in value.items()}
    return value


class ParamValidator:
    """A query, header or path parameter: parse its string by the schema's type, then validate."""

    def __init__(self, name: str, required: bool, schema: dict[str, Any], definitions: dict[str, Any]) -> None:
        self.name = name
        self.header_key = name.lower().encode("latin-1")  # the name as an ASGI header, for header parameters
        self.required = required
        self._validator = SchemaValidator(schema, definitions)
        resolved = self._validator.resolved
        kind = resolved.get("type", "string")
        if isinstance(kind, list):  # a nullable parameter (`["integer", "null"]`): parsed as its other type
            kind = next((k for k in kind if k != "null"), "string")
        self.kind = kind
        self.default = resolved.get("default")

    def parse(self, raw: str | None) -> tuple[Any, list[str]]:
        """Return (value, problems); a missing optional parameter gives its default."""
        if raw is None:
            return (self.default, ["is required"] if self.required else [])
        value: Any = raw
        if self.kind == "integer":
            if not _INT_RE.fullmatch(raw):
                return (None, ["must be an integer"])
            value = int(raw)
        elif self.kind == "number":
            if not _NUMBER_RE.fullmatch(raw):
                return (None, ["must be a number"])
            value = float(raw)
        elif self.kind == "boolean":  # `?include_deleted=true`: text, read as a form's boolean is (`_coerce`)
            found = _BOOLEAN_TEXT.get(raw)
            if found is None:
                return (None, ["must be a boolean: true or false"])
            value = found
        outcome = self._validator.validate(value)
        problems = [m for messages in outcome.errors.values() for m in messages]
        return (value, problems)


@dataclass
class OperationValidators:
    """Everything compiled for one operation."""

    operation: Operation
    body: SchemaValidator | None
    query: dict[str, ParamValidator]
    headers: dict[str, ParamValidator]
    path: dict[str, ParamValidator]
    invalid_status: int

    def __post_init__(self) -> None:
        # `body.is_valid` without its Python frame: the check every valid request makes once.
        self.body_is_valid: Callable[[Any], bool] = (
            self.body._validator.is_valid if self.body is not None else lambda value: False
        )
        # When the request sends none of the operation's header parameters and none is required, each is
        # its default: what `validate_headers` finds without looking at each.
        self._header_keys = frozenset(validator.header_key for validator in self.headers.values())
        self._header_defaults: dict[str, Any] | None = (
            None
            if any(validator.required for validator in self.headers.values())
            else {name: validator.default for name, validator in self.headers.items()}
        )

    def validate_query(self, query: Mapping[str, str]) -> tuple[dict[str, Any], FieldErrors]:
        values: dict[str, Any] = {}
        errors: FieldErrors = {}
        for name, validator in self.query.items():
            value, problems = validator.parse(query.get(name))
            if problems:
                errors[name] = problems
            values[name] = value
        return values, errors

    def validate_headers(self, headers: Mapping[bytes, bytes]) -> tuple[dict[str, Any], FieldErrors]:
        """The spec's header parameters, from the headers as the ASGI server gives them (lower-case names)."""
        if self._header_defaults is not None and self._header_keys.isdisjoint(headers):
            return self._header_defaults.copy(), {}
        values: dict[str, Any] = {}
        errors: FieldErrors = {}
        for name, validator in self.headers.items():
            raw = headers.get(validator.header_key)
            if raw is None and not validator.required:  # the common case: an optional header not sent
                values[name] = validator.default
                continue
            value, problems = validator.parse(None if raw is None else raw.decode("latin-1"))
            if problems:
                errors[name] = problems
            values[name] = value
        return values, errors


def _invalid_schema(spec: Spec, where: str, exc: ValueError) -> ValueError:
    """A schema the validator refuses (a `pattern` that is no regex, a negative `minLength`...), in one line
    as `load_spec` words its errors: the file, the place in it (`components.schemas.X...` for a shared
    schema), the problem."""
    found = list(getattr(exc, "instance_path", ()))
    if found[:1] == ["definitions"]:
        where, found = "components.schemas", found[1:]
    inner = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in found)
    message = getattr(exc, "message", None) or str(exc)
    problem = " ".join(str(message).split())[:200]
    return ValueError(f"{spec.source or 'the spec'} is not a spec the mock can serve: {where}{inner}: {problem}")


def _non_string_key(value: Any, where: str) -> str | None:
    """The place of the first mapping key that is not text in a (translated) schema, or None: YAML reads `5:` as
    the integer 5, which the validator refuses without saying where (every operation's validator holds the shared
    schemas, so the first one compiled would be blamed). Walked without recursion, each container once."""
    stack: list[tuple[Any, str]] = [(value, where)]
    seen: set[int] = set()
    while stack:
        node, at = stack.pop()
        if not isinstance(node, dict | list) or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, list):
            stack.extend((item, f"{at}[{n}]") for n, item in reversed(list(enumerate(node))))
            continue
        for key in node:
            if not isinstance(key, str):
                return f"{at}: the key {repr(key)[:40]} is not a string (JSON keys are text)"
        stack.extend((item, f"{at}.{key}") for key, item in reversed(list(node.items())))
    return None


def _refuse_non_string_keys(spec: Spec, value: Any, where: str) -> None:
    problem = _non_string_key(value, where)
    if problem is not None:
        raise ValueError(f"{spec.source or 'the spec'} is not a spec the mock can serve: {problem}")


def compile_validators(spec: Spec) -> dict[str, OperationValidators]:
    """Compile every operation's validators once, at start-up; ValueError (one line, naming the schema) for a
    schema the validator cannot compile."""
    definitions = to_json_schema(copy.deepcopy(spec.document.get("components", {}).get("schemas", {})))
    _refuse_non_string_keys(spec, definitions, "components.schemas")
    out: dict[str, OperationValidators] = {}
    for op in spec.operations:
        where = f"paths.{op.path}.{op.method.lower()}"
        by_location: dict[str, dict[str, ParamValidator]] = {"query": {}, "header": {}, "path": {}}
        for param in op.parameters:
            if param.location in by_location:
                at = f"{where}.parameters[{param.name[:40]}].schema"
                try:
                    validator = ParamValidator(param.name, param.required, param.schema, definitions)
                except ValueError as exc:
                    _refuse_non_string_keys(spec, to_json_schema(param.schema), at)
                    raise _invalid_schema(spec, at, exc) from None
                by_location[param.location][param.name] = validator
        body: SchemaValidator | None = None
        if op.body_schema is not None:
            at = f"{where}.requestBody.content.application/json.schema"
            try:
                body = SchemaValidator(op.body_schema, definitions)
            except ValueError as exc:
                _refuse_non_string_keys(spec, to_json_schema(op.body_schema), at)
                raise _invalid_schema(spec, at, exc) from None
        out[op.operation_id] = OperationValidators(
            operation=op,
            body=body,
            query=by_location["query"],
            headers=by_location["header"],
            path=by_location["path"],
            # Validation failures answer 422 where the spec documents it, else 400.
            invalid_status=422 if "422" in op.statuses else 400,
        )
    return out


def response_validator(spec: Spec, component: str) -> SchemaValidator:
    """A validator for one of the spec's component schemas (used by tests to check replies)."""
    definitions = to_json_schema(copy.deepcopy(spec.document.get("components", {}).get("schemas", {})))
    return SchemaValidator({"$ref": _REF_PREFIX + component}, definitions)
