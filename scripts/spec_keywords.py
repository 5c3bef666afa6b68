"""Keywords of the normalized spec that must agree with each other, and where a keyword came from.

A page and the overlays each write part of a schema; together they can say two things at once. Two
such disagreements lost money silently:

- `nullable: true` (overlay step 03) beside an `enum` a page adds: OpenAPI 3.0.3 reads the `enum` as the
  whole set, so null is refused; the generator dropped None from the field's type and every create failed to
  read a reply with `"last_error_code": null` although the payout was made. `null_in_enums` adds null to the
  enum: what `nullable: true` says.
- a keyword the schema's type ignores: a page retypes `amount` integer -> string and steps 04/14's
  `minimum`/`maximum` stay, binding nothing (the 1..1,000,000 cap voided). `misplaced` finds each one and
  `setters` names who wrote it (the overlay action, a copy and what it copied, or the page), so regenerate
  refuses it with a name a person can act on.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spec_validity import Place, json_path

# The keywords that constrain only values of one type (JSON Schema's validation vocabulary, as OpenAPI 3.0 has
# it), each with the types it applies to. `format` is apart: its values depend on the type.
NUMERIC = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
APPLIES_TO: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(NUMERIC, ("integer", "number")),
    **dict.fromkeys(("minLength", "maxLength", "pattern"), ("string",)),
    **dict.fromkeys(("items", "minItems", "maxItems", "uniqueItems"), ("array",)),
    **dict.fromkeys(("properties", "additionalProperties", "required", "minProperties", "maxProperties"), ("object",)),
}
# `format` is open (OpenAPI 3.0: a vendor's `decimal` or `timestamp` on a number is fine), so only a format known
# to be another type's is refused: a string's (date-time, email...) on a number, any known one on a boolean,
# an array or an object. A number's format on a string stays (`format: int64`: a 64-bit integer sent as text).
NUMBER_FORMATS: dict[str, tuple[str, ...]] = {"integer": ("int32", "int64"), "number": ("float", "double")}
STRING_FORMATS = ("date", "date-time", "time", "duration", "password", "byte", "binary", "email", "idn-email",
                  "uuid", "uri", "uri-reference", "iri", "hostname", "idn-hostname", "ipv4", "ipv6", "regex")
_KNOWN_FORMATS = (*STRING_FORMATS, "int32", "int64", "float", "double")
JSON_TYPES = ("string", "integer", "number", "boolean", "array", "object")
# Keys whose values are data or extensions, never schemas: their dicts are not walked.
_VALUES = ("example", "examples", "default", "enum", "const")
_WORDS = {"integer": "an integer", "number": "a number", "string": "a string", "boolean": "a boolean",
          "array": "an array", "object": "an object"}


@dataclass(frozen=True)
class Misplaced:
    """A keyword at `place` (the schema's keys from the root, then the keyword) its schema's `type` ignores."""

    place: Place
    type: str
    value: Any

    @property
    def keyword(self) -> str:
        return str(self.place[-1])

    def problem(self) -> str:
        keyword, value = self.keyword, self.value
        if keyword == "format":
            owner = "strings" if value in STRING_FORMATS else "numbers"
            return f"`format: {value}` is a format of {owner}, not of `type: {self.type}`"
        kinds = " or ".join(_WORDS[kind] for kind in APPLIES_TO[keyword])
        shown = f": {json.dumps(value, default=str)}" if not isinstance(value, dict | list) else ""
        return f"`{keyword}{shown}` applies to {kinds}, not to `type: {self.type}`"


def _data(key: object, names: bool) -> bool:
    """Whether `key` holds data (an example, a default, an enum) or an extension, not schemas: never a key of a
    `properties` mapping (`names`), where `default` or `example` is a property's name."""
    return not names and (key in _VALUES or (isinstance(key, str) and key.startswith("x-")))


def _schemas(node: Any, place: Place = (), names: bool = False) -> Iterator[tuple[Place, dict[str, Any]]]:
    """Every object of the document with a JSON type as its `type` (a schema), with its place; never inside an
    example, a default, an enum or an extension (`x-...`), which hold data."""
    if isinstance(node, dict):
        if not names and isinstance(node.get("type"), str) and node["type"] in JSON_TYPES:
            yield place, node
        for key, value in node.items():
            if _data(key, names):
                continue
            yield from _schemas(value, (*place, str(key)), not names and key == "properties")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _schemas(item, (*place, index))


def misplaced(document: dict[str, Any]) -> list[Misplaced]:
    """Every keyword of `document` that its schema's type ignores: a bound on a string, a pattern on an integer,
    `items` on an object, a date-time format on an integer."""
    found = []
    for place, schema in _schemas(document):
        kind = schema["type"]
        for keyword, value in schema.items():
            if keyword == "format":
                foreign = STRING_FORMATS if kind in NUMBER_FORMATS else () if kind == "string" else _KNOWN_FORMATS
                if value in foreign:
                    found.append(Misplaced((*place, keyword), kind, value))
            elif keyword == "required" and not isinstance(value, list):
                continue  # a parameter's `required: true` (a Swagger 2 parameter with a type), not a schema's
            elif keyword in APPLIES_TO and kind not in APPLIES_TO[keyword]:
                found.append(Misplaced((*place, keyword), kind, value))
    return found


def null_in_enums(document: Any) -> list[Place]:
    """Add null to the `enum` of every schema that is `nullable: true` (OpenAPI 3.0.3: an enum without null
    refuses null whatever `nullable` says, and the generator then drops None from the type); the places changed."""
    changed = []
    for place, schema in _nullable_enums(document):
        schema["enum"] = [*schema["enum"], None]
        changed.append(place)
    return changed


def for_generator(document: dict[str, Any]) -> dict[str, Any]:
    """The document as openapi-python-client is given it: `nullable: true` left out beside an enum that holds null
    (the enum says it already). With both, the generator turns `nullable` into a second null branch of a union it
    builds from the enum's null, and the field's type came out as three copies of one Literal
    (`None | PayoutLastErrorCodeType1 | PayoutLastErrorCodeType2Type1 | ...`); without it, `None | <Literal>`."""
    view = copy.deepcopy(document)
    for _, schema in _nullable_enums(view, with_null=True):
        del schema["nullable"]
    return view


def _nullable_enums(
    node: Any, place: Place = (), *, with_null: bool = False, names: bool = False
) -> list[tuple[Place, dict[str, Any]]]:
    """Every `nullable: true` schema with an enum, whose enum lacks null (or, `with_null`, holds it)."""
    found = []
    if isinstance(node, dict):
        enum = node.get("enum")
        if not names and node.get("nullable") is True and isinstance(enum, list) and (None in enum) == with_null:
            found.append((place, node))
        for key, value in node.items():
            if _data(key, names):
                continue
            found += _nullable_enums(value, (*place, str(key)), with_null=with_null,
                                     names=not names and key == "properties")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += _nullable_enums(item, (*place, index), with_null=with_null)
    return found


# -- where a keyword came from -------------------------------------------------------------------------------

_MISSING = object()


def _value(document: Any, place: Place) -> Any:
    node = document
    for part in place:
        inside = part in node if isinstance(node, dict) else (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        )
        if not inside:
            return _MISSING
        node = node[part]
    return node


def _same(a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING:
        return a is b
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def match_place(match: Any) -> Place:
    """The keys from the root to a jsonpath_ng match (`$.paths['/p'].get` -> ('paths', '/p', 'get'))."""
    parts: list[str | int] = []
    node = match
    while node is not None and node.context is not None:
        step = node.path
        fields = getattr(step, "fields", None)
        indices = getattr(step, "indices", None)
        if isinstance(fields, tuple) and len(fields) == 1:
            parts.append(str(fields[0]))
        elif isinstance(indices, tuple) and len(indices) == 1:
            parts.append(int(indices[0]))
        else:
            parts.append(str(step))
        node = node.context
    return tuple(reversed(parts))


@dataclass
class Replay:
    """The document after each overlay action, from the merged pages on: who wrote what is read from it."""

    states: list[Any]  # states[0]: the pages merged; states[i]: after actions[i - 1]
    actions: list[tuple[str, dict[str, Any]]]  # (label, action)
    pages: list[tuple[str, dict[str, Any]]]  # (page label, its fence's document)
    jsonpath: Callable[[str], Any]

    @classmethod
    def run(
        cls,
        upstream: dict[str, Any],
        overlays: list[tuple[str, dict[str, Any]]],
        apply: Callable[[dict[str, Any], dict[str, Any]], None],
        pages: list[tuple[str, dict[str, Any]]],
        jsonpath: Callable[[str], Any],
    ) -> Replay:
        """`overlays`: (the overlay's name as shown, the overlay); `apply`: how the pipeline applies one action."""
        document = copy.deepcopy(upstream)
        states, actions = [copy.deepcopy(document)], []
        for name, overlay in overlays:
            for number, action in enumerate(overlay.get("actions") or [], start=1):
                apply(document, copy.deepcopy(action))
                states.append(copy.deepcopy(document))
                actions.append((f"{name} action {number}", action))
        return cls(states, actions, pages, jsonpath)

    def setters(self, place: Place, before: int | None = None) -> list[str]:
        """Who wrote the value at `place` as it is after the first `before` actions (all when None): the last
        overlay action that changed it (for a copy, also who wrote what it copied), or the page fences that have
        it when no action touched it."""
        last = len(self.actions) if before is None else before
        value = _value(self.states[last], place)
        for index in range(last, 0, -1):
            if _same(_value(self.states[index - 1], place), _value(self.states[index], place)):
                continue
            label, action = self.actions[index - 1]
            source = self._copied_from(index, place) if "copy" in action else None
            if source is None:
                return [label]
            return [f"{label} (a copy of {json_path(source)})", *self.setters(source, index - 1)]
        return self._pages(place, value)

    def introduced(self, place: Place) -> list[str]:
        """Who made `place` exist: the last overlay action it was missing before, or the page fences that have it."""
        for index in range(len(self.actions), 0, -1):
            if _value(self.states[index - 1], place) is _MISSING and _value(self.states[index], place) is not _MISSING:
                return [self.actions[index - 1][0]]
        return self._pages(place, _value(self.states[0], place), same=False)

    def _pages(self, place: Place, value: Any, *, same: bool = True) -> list[str]:
        pages = [
            label for label, page in self.pages
            if _value(page, place) is not _MISSING and (not same or _same(_value(page, place), value))
        ]
        return [f"{', '.join(pages)} at {json_path(place)}"] if pages else []

    def _copied_from(self, index: int, place: Place) -> Place | None:
        """Where the copy action `index` (1-based) took the value now at `place` from, in the document before it."""
        _, action = self.actions[index - 1]
        before = self.states[index - 1]
        sources = self.jsonpath(str(action["copy"])).find(before)
        if not sources:
            return None
        for target in self.jsonpath(str(action["target"])).find(before):
            prefix = match_place(target)
            if place[: len(prefix)] == prefix:
                return (*match_place(sources[0]), *place[len(prefix):])
        return None


def page_documents(pages: list[tuple[Path, list[dict[str, Any]]]]) -> list[tuple[str, dict[str, Any]]]:
    """Each page fence's document with its label (`spec/source/x.page.txt fence 1`)."""
    return [
        (f"{path.as_posix()} fence {number}", document)
        for path, documents in pages
        for number, document in enumerate(documents, start=1)
    ]
