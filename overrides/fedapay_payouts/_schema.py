"""Request checks compiled from the spec: what the spec accepts is what the client sends, no more, no less.

The generated package ships the normalized spec (`fedapay_payouts_api/openapi.json`). For each
operation the body schema and the parameters are turned into JSON Schema by `to_json_schema`
(OpenAPI 3.0's `nullable` and `#/components/schemas` refs translated; the mock uses the same
function) and compiled once, on the operation's first call, with jsonschema-rs (Draft 4, OpenAPI
3.0's base: `1.0` is not an integer; formats such as `email` checked). A failure becomes
`InvalidArgumentError` naming the field's path (`customer.phone_number.number`) with the problem in
plain words. The few rules a schema cannot say are in `_validation.py`, each with its reason.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any, Final

import jsonschema_rs

from ._exceptions import InvalidArgumentError
from ._json import loads

if TYPE_CHECKING:
    from fedapay_payouts_api.client import Operation

__all__ = ["OperationSchema", "field_path", "schema_for", "shown_value", "to_json_schema"]

_REF_PREFIX: Final = "#/components/schemas/"
_MAX_SHOWN: Final = 60
_JSON_TYPES: Final = {
    "integer": "an integer", "number": "a number", "string": "a string", "boolean": "true or false",
    "object": "an object (a mapping)", "array": "a list", "null": "null (None)",
}


def to_json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema fragment as JSON Schema draft 4 (`nullable` -> a `null` type, refs to `definitions`)."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str) and value.startswith(_REF_PREFIX):
            out[key] = "#/definitions/" + value[len(_REF_PREFIX):]
        elif key in ("properties", "definitions"):
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        elif key in ("nullable", "example", "examples", "description", "x-codeSamples"):
            continue
        else:
            out[key] = to_json_schema(value)
    if node.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if isinstance(out.get("enum"), list):
            out["enum"] = [*out["enum"], None]
    return out


def field_path(parts: Sequence[str | int]) -> str:
    """`["customer", "phone_number", "number"]` -> `customer.phone_number.number`; `["payouts", 0]` -> `payouts[0]`."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def shown_value(value: object) -> str:
    """A bad value as an error message shows it: its repr, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _got(value: object) -> str:
    return f"got {type(value).__name__} {shown_value(value)}"


def _words(error: jsonschema_rs.ValidationError) -> tuple[list[str | int], str]:
    """The field path and the problem, in plain words, of one schema failure."""
    path: list[str | int] = list(error.instance_path)
    kind = error.kind
    name = kind.name
    details: dict[str, Any] = kind.as_dict()
    value = error.instance
    if name == "required":
        return [*path, str(details.get("property"))], "is required"
    if name == "type":
        wanted = " or ".join(_JSON_TYPES.get(t, t) for t in details.get("types", []))
        return path, f"must be {wanted}, {_got(value)}"
    if name == "enum":
        options = ", ".join(repr(option) for option in details.get("options", []))
        return path, f"must be one of {options}, {_got(value)}"
    limit = details.get("limit")
    problems = {
        "minimum": f"must be at least {limit}",
        "maximum": f"must be at most {limit}",
        "exclusiveMinimum": f"must be more than {limit}",
        "exclusiveMaximum": f"must be less than {limit}",
        "minLength": f"must be at least {limit} character(s) long",
        "maxLength": f"must be at most {limit} character(s) long",
        "minItems": f"must have at least {limit} item(s)",
        "maxItems": f"must have at most {limit} item(s)",
        "minProperties": f"must give at least {limit} field(s)",
        "maxProperties": f"must give at most {limit} field(s)",
        "multipleOf": f"must be a multiple of {details.get('multiple_of', limit)}",
        "pattern": f"is not in the form the spec asks (pattern {details.get('pattern')})",
        "format": f"must be a valid {details.get('format', 'value')}",
        "falseSchema": "is a field the spec does not allow here",
        "additionalProperties": f"has field(s) the spec does not allow: {details.get('unexpected')}",
        "uniqueItems": "must not repeat an item",
    }
    problem = problems.get(name, error.message)
    return path, f"{problem}, {_got(value)}"


def _best(error: jsonschema_rs.ValidationError) -> jsonschema_rs.ValidationError:
    """For a value that matches no branch of a `oneOf`/`anyOf`, the failure of the branch it came closest to."""
    while error.kind.name in ("oneOf", "anyOf", "oneOfNotValid", "anyOfNotValid"):
        branches = [branch for branch in getattr(error.kind, "context", None) or [] if branch]
        if not branches:
            break
        depth = len(error.instance_path)

        def distance(branch: list[jsonschema_rs.ValidationError], depth: int = depth) -> tuple[bool, int, int]:
            # A branch the value is not even the type of comes last, however few its errors: a start body given
            # as an object with a phone number failing two checks is closer to the object branch than to the list.
            wrong_type = all(e.kind.name == "type" and len(e.instance_path) <= depth for e in branch)
            return wrong_type, len(branch), -max(len(e.instance_path) for e in branch)

        closest: list[jsonschema_rs.ValidationError] = min(branches, key=distance)
        deeper = [e for e in closest if len(e.instance_path) > len(error.instance_path)]
        if not deeper and any(e.kind.name == "type" for e in closest):
            # Not even the branches' type: say what the field must be.
            return closest[0]
        error = (deeper or closest)[0]
    return error


class OperationSchema:
    """One operation's compiled checks: its body (against the spec's body schema) and its parameters."""

    def __init__(self, operation: Operation, document: Mapping[str, Any]) -> None:
        raw = document.get("paths", {}).get(operation.path, {})
        method = raw.get(operation.method.lower(), {})
        definitions = to_json_schema(document.get("components", {}).get("schemas", {}))
        body = method.get("requestBody") or {}
        if isinstance(body.get("$ref"), str):
            body = document["components"]["requestBodies"][body["$ref"].rsplit("/", 1)[-1]]
        body_schema = body.get("content", {}).get("application/json", {}).get("schema")
        self.body = None
        if body_schema is not None:
            self.body = _compile({**to_json_schema(body_schema), "definitions": definitions})
        declared = {}
        for param in [*raw.get("parameters", []), *method.get("parameters", [])]:
            if isinstance(param.get("$ref"), str):
                param = document["components"]["parameters"][param["$ref"].rsplit("/", 1)[-1]]
            declared[(param["name"], param["in"])] = param.get("schema", {})
        properties = {}
        for spec_param in operation.params:
            where = (spec_param.name, spec_param.location)
            properties[spec_param.python_name] = to_json_schema(declared.get(where, {}))
        required = [p.python_name for p in operation.params if p.required]
        params_schema: dict[str, Any] = {"type": "object", "properties": properties, "definitions": definitions}
        if required:
            params_schema["required"] = required
        self.params = _compile(params_schema)

    def check_body(self, body: Any, rename: Mapping[str, str] | None = None) -> None:
        """Raise `InvalidArgumentError` for the first way `body` breaks the spec (renamed for the caller's words)."""
        if self.body is not None and not self.body.is_valid(body):
            _raise(next(iter(self.body.iter_errors(body))), rename)

    def check_params(self, params: Mapping[str, Any]) -> None:
        if not self.params.is_valid(params):
            _raise(next(iter(self.params.iter_errors(params))), None)


def _compile(schema: dict[str, Any]) -> jsonschema_rs.Draft4Validator:
    return jsonschema_rs.Draft4Validator(schema, validate_formats=True)


def _raise(error: jsonschema_rs.ValidationError, rename: Mapping[str, str] | None) -> None:
    path, problem = _words(_best(error))
    raise InvalidArgumentError(renamed(field_path(path) or "body", rename), problem)


def renamed(where: str, rename: Mapping[str, str] | None) -> str:
    """A body path in the caller's words: the longest prefix of `where` that `rename` maps, replaced."""
    for long, short in sorted((rename or {}).items(), key=lambda pair: -len(pair[0])):
        if where == long or where.startswith((long + ".", long + "[")):
            return short + where[len(long):]
    return where


_lock = threading.Lock()
_document: dict[str, Any] | None = None
_compiled: dict[str, OperationSchema] = {}


def spec_document() -> dict[str, Any]:
    """The normalized spec shipped in the generated package, read once."""
    global _document
    if _document is None:
        data = resources.files("fedapay_payouts_api").joinpath("openapi.json").read_bytes()
        _document = loads(data)
    return _document


def schema_for(operation: Operation) -> OperationSchema:
    """The compiled checks of `operation`, compiled on first use and kept."""
    found = _compiled.get(operation.id)
    if found is None:
        with _lock:
            found = _compiled.get(operation.id)
            if found is None:
                found = _compiled[operation.id] = OperationSchema(operation, spec_document())
    return found
