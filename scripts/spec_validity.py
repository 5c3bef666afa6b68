"""Why a normalized spec is not valid OpenAPI: each failing keyword, its place, and where it came from.

The validator regenerate runs (prance on openapi-spec-validator's Rust backend) says only that a whole
schema matches none of its forms, as ~500 characters of that schema's JSON. Here the same document is
checked again with the OpenAPI 3.0 JSON Schema on the same engine (jsonschema-rs), reading each failure's
branches: the deepest is the keyword at fault (`$.components.schemas.Payout.properties.amount.minLength: -1 is
less than the minimum of 0`). A number JSON cannot hold (YAML's `1e400` is infinity) is named first. Each
problem is then traced: to the page whose fence has it on its own, or to the overlay actions whose update
sets that place.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from printable import printable

# Enough to act on; the rest follow once these are fixed.
MAX_PROBLEMS = 5
MAX_MESSAGE = 200
Place = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One failing keyword: the place in the document (its keys), the keyword and what is wrong."""

    place: Place
    message: str

    @property
    def keyword(self) -> str:
        return next((str(part) for part in reversed(self.place) if isinstance(part, str)), "")

    @property
    def where(self) -> str:
        return json_path(self.place)


def json_path(place: Place) -> str:
    """`('paths', '/payouts', 'post')` -> `$.paths['/payouts'].post`: the form the overlays' targets use."""
    out = "$"
    for part in place:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return printable(out)


def non_finite(node: Any, place: Place = ()) -> Iterator[Problem]:
    """Every float JSON has no number for (infinity, NaN): json.dumps would write `Infinity`, which is not JSON."""
    if isinstance(node, float) and not math.isfinite(node):
        shown = "NaN" if math.isnan(node) else "infinity" if node > 0 else "minus infinity"
        yield Problem(place, f"{shown} (as YAML reads 1e400 or .nan) is not a number JSON can hold: write a finite "
                             "number, or leave the keyword out")
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from non_finite(value, (*place, str(key)))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from non_finite(item, (*place, index))


def _schema(version: str) -> dict[str, Any] | None:
    """openapi-spec-validator's JSON Schema of OpenAPI 3.0 (read locally: its `$ref`s are all inside it)."""
    if not version.startswith("3.0"):
        return None
    import openapi_spec_validator

    path = Path(openapi_spec_validator.__file__).parent / "resources/schemas/v3.0/schema.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _leaves(error: Any) -> Iterator[Any]:
    """The innermost failures of a `oneOf`/`anyOf` failure: where each of its forms went wrong."""
    branches = getattr(error.kind, "context", None) or []
    if not branches:
        yield error
        return
    for branch in branches:
        for sub in branch:
            yield from _leaves(sub)


def _is_reference_form(error: Any) -> bool:
    """The failure of the `Reference` form (`$ref` missing) beside a schema that is not one: never the cause."""
    return type(error.kind).__name__ == "Required" and error.message == '"$ref" is a required property'


def problems(document: Any) -> list[Problem]:
    """What makes `document` invalid OpenAPI 3.0, the deepest failure of each schema first; [] when the check
    cannot tell (another OpenAPI version, or a rule outside the JSON Schema such as a duplicate operationId)."""
    found = list(non_finite(document))
    if found or not isinstance(document, dict):
        return found[:MAX_PROBLEMS]
    schema = _schema(str(document.get("openapi", "")))
    if schema is None:
        return []
    import jsonschema_rs

    seen: set[tuple[Place, str]] = set()
    # The engine openapi-spec-validator runs (its `regex` format included), with every failure's branches.
    for error in jsonschema_rs.validator_for(schema).iter_errors(document):
        leaves = list(_leaves(error))
        useful = [leaf for leaf in leaves if not _is_reference_form(leaf)] or leaves
        deepest = max(len(leaf.instance_path) for leaf in useful)
        for leaf in useful:
            if len(leaf.instance_path) != deepest:
                continue
            place = _keys(document, leaf.instance_path)
            message = leaf.message if len(leaf.message) <= MAX_MESSAGE else leaf.message[: MAX_MESSAGE - 3] + "..."
            if (place, message) not in seen:
                seen.add((place, message))
                found.append(Problem(place, printable(message)))
    return found[:MAX_PROBLEMS]


def _keys(document: Any, path: list[Any]) -> Place:
    """jsonschema-rs's path with each key as the document has it: it reads the key `'201'` as the index 201."""
    place: list[str | int] = []
    node = document
    for part in path:
        if isinstance(node, dict):
            key: str | int = part if part in node else str(part)
            node = node.get(key)
        else:
            key = part
            node = node[part] if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node) else None
        place.append(key)
    return tuple(place)


def _at(document: Any, place: Place) -> list[Any]:
    """The nodes from the root down to `place` (fewer when the path leaves the document)."""
    nodes = [document]
    for part in place:
        node = nodes[-1]
        inside = part in node if isinstance(node, dict) else (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        )
        if not inside:
            break
        nodes.append(node[part])
    return nodes


def _sets(update: Any, rest: Place) -> bool:
    """Whether an overlay's `update` writes the place `rest` below its target (or a value holding it)."""
    for part in rest:
        if not isinstance(update, dict) or part not in update:
            return False
        update = update[part]
        if not isinstance(update, dict):
            return True  # a list or a value replaced whole
    return True


def origin(
    problem: Problem,
    document: dict[str, Any],
    pages: list[tuple[str, dict[str, Any]]],
    actions: list[tuple[str, dict[str, Any], list[Any]]],
) -> str:
    """Where `problem` came from: the pages whose fence alone has it (`pages`: each fence's label and
    document), else the overlay actions (`actions`: label, action, the objects its target matches in the
    normalized `document`) whose update writes that place; "" when neither says."""
    same = [
        f"{label} at {found.where}"
        for label, page in pages
        for found in problems(page)
        if found.message == problem.message and found.place[-2:] == problem.place[-2:]
    ]
    if same:
        return "from " + "; ".join(same)
    nodes = _at(document, problem.place)
    setters = []
    for label, action, targets in actions:
        update = action.get("update")
        if any(
            isinstance(node, dict | list) and any(target is node for target in targets)
            and _sets(update, problem.place[depth:])
            for depth, node in enumerate(nodes)
        ):
            setters.append(label)
    return "set by " + ", ".join(setters) if setters else ""
