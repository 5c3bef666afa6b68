"""Every operation of the spec, as a request: from a caller's keywords to what goes on the wire.

The generated package describes each operation (`fedapay_payouts_api.api.<tag>.OPERATIONS`: method,
path, parameters, body fields, reply model), rendered by our templates in spec/templates/. Here a
call's keywords become a request by that description alone:

1. keywords sorted into body fields and path, query and header parameters (an unknown keyword is
   refused: a misspelt field would be sent and ignored; undeclared fields go in `extra_body=`);
2. the documented conveniences applied (`CONVENIENT`: `currency="XOF"` for `{"iso": "XOF"}`), and
   every value made plain JSON (`_validation.json_value`: models, datetimes);
3. the body and parameters checked against the spec's schemas (`_schema.py`), then the declared
   rules a schema cannot say (`_validation.DECLARED`);
4. `extra_body` / `extra_query` / `extra_headers` merged last, checked as JSON and headers, and never
   naming what the spec declares for the operation or the client sets itself (`_validation.py`).

So a field, parameter or constraint FedaPay adds reaches `client.payouts.create(...)` and
`client.call(...)` when the package is regenerated, with no edit here.

`RETRY_CLASS` gives each operationId its retry class; an operation it does not name gets the
conservative one (see `_retry.py`).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import quote

from . import _validation as check
from ._exceptions import InvalidArgumentError
from ._schema import renamed, schema_for

if TYPE_CHECKING:
    from fedapay_payouts_api.client import Operation, Param

__all__ = ["CONVENIENT", "RETRY_CLASS", "Prepared", "operation", "operations", "prepare"]

# operationId -> how a failure may be retried (the table in `_retry.py`'s docstring).
RETRY_CLASS: Final[Mapping[str, str]] = {
    "create_payout": "idempotency key",  # one Idempotency-Key per call, resent on each retry
    "start_payouts": "re-check",  # after a lost reply, retrieve and judge (`_evidence.py`)
    "retrieve_payout": "safe",
    "list_payouts": "safe",
    "search_payouts": "safe",
    "update_payout": "same values",  # setting the same values twice is setting them once
    "delete_payout": "re-check",  # still there -> retry; gone -> outcome unknown
}
CONSERVATIVE: Final = "conservative"  # GET: retried; else only when nothing was sent or the server refused

# Other forms a caller may give for a schema (by component name), turned into the spec's own; the
# TypedDicts say so too (spec/templates/typed_params.jinja, kept in step by a spine test).
CONVENIENT: Final[Mapping[str, str]] = {"CurrencyInput": "iso"}  # "XOF" or "xof" -> {"iso": "XOF"}


def operations() -> dict[str, Operation]:
    """Every operation of the generated package, by operationId, whatever its tag."""
    global _OPERATIONS
    if _OPERATIONS is None:
        api = importlib.import_module("fedapay_payouts_api.api")
        found: dict[str, Operation] = {}
        for module in pkgutil.iter_modules(api.__path__):
            found.update(importlib.import_module(f"{api.__name__}.{module.name}").OPERATIONS)
        _OPERATIONS = found
    return _OPERATIONS


_OPERATIONS: dict[str, Operation] | None = None


def operation(operation_id: str) -> Operation:
    found = operations().get(operation_id) if isinstance(operation_id, str) else None
    if found is None:
        raise check.unknown_operation(operation_id, sorted(operations()))
    return found


def retry_class(op: Operation) -> str:
    return RETRY_CLASS.get(op.id, CONSERVATIVE)


@dataclass
class Prepared:
    """A request's parts, checked: what the client sends."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # None: no body


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _body_schema(op: Operation) -> dict[str, Any]:
    """The operation's JSON request body schema, a component reference resolved ({} when it has none)."""
    from ._schema import spec_document

    schema: dict[str, Any] = (
        spec_document().get("paths", {}).get(op.path, {}).get(op.method.lower(), {}).get("requestBody", {})
        .get("content", {}).get("application/json", {}).get("schema", {})
    )
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        schema = spec_document()["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
    return schema


def _convenient_fields(op: Operation) -> dict[str, str]:
    """Body fields whose schema is a component with a convenient form: wire name -> the key to wrap in."""
    fields: dict[str, str] = {}
    for name, prop in (_body_schema(op).get("properties") or {}).items():
        component = str(prop.get("$ref", "")).rsplit("/", 1)[-1]
        if component in CONVENIENT:
            fields[name] = CONVENIENT[component]
    return fields


def _declared_body(op: Operation) -> dict[str, str]:
    """The body's top-level fields the spec declares (wire name -> the keyword that carries it): what
    `extra_body` may not name, since a value there would skip the checks its keyword gets."""
    from ._schema import spec_document

    components = spec_document().get("components", {}).get("schemas", {})
    keywords = {wire: keyword for keyword, wire in op.body_fields}
    names: dict[str, str] = {}
    pending = [_body_schema(op)]
    for _ in range(64):  # the alternatives of a oneOf / anyOf / allOf, references resolved; a cycle ends here
        if not pending:
            break
        schema = pending.pop()
        ref = str(schema.get("$ref", ""))
        if ref.startswith("#/components/schemas/"):
            schema = components.get(ref.rsplit("/", 1)[-1], {})
        names.update({name: keywords.get(name, "body") for name in schema.get("properties") or {}})
        pending.extend(part for key in ("oneOf", "anyOf", "allOf") for part in schema.get(key) or [])
    return names


def _body_names(op: Operation) -> dict[str, str]:
    """Every field name the body's schema declares, at any depth (start's `payouts[].scheduled_at`, create's
    `customer.email`), lowercase -> the top-level wire name that holds it: what `extra_query` may not name."""
    from ._schema import spec_document

    components = spec_document().get("components", {}).get("schemas", {})
    names: dict[str, str] = {}
    pending: list[tuple[Any, str | None]] = [(_body_schema(op), None)]
    for _ in range(2_000):  # nested schemas, references resolved; a cycle ends here
        if not pending:
            break
        schema, top = pending.pop()
        if not isinstance(schema, Mapping):
            continue
        ref = str(schema.get("$ref", ""))
        if ref.startswith("#/components/schemas/"):
            schema = components.get(ref.rsplit("/", 1)[-1], {})
        for name, field in (schema.get("properties") or {}).items():
            names.setdefault(str(name).lower(), top or str(name))
            pending.append((field, top or str(name)))
        pending.extend((part, top) for key in ("oneOf", "anyOf", "allOf") for part in schema.get(key) or [])
        pending.append((schema.get("items"), top))
    return names


def _undeclared_required(op: Operation) -> frozenset[str]:
    """Body fields the spec requires without declaring them (a `required` name with no property): no keyword
    carries them, so `extra_body` must, and the body's check counts them as given when it does."""
    required = _body_schema(op).get("required") or []
    declared = _per_operation(_DECLARED_BODY, op, _declared_body)
    return frozenset(name for name in required if isinstance(name, str) and name not in declared)


_CONVENIENT_FIELDS: dict[str, dict[str, str]] = {}
_DECLARED_BODY: dict[str, dict[str, str]] = {}
_BODY_NAMES: dict[str, dict[str, str]] = {}
_UNDECLARED_REQUIRED: dict[str, frozenset[str]] = {}
_T = TypeVar("_T")


def _per_operation(cache: dict[str, _T], op: Operation, build: Callable[[Operation], _T]) -> _T:
    """What `build` derives from the spec for `op`, built on the operation's first call and kept."""
    found = cache.get(op.id)
    if found is None:
        found = cache.setdefault(op.id, build(op))
    return found
# Per operation, built on its first call: its body fields (keyword -> wire name) and its parameters by keyword.
_LOOKUPS: dict[str, tuple[dict[str, str], dict[str, Param]]] = {}


def _lookups(op: Operation) -> tuple[dict[str, str], dict[str, Param]]:
    """Its body fields (keyword -> wire name) and its parameters by keyword."""
    return dict(op.body_fields), {p.python_name: p for p in op.params}


def _instead(op: Operation, rename: Mapping[str, str] | None) -> dict[str, str]:
    """The body's declared top-level fields -> the argument that carries each, in the caller's words: start's
    `payouts` is its first argument (`payouts`, or `id` for send_now)."""
    declared_body = _per_operation(_DECLARED_BODY, op, _declared_body)
    return {wire: renamed(wire, rename) if rename and wire in rename else keyword
            for wire, keyword in declared_body.items()}


def _split_extra_query(
    op: Operation, params: Mapping[str, Param], extra_query: object, rename: Mapping[str, str] | None
) -> tuple[dict[str, str | int | float | bool], dict[str, Any]]:
    """`extra_query` as (the parameters the spec does not declare, the declared query parameters it names
    exactly, by keyword). A declared query parameter a method has no keyword for (retrieve's `include`) is
    then checked as the spec declares it; a body field at any depth, a path parameter, or a declared name in
    another case is refused (`check.extra_query`)."""
    instead = _instead(op, rename)
    refused = {name: instead.get(top, top) for name, top in _per_operation(_BODY_NAMES, op, _body_names).items()}
    refused.update({param.name.lower(): param.python_name for param in params.values()})
    by_wire = {param.name: param.python_name for param in params.values() if param.location == "query"}
    undeclared: dict[str, str | int | float | bool] = {}
    declared: dict[str, Any] = {}
    for key, value in check.extra_query(extra_query, op.id, refused, set(by_wire)).items():
        if key in by_wire:
            declared[by_wire[key]] = value
        else:
            undeclared[key] = value
    return undeclared, declared


def prepare(
    op: Operation,
    arguments: Mapping[str, Any],
    *,
    extra_body: Mapping[str, Any] | None = None,
    extra_query: Mapping[str, Any] | None = None,
    extra_headers: Mapping[str, str] | None = None,
    rename: Mapping[str, str] | None = None,
) -> Prepared:
    """Check a call's keywords against the spec and build its request parts (see the module docstring).

    A keyword given as None counts as not given. `rename` maps a body path to the caller's words in
    errors (`payouts[0].id` -> `payouts[0]` when a bare id was given).
    """
    fields, params = _per_operation(_LOOKUPS, op, _lookups)
    body: Any = None
    body_given: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for name, value in arguments.items():
        if value is None:
            continue
        if name in fields:
            body_given[fields[name]] = value
        elif name in params:
            values[name] = value
        elif name == "body" and op.body == "whole":
            body = value
        else:
            known = ", ".join([*fields, *params, *(["body"] if op.body == "whole" else [])]) or "none"
            raise check.unknown_keyword(name, op.id, known, has_body=bool(op.body))
    extra_params: dict[str, str | int | float | bool] = {}
    if extra_query is not None:
        extra_params, declared_given = _split_extra_query(op, params, extra_query, rename)
        for name, value in declared_given.items():
            if name in values:
                raise check.query_set_twice(params[name].name, op.id, name)
            values[name] = value  # checked and sent as the spec declares it, like the keyword
    aliases: dict[str, str] = dict(rename or {})
    if op.body == "fields":
        wrap = _per_operation(_CONVENIENT_FIELDS, op, _convenient_fields)
        for wire, key in wrap.items():
            if isinstance(body_given.get(wire), str):  # the short form: a code, in either case ("xof")
                body_given[wire] = {key: body_given[wire].upper()}
                aliases[f"{wire}.{key}"] = wire
    problems: list[InvalidArgumentError] = []
    if op.body == "fields":
        body = check.json_value(body_given, "", check.MAX_JSON_DEPTH + 1, problems)
    elif body is not None:
        body = check.json_value(body, "", check.MAX_JSON_DEPTH + 1, problems)
    values = {name: check.json_value(value, name, check.MAX_JSON_DEPTH, problems) for name, value in values.items()}
    schema = schema_for(op)
    checked = {} if body is None else body
    if extra_body is not None and isinstance(extra_body, Mapping) and isinstance(checked, dict):
        undeclared = _per_operation(_UNDECLARED_REQUIRED, op, _undeclared_required)
        # Present for the required check; their values are checked as JSON when merged, below.
        checked = {**checked, **{name: True for name in undeclared if name in extra_body}}
    try:
        if body is not None or op.body_required:
            schema.check_body(checked, aliases)
        schema.check_params(values)
    except InvalidArgumentError as exc:
        if exc.argument.startswith("customer") and isinstance(body, dict) and isinstance(body.get("customer"), Mapping):
            # Both an id and a description: the rule says what to do ("customer.lastname: is required" did not).
            check.customer_form(body["customer"])
        # A value that cannot be JSON is named by the spec's field it is in, with its own problem.
        inside = [p for p in problems if renamed(p.argument, aliases).startswith(exc.argument)]
        if not problems or inside or not exc.problem.endswith(repr(check.NOT_JSON)):
            raise (InvalidArgumentError(exc.argument, inside[0].problem) if inside else exc) from None
    if problems:
        raise InvalidArgumentError(renamed(problems[0].argument, aliases), problems[0].problem)
    try:
        check.declared(op.id, body, values)
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(renamed(exc.argument, aliases), exc.problem) from None
    path = op.path
    query: dict[str, str] = {}
    headers: dict[str, str] = {}
    for name, value in values.items():
        param = params[name]
        if param.location == "path":
            path = path.replace("{" + param.name + "}", quote(_query_value(value), safe=""))
        elif param.location == "query":
            query[param.name] = _query_value(value)
        elif param.location == "header":
            headers[param.name] = check.header_value(_query_value(value), name)
    if extra_body is not None:
        body = check.merge_extra_body(body, extra_body, op.id, _instead(op, rename), takes_body=bool(op.body))
    query.update({key: _query_value(value) for key, value in extra_params.items()})
    if extra_headers is not None:
        declared = {p.name.lower(): p.python_name for p in params.values() if p.location == "header"}
        headers.update(check.headers(extra_headers, "extra_headers", declared))
    return Prepared(op.method, path, query, headers, body)
