"""Load the OpenAPI spec the mock is derived from, and list its operations.

The mock reads its spec at start-up so that routing and request validation follow the spec instead of
restating it. It reads the copy packaged next to this module (scripts/regenerate.py writes it with
spec/openapi.yaml; a test asserts both are byte-identical) unless given a path: never a file found by
walking up from where it is installed, which after `pip install --target` is a user's own project.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PACKAGED_SPEC = Path(__file__).with_name("openapi.yaml")
# In a checkout, the file the packaged copy is made from (for the staleness test only; never loaded by default).
# libyaml's parser when PyYAML was built with it (the wheels are): the same safe constructors, and a spec read
# in 7 ms instead of 38 ms, on every mock started (a test suite starts hundreds).
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Collections nested deeper than this are refused before the document is built: PyYAML's libyaml composer
# recurses in C and crashes the process (SIGSEGV) somewhere past 10,000 levels, and its Python one raises
# RecursionError past about 1,000. FedaPay's spec nests 11 deep.
MAX_YAML_DEPTH = 100
REPO_SPEC = Path(__file__).resolve().parent.parent.parent / "spec" / "openapi.yaml"

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def default_spec_path() -> Path:
    """The packaged copy, in a checkout and an install alike."""
    return PACKAGED_SPEC


@dataclass(frozen=True)
class Parameter:
    """One declared parameter of an operation, with its (OpenAPI) schema."""

    name: str
    location: str
    required: bool
    schema: dict[str, Any]


@dataclass(frozen=True)
class Operation:
    """One operation of the spec: where it lives, what it takes and which statuses it documents."""

    operation_id: str
    method: str
    path: str
    parameters: tuple[Parameter, ...]
    body_schema: dict[str, Any] | None
    body_required: bool
    statuses: frozenset[str]
    path_regex: re.Pattern[str] = field(compare=False)

    def documents(self, status: int) -> bool:
        """Whether the spec lists `status` (or its `NXX` range) for this operation."""
        return str(status) in self.statuses or f"{str(status)[0]}XX" in self.statuses


@dataclass(frozen=True)
class Spec:
    """The parsed spec document and its operations."""

    document: dict[str, Any]
    operations: tuple[Operation, ...]
    source: Path | None = None  # the file it was read from (named in errors)

    def operation(self, operation_id: str) -> Operation:
        for op in self.operations:
            if op.operation_id == operation_id:
                return op
        raise KeyError(operation_id)


class _Problem(ValueError):
    """A part of the spec the mock cannot read: where (a path in the document) and what is wrong."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")


