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

    def operation(self, operation_id: str) -> Operation:
        for op in self.operations:
            if op.operation_id == operation_id:
                return op
        raise KeyError(operation_id)


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (one level is all the spec uses for parameters)."""
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    target: Any = document
    for part in ref.lstrip("#/").split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return _resolve(document, target)


def _path_regex(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(f"^{pattern}/?\\Z")  # \Z, not $: `$` also matches before a final newline (`/payouts/1/%0A`)


def load_spec(path: str | Path | None = None) -> Spec:
    """Read and index the spec. Fails loudly when it is not what the mock can serve."""
    spec_path = Path(path) if path is not None else default_spec_path()
    document = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or "paths" not in document:
        raise ValueError(f"{spec_path} is not an OpenAPI document")
    operations: list[Operation] = []
    for template, item in document["paths"].items():
        shared = [_resolve(document, p) for p in item.get("parameters", [])]
        for method in HTTP_METHODS:
            raw = item.get(method)
            if raw is None:
                continue
            merged = {(p["name"], p["in"]): p for p in shared}
            for p in raw.get("parameters", []):
                resolved = _resolve(document, p)
                merged[(resolved["name"], resolved["in"])] = resolved
            params = tuple(
                Parameter(p["name"], p["in"], bool(p.get("required", False)), p.get("schema", {}))
                for p in merged.values()
            )
            body = raw.get("requestBody")
            body_schema = None
            body_required = False
            if body is not None:
                body = _resolve(document, body)
                body_schema = body.get("content", {}).get("application/json", {}).get("schema")
                body_required = bool(body.get("required", False))
            operations.append(
                Operation(
                    # A page FedaPay adds may have no operationId yet (an overlay names it): its method and path.
                    operation_id=raw.get("operationId") or f"{method.upper()} {template}",
                    method=method.upper(),
                    path=template,
                    parameters=params,
                    body_schema=body_schema,
                    body_required=body_required,
                    statuses=frozenset(str(code) for code in raw.get("responses", {})),
                    path_regex=_path_regex(template),
                )
            )
    # Literal paths first, so `/payouts/start` wins over `/payouts/{id}`.
    operations.sort(key=lambda op: (op.path.count("{"), op.path))
    return Spec(document=document, operations=tuple(operations))