# OpenAPI 3.0's pattern for the keys of `components` (the names `$ref`s point at).
_COMPONENT_NAME = re.compile(r"[A-Za-z0-9._-]+")
_SCHEMA_REF = "#/components/schemas/"
_LOCATIONS = frozenset({"query", "header", "path", "cookie"})
# An HTTP header name (RFC 9110 token): a header parameter is looked up by it.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Deeper schemas are refused: the schema translation and the validators recurse through them.
MAX_SCHEMA_DEPTH = 64
# Schema keywords whose value is a schema, a list of schemas, or a mapping of name -> schema.
_SUBSCHEMA = ("items", "not")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SUBSCHEMA_MAPS = ("properties",)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Problem(where, f"must be a mapping, not {_kind(value)}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Problem(where, f"must be a list, not {_kind(value)}")
    return value


def _resolve(document: dict[str, Any], node: Any, where: str) -> dict[str, Any]:
    """Follow a local `$ref` chain to the mapping it names (`where`: the node's place, for errors)."""
    seen: set[str] = set()
    while True:
        found = _mapping(node, where)
        ref = found.get("$ref")
        if ref is None:
            return found
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise _Problem(where, f"$ref {str(ref)[:80]!r} is not a local reference (#/...)")
        if ref in seen:
            raise _Problem(where, f"$ref {ref[:80]!r} refers back to itself")
        seen.add(ref)
        target: Any = document
        for part in ref[2:].split("/"):
            key = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or key not in target:
                raise _Problem(where, f"$ref {ref[:80]!r} names nothing in the document")
            target = target[key]
        node, where = target, ref


def _check_schema(schemas: dict[str, Any], schema: Any, where: str) -> None:
    """Check that a schema has the structure the mock reads: mappings where a schema is, lists where a list
    is, and every `$ref` naming one of `components.schemas` (the only refs the validators translate)."""
    stack: list[tuple[Any, str, int]] = [(schema, where, 0)]
    while stack:
        node, at, depth = stack.pop()
        node = _mapping(node, at)
        if depth > MAX_SCHEMA_DEPTH:
            raise _Problem(at, f"is nested deeper than {MAX_SCHEMA_DEPTH} schemas")
        ref = node.get("$ref")
        if ref is not None:
            name = ref[len(_SCHEMA_REF) :] if isinstance(ref, str) and ref.startswith(_SCHEMA_REF) else None
            if name is None or name not in schemas:
                raise _Problem(at, f"$ref {str(ref)[:80]!r} names none of components.schemas")
        for key in _SUBSCHEMA:
            if key in node:
                stack.append((node[key], f"{at}.{key}", depth + 1))
        for key in _SUBSCHEMA_LISTS:
            if key in node:
                for n, branch in enumerate(_list(node[key], f"{at}.{key}")):
                    stack.append((branch, f"{at}.{key}[{n}]", depth + 1))
        for key in _SUBSCHEMA_MAPS:
            if key in node:
                for name, sub in _mapping(node[key], f"{at}.{key}").items():
                    stack.append((sub, f"{at}.{key}.{name}", depth + 1))
        extra = node.get("additionalProperties")
        if extra is not None and not isinstance(extra, bool):
            stack.append((extra, f"{at}.additionalProperties", depth + 1))
        kind = node.get("type")
        if kind is not None and not isinstance(kind, str):
            raise _Problem(f"{at}.type", f"must be a string, not {_kind(kind)}")
        for key in ("required", "enum"):
            if key in node:
                _list(node[key], f"{at}.{key}")
        if not all(isinstance(name, str) for name in node.get("required", ())):
            raise _Problem(f"{at}.required", "must be a list of property names")


def _components(document: dict[str, Any]) -> dict[str, Any]:
    """`components.schemas`, each checked (names as OpenAPI allows them, no `$ref` that only refers to itself)."""
    components = _mapping(document.get("components", {}), "components")
    schemas = _mapping(components.get("schemas", {}), "components.schemas")
    for name, schema in schemas.items():
        where = f"components.schemas.{name}"
        if not isinstance(name, str) or not _COMPONENT_NAME.fullmatch(name):
            raise _Problem(where, "the name must be letters, digits, '.', '_' or '-'")
        _check_schema(schemas, schema, where)
        # A chain of bare refs must end in a schema (the validators follow it by recursion).
        _resolve(document, schema, where)
    return schemas


def _parameters(document: dict[str, Any], schemas: dict[str, Any], raw: Any, where: str) -> list[dict[str, Any]]:
    """The parameters listed at `where`, resolved and checked."""
    out = []
    for n, item in enumerate(_list(raw, where)):
        at = f"{where}[{n}]"
        param = _resolve(document, item, at)
        name, location = param.get("name"), param.get("in")
        if not isinstance(name, str) or not name:
            raise _Problem(at, "needs a name (a string)")
        if not isinstance(location, str) or location not in _LOCATIONS:
            raise _Problem(at, f"'in' must be one of {', '.join(sorted(_LOCATIONS))}, not {str(location)[:20]!r}")
        if location == "header" and not _TOKEN.fullmatch(name):
            raise _Problem(at, f"{name[:40]!r} is not an HTTP header name")
        if "schema" in param:
            _check_schema(schemas, param["schema"], f"{at}.schema")
        out.append(param)
    return out


def _body(
    document: dict[str, Any], schemas: dict[str, Any], raw: Any, where: str
) -> tuple[dict[str, Any] | None, bool]:
    """(JSON body schema or None, required) of an operation's `requestBody`."""
    body = _resolve(document, raw, where)
    content = _mapping(body.get("content", {}), f"{where}.content")
    media = _mapping(content.get("application/json", {}), f"{where}.content.application/json")
    schema = media.get("schema")
    if schema is not None:
        _check_schema(schemas, schema, f"{where}.content.application/json.schema")
        schema = _mapping(schema, f"{where}.content.application/json.schema")
    return schema, bool(body.get("required", False))


def _path_regex(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    try:
        return re.compile(f"^{pattern}/?\\Z")  # \Z, not $: `$` also matches before a final newline (`/payouts/1/%0A`)
    except re.error as exc:  # `{1}` (not a name) or a name used twice
        raise _Problem(f"paths.{template}", f"bad path parameter ({exc})") from None


def _deeper_than(text: str, limit: int) -> int | None:
    """The line where `text`'s collections first nest more than `limit` deep, or None. Reads parser events
    only (a flat stream, 1.5 ms for the spec): nothing is built, so depth cannot crash it."""
    depth = 0
    for event in yaml.parse(text, Loader=_SAFE_LOADER):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > limit:
                mark = event.start_mark
                return mark.line + 1 if mark is not None else 0
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def load_spec(path: str | Path | None = None) -> Spec:
    """Read and index the spec. Fails loudly when it is not what the mock can serve: a ValueError naming the
    file and the place in it (`paths./x.get.parameters[0]: ...`), never a crash further on."""
    spec_path = Path(path) if path is not None else default_spec_path()
    try:
        text = spec_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{spec_path} is not UTF-8 text") from None
    too_deep = _deeper_than(text, MAX_YAML_DEPTH)
    if too_deep is not None:
        raise ValueError(f"{spec_path} is nested more than {MAX_YAML_DEPTH} levels deep (line {too_deep})")
    try:
        document = yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)
    except RecursionError:
        raise ValueError(f"{spec_path} is nested too deeply") from None
    if not isinstance(document, dict) or "paths" not in document:
        raise ValueError(f"{spec_path} is not an OpenAPI document")
    try:
        operations = _operations(document)
    except _Problem as problem:
        raise ValueError(f"{spec_path} is not a spec the mock can serve: {problem}") from None
    return Spec(document=document, operations=tuple(operations), source=spec_path)


def _operations(document: dict[str, Any]) -> list[Operation]:
    schemas = _components(document)
    operations: list[Operation] = []
    ids: dict[str, str] = {}
    for template, item in _mapping(document["paths"], "paths").items():
        if isinstance(template, str) and template.startswith("x-"):
            continue  # a specification extension (OpenAPI 3.0 allows `x-` keys among the paths): not a path
        if not isinstance(template, str) or not template.startswith("/"):
            raise _Problem(f"paths.{template}", "a path must be a string starting with /")
        where = f"paths.{template}"
        item = _mapping(item, where)
        regex = _path_regex(template)
        shared = _parameters(document, schemas, item.get("parameters", []), f"{where}.parameters")
        for method in HTTP_METHODS:
            if method not in item:
                continue
            at = f"{where}.{method}"
            raw = _mapping(item[method], at)
            merged = {(p["name"], p["in"]): p for p in shared}
            for p in _parameters(document, schemas, raw.get("parameters", []), f"{at}.parameters"):
                merged[(p["name"], p["in"])] = p
            params = tuple(
                Parameter(p["name"], p["in"], bool(p.get("required", False)), p.get("schema", {}))
                for p in merged.values()
            )
            body_schema, body_required = None, False
            if raw.get("requestBody") is not None:
                body_schema, body_required = _body(document, schemas, raw["requestBody"], f"{at}.requestBody")
            # A page FedaPay adds may have no operationId yet (an overlay names it): its method and path.
            operation_id = raw.get("operationId") or f"{method.upper()} {template}"
            if not isinstance(operation_id, str):
                raise _Problem(f"{at}.operationId", f"must be a string, not {_kind(operation_id)}")
            if operation_id in ids:
                raise _Problem(f"{at}.operationId", f"{operation_id[:60]!r} is also the id of {ids[operation_id]}")
            ids[operation_id] = at
            operations.append(
                Operation(
                    operation_id=operation_id,
                    method=method.upper(),
                    path=template,
                    parameters=params,
                    body_schema=body_schema,
                    body_required=body_required,
                    statuses=frozenset(str(code) for code in _mapping(raw.get("responses", {}), f"{at}.responses")),
                    path_regex=regex,
                )
            )
    # Literal paths first, so `/payouts/start` wins over `/payouts/{id}`.
    operations.sort(key=lambda op: (op.path.count("{"), op.path))
    return operations
