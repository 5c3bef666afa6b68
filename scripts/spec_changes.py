"""What a spec change does to callers: two OpenAPI documents compared, each change classified.

A change is *breaking for callers* when code that works against the old spec can fail against the
new one: a request it sends is now refused, or a reply it reads no longer has the shape it reads.
So the same change can be harmless in a request and breaking in a reply (a new enum value: a caller
never has to send it, but an old client cannot parse it). Schemas shared through `$ref` are compared
once and reported under the component's name (`Payout.customer_id`), with every operation using them.

The rules (`breaking` / `-` for a request schema, then for a response schema; parsed by this module,
so the table is the code):

| kind | request | response | example |
|---|---|---|---|
| operation-removed | breaking | breaking | `DELETE /payouts/{id}` is gone: its generated function too |
| operation-added | - | - | a new page documents `POST /payouts/{id}/cancel` |
| operation-renamed | breaking | breaking | operationId `start_payouts` -> `start`: the generated module is renamed |
| parameter-removed | breaking | breaking | query `status` of list_payouts removed |
| parameter-added-required | breaking | breaking | a required header `FedaPay-Account` |
| parameter-added-optional | - | - | query `merchant_reference` on list_payouts |
| parameter-became-required | breaking | breaking | query `page` must now be sent |
| parameter-became-optional | - | - | path parameters aside, a required query relaxed |
| body-became-required | breaking | breaking | update without a body is refused |
| body-became-optional | - | - | the start body may be omitted |
| response-removed-success | breaking | breaking | create answers 200 instead of 201: the 201 parser is gone |
| response-added | - | - | create documents a new 409 |
| response-removed-error | - | - | a documented 413 is no longer listed |
| property-removed | breaking | breaking | `Payout.balance_id` removed; a request field renamed is removed + added |
| property-added-required | breaking | - | `PayoutCreate.purpose` added and required: old bodies are refused |
| property-added-optional | - | - | `Payout.beneficiary_note` added |
| became-required | breaking | - | `PayoutCreate.customer.email` must now be sent |
| became-optional | - | breaking | `Payout.mode` may be missing: old readers expect it |
| type-changed | breaking | breaking | `Payout.customer_id` integer -> string (a format change counts) |
| nullable-added | - | breaking | `Payout.created_at` may be null |
| nullable-removed | breaking | - | `PayoutUpdate.custom_metadata` no longer takes null |
| enum-narrowed | breaking | - | currency `GNF` no longer accepted (or an enum introduced) |
| enum-widened | - | breaking | a new `status` value old parsers reject (or an enum dropped) |
| constraint-narrowed | breaking | - | `PayoutCreate.amount` gains `maximum: 5000000` |
| constraint-widened | - | breaking | a reply's `maxLength` raised: longer values than documented arrive |
| constraint-changed | breaking | breaking | a `pattern` replaced by another: neither contains the other |
| default-changed | breaking | - | `per_page` default 25 -> 50: an omitted field means something else |
| branch-removed | breaking | - | `customer` no longer accepts `CustomerRef` |
| branch-added | - | breaking | a reply `oneOf` gains a form old parsers do not know |
| schema-replaced | breaking | breaking | `customer` refers to `Customer2` instead of `CustomerInput` |
| security-changed | breaking | breaking | bearer auth -> an API key header: every old call is refused |

`allOf` is compared as the one schema its branches make together (properties and `required` of every
branch, the tightest of their bounds, the values every `enum` allows, every `pattern`, `multipleOf` and
`not`), so a branch added, dropped or a `required` moved between branches is a property change. A name
in `required` with no schema under `properties` is a property too (added required, became optional): the
client and the mock require it all the same. A `not` added narrows, one dropped widens, one replaced
changes (compared with its `$ref`s followed). An `additionalProperties` absent or `true` is the schema
that allows anything: a schema there narrows it.
Values (enum, default) compare with their JSON type (`1` is not `true`); header names without case.
A schema with an `enum` that lacks null takes no null, `nullable: true` or not (OpenAPI 3.0.3), and null in
an enum is reported as nullability, not as an enum value.

Descriptions, examples and summaries are not compared: they change nothing a program does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from printable import printable

REQUEST = "request"
RESPONSE = "response"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
LOWER_BOUNDS = ("minimum", "minLength", "minItems", "minProperties")
UPPER_BOUNDS = ("maximum", "maxLength", "maxItems", "maxProperties")


@dataclass(frozen=True)
class Rule:
    kind: str
    request: bool
    response: bool
    example: str


def _parse_rules(doc: str) -> dict[str, Rule]:
    rules = {}
    for line in doc.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[1] in ("breaking", "-") and cells[2] in ("breaking", "-"):
            rules[cells[0]] = Rule(cells[0], cells[1] == "breaking", cells[2] == "breaking", cells[3])
    return rules


RULES = _parse_rules(__doc__ or "")


@dataclass
class Change:
    """One change; `breaking` is the rule's verdict for every direction the schema is used in."""

    kind: str
    where: str
    detail: str
    directions: set[str] = field(default_factory=set)
    operations: set[str] = field(default_factory=set)
    overlays: list[str] = field(default_factory=list)
    # For an upstream change: the overlay after which it no longer shows (it does not reach the spec), or "".
    overridden_by: str = ""

    @property
    def id(self) -> str:
        return f"{self.kind} {self.where}" + (f" ({self.detail})" if self.detail else "")

    @property
    def breaking(self) -> bool:
        rule = RULES[self.kind]
        return (REQUEST in self.directions and rule.request) or (RESPONSE in self.directions and rule.response)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "where": self.where,
            "detail": self.detail,
            "breaking": self.breaking,
            "used_in": sorted(self.directions),
            "operations": sorted(self.operations),
            "overlays": self.overlays,
            "overridden_by": self.overridden_by or None,
            "rule": RULES[self.kind].example,
        }

    def line(self) -> str:
        flag = "BREAKING" if self.breaking else "ok      "
        text = f"{flag} {self.kind:<26} {self.where}"
        text += f": {self.detail}" if self.detail else ""
        text += f"  [{'+'.join(sorted(self.directions))}; {', '.join(sorted(self.operations))}]"
        if self.overlays:
            text += f"  overlays: {', '.join(self.overlays)}"
        if self.overridden_by:
            text += f"  overridden by overlay {self.overridden_by}"
        return text


def _ref_name(node: Any) -> str | None:
    ref = node.get("$ref") if isinstance(node, dict) else None
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = "|".join(sorted(str(k) for k in kind if k != "null"))
    if kind is None and "format" not in schema:
        return None
    return f"{kind or 'any'}" + (f"({schema['format']})" if "format" in schema else "")


def _nullable(schema: dict[str, Any]) -> bool:
    """Whether null is a value of `schema`. OpenAPI 3.0.3: an `enum` is the whole set, so one without null refuses
    null whatever `nullable` says (a page's enum beside step 03's `nullable: true` made the generated parser refuse
    null, while this said nothing of it)."""
    kind = schema.get("type")
    nullable = bool(schema.get("nullable")) or (isinstance(kind, list) and "null" in kind)
    enum = schema.get("enum")
    return nullable and not (isinstance(enum, list) and None not in enum)


def _show(value: Any) -> str:
    return "none" if value is None else str(value)


def _typed(value: Any) -> str:
    """A value as JSON: `1` and `true` (equal in Python) stay different, as they are on the wire."""
    return json.dumps(value, sort_keys=True, default=str)


class _Differ:
    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        self.changes: dict[str, Change] = {}
        self.memo: dict[tuple[str | None, str | None, str], set[str]] = {}
        self.collectors: list[set[str]] = []
        self.operation = ""

    # -- recording ------------------------------------------------------------------------------

    def add(self, kind: str, where: str, detail: str, direction: str) -> None:
        # Names and values come from the pages: their control characters escaped once, here, so the id, the
        # printed line, the JSON report and the CHANGELOG entry all show (and match) the same safe text.
        change = Change(kind, printable(where), printable(detail))
        change = self.changes.setdefault(change.id, change)
        change.directions.add(direction)
        change.operations.add(self.operation_name)
        for collector in self.collectors:
            collector.add(change.id)

    @property
    def operation_name(self) -> str:
        """The operation being compared (its operationId, a page's value), safe to print."""
        return printable(str(self.operation))

    # -- documents ------------------------------------------------------------------------------

    def _resolve(self, doc: dict[str, Any], node: Any, depth: int = 0) -> Any:
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not isinstance(ref, str) or not ref.startswith("#/") or depth > 20:
            return node
        target: Any = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        return self._resolve(doc, target, depth + 1) if target is not None else {}

    def _operations(self, doc: dict[str, Any]) -> dict[str, tuple[dict[str, Any], list[Any]]]:
        found = {}
        for path, item in (doc.get("paths") or {}).items():
            item = self._resolve(doc, item) or {}
            for method in METHODS:
                if isinstance(item.get(method), dict):
                    found[f"{method.upper()} {path}"] = (item[method], list(item.get("parameters", [])))
        return found

    def run(self) -> list[Change]:
        old_ops, new_ops = self._operations(self.old), self._operations(self.new)
        for label in sorted(old_ops.keys() - new_ops.keys()):
            self.operation = old_ops[label][0].get("operationId", label)
            self.add("operation-removed", label, "", REQUEST)
        for label in sorted(new_ops.keys() - old_ops.keys()):
            self.operation = new_ops[label][0].get("operationId", label)
            missing = "" if "operationId" in new_ops[label][0] else "no operationId: generated name comes from the path"
            self.add("operation-added", label, missing, REQUEST)
        for label in sorted(old_ops.keys() & new_ops.keys()):
            (old_op, old_shared), (new_op, new_shared) = old_ops[label], new_ops[label]
            self.operation = new_op.get("operationId", label)
            if old_op.get("operationId") != new_op.get("operationId"):
                detail = f"{_show(old_op.get('operationId'))} -> {_show(new_op.get('operationId'))}"
                self.add("operation-renamed", label, detail, REQUEST)
            self._parameters(
                label, old_shared + old_op.get("parameters", []), new_shared + new_op.get("parameters", [])
            )
            self._security(label, old_op, new_op)
            self._body(label, old_op.get("requestBody"), new_op.get("requestBody"))
            self._responses(label, old_op.get("responses") or {}, new_op.get("responses") or {})
        return sorted(self.changes.values(), key=lambda c: (not c.breaking, c.where, c.kind, c.detail))

    def _parameters(self, label: str, old: list[Any], new: list[Any]) -> None:
        def index(doc: dict[str, Any], params: list[Any]) -> dict[tuple[str, str], dict[str, Any]]:
            out = {}
            for param in params:
                resolved = self._resolve(doc, param)
                if isinstance(resolved, dict) and "name" in resolved:
                    place, name = str(resolved.get("in")), str(resolved["name"])
                    # HTTP header names are case-insensitive: `Idempotency-Key` and `idempotency-key` are one.
                    out[(place, name.lower() if place == "header" else name)] = resolved
            return out

        old_params, new_params = index(self.old, old), index(self.new, new)
        for key in sorted(old_params.keys() - new_params.keys()):
            self.add("parameter-removed", f"{label} {key[0]} parameter {old_params[key]['name']}", "", REQUEST)
        for key in sorted(new_params.keys() - old_params.keys()):
            kind = "parameter-added-required" if new_params[key].get("required") else "parameter-added-optional"
            self.add(kind, f"{label} {key[0]} parameter {new_params[key]['name']}", "", REQUEST)
        for key in sorted(old_params.keys() & new_params.keys()):
            where = f"{label} {key[0]} parameter {new_params[key]['name']}"
            was, now = bool(old_params[key].get("required")), bool(new_params[key].get("required"))
            if was != now:
                self.add("parameter-became-required" if now else "parameter-became-optional", where, "", REQUEST)
            self.schema(old_params[key].get("schema") or {}, new_params[key].get("schema") or {}, where, REQUEST)

    def _effective_security(self, doc: dict[str, Any], operation: dict[str, Any]) -> list[list[str]]:
        """Each way to authenticate (alternatives), each the schemes it needs, each scheme by what it asks
        the caller to send (type, scheme, where and under which name), not by its local name."""
        requirements = operation.get("security", doc.get("security")) or []
        schemes = (doc.get("components") or {}).get("securitySchemes") or {}
        ways = []
        for requirement in requirements if isinstance(requirements, list) else []:
            needs = []
            for name in sorted(requirement or {}):
                scheme = self._resolve(doc, schemes.get(name)) or {}
                shown = {key: scheme.get(key) for key in ("type", "scheme", "in", "bearerFormat", "flows",
                                                          "openIdConnectUrl")}
                if scheme.get("in") == "header" and isinstance(scheme.get("name"), str):
                    shown["name"] = scheme["name"].lower()
                elif "name" in scheme:
                    shown["name"] = scheme.get("name")
                needs.append(_typed({**shown, "scopes": sorted(requirement[name] or [])}))
            ways.append(needs)
        return sorted(ways)

    def _security(self, label: str, old_op: dict[str, Any], new_op: dict[str, Any]) -> None:
        old_ways, new_ways = self._effective_security(self.old, old_op), self._effective_security(self.new, new_op)
        if old_ways != new_ways:
            detail = f"{_security_text(old_ways)} -> {_security_text(new_ways)}"
            self.add("security-changed", f"{label} security", detail, REQUEST)

    def _body(self, label: str, old: Any, new: Any) -> None:
        old_body, new_body = self._resolve(self.old, old) or {}, self._resolve(self.new, new) or {}
        where = f"{label} request body"
        if bool(old_body.get("required")) != bool(new_body.get("required")):
            self.add("body-became-required" if new_body.get("required") else "body-became-optional", where, "", REQUEST)
        old_schema = (old_body.get("content") or {}).get("application/json", {}).get("schema")
        new_schema = (new_body.get("content") or {}).get("application/json", {}).get("schema")
        if old_schema is not None and new_schema is not None:
            self.schema(old_schema, new_schema, where, REQUEST)
        elif old_schema is not None:
            self.add("property-removed", where, "the JSON body", REQUEST)
        elif new_schema is not None:
            kind = "property-added-required" if new_body.get("required") else "property-added-optional"
            self.add(kind, where, "the JSON body", REQUEST)

    def _responses(self, label: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        for status in sorted(old.keys() - new.keys()):
            kind = "response-removed-success" if str(status).startswith("2") else "response-removed-error"
            self.add(kind, f"{label} response {status}", "", RESPONSE)
        for status in sorted(new.keys() - old.keys()):
            self.add("response-added", f"{label} response {status}", "", RESPONSE)
        for status in sorted(old.keys() & new.keys()):
            old_reply, new_reply = (
                self._resolve(self.old, old[status]) or {},
                self._resolve(self.new, new[status]) or {},
            )
            old_schema = (old_reply.get("content") or {}).get("application/json", {}).get("schema")
            new_schema = (new_reply.get("content") or {}).get("application/json", {}).get("schema")
            where = f"{label} response {status}"
            if old_schema is not None and new_schema is not None:
                self.schema(old_schema, new_schema, where, RESPONSE)
            elif old_schema is not None:
                self.add("property-removed", where, "the JSON body", RESPONSE)
            elif new_schema is not None:
                self.add("property-added-optional", where, "the JSON body", RESPONSE)

    # -- schemas --------------------------------------------------------------------------------

    def schema(self, old: Any, new: Any, where: str, direction: str) -> None:
        old_ref, new_ref = _ref_name(old), _ref_name(new)
        if old_ref is None and new_ref is None:
            self._compare(old if isinstance(old, dict) else {}, new if isinstance(new, dict) else {}, where, direction)
            return
        if old_ref is not None and new_ref is not None and old_ref != new_ref:
            self.add("schema-replaced", where, f"{old_ref} -> {new_ref}", direction)
            return
        if old_ref is None or new_ref is None:
            # A ref on one side only (inlined, or newly referenced): each use compares its own inline schema.
            # A memo keyed by the one name would report the first use's changes for every other use.
            self._compare(self._resolve(self.old, old) or {}, self._resolve(self.new, new) or {}, where, direction)
            return
        key = (old_ref, new_ref, direction)
        known = self.memo.get(key)
        if known is not None:  # compared already (or being compared: a cycle): count this use too
            for change_id in known:
                self.changes[change_id].operations.add(self.operation_name)
                for collector in self.collectors:
                    collector.add(change_id)
            return
        collected: set[str] = set()
        self.memo[key] = collected
        self.collectors.append(collected)
        try:
            name = new_ref or old_ref or where
            self._compare(self._resolve(self.old, old) or {}, self._resolve(self.new, new) or {}, name, direction)
        finally:
            self.collectors.pop()
        for collector in self.collectors:
            collector.update(collected)

    def _all_of(self, doc: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> dict[str, Any]:
        """`schema` with its `allOf` branches folded in, as a validator applies them all: properties and
        `required` of every branch; the tightest bound; the values every `enum` allows; every `pattern`,
        `multipleOf` and `not` (several kept as a list, `not`s as one `not: {anyOf: [...]}`); the first
        type and format found (the outer schema's first)."""
        if "allOf" not in schema or depth > 20:
            return schema
        merged = {key: value for key, value in schema.items() if key != "allOf"}
        properties = dict(merged.get("properties") or {})
        required = list(merged.get("required") or [])
        parts = [dict(merged)]  # the outer schema as written, before any branch's value is folded in
        for branch in schema.get("allOf") or []:
            part = self._all_of(doc, self._resolve(doc, branch) or {}, depth + 1)
            parts.append(part)
            for name, value in (part.get("properties") or {}).items():
                properties.setdefault(name, value)
            required += [name for name in part.get("required") or [] if name not in required]
            for key, value in part.items():
                if key not in ("properties", "required", "description", "title", "example"):
                    merged.setdefault(key, value)
        if properties:
            merged["properties"] = properties
        if required:
            merged["required"] = required
        _tightest(merged, parts)
        return merged

    def _compare(self, old: dict[str, Any], new: dict[str, Any], where: str, direction: str) -> None:
        old, new = self._all_of(self.old, old), self._all_of(self.new, new)
        for key in ("oneOf", "anyOf"):
            if key in old or key in new:
                self._branches(old.get(key) or [], new.get(key) or [], where, direction)
        old_type, new_type = _type(old), _type(new)
        if old_type != new_type:
            self.add("type-changed", where, f"{_show(old_type)} -> {_show(new_type)}", direction)
            return
        if _nullable(old) != _nullable(new):
            self.add("nullable-added" if _nullable(new) else "nullable-removed", where, "", direction)
        self._enum(old.get("enum"), new.get("enum"), where, direction)
        self._constraints(old, new, where, direction)
        if _typed(old.get("default")) != _typed(new.get("default")):
            detail = f"{_show(old.get('default'))} -> {_show(new.get('default'))}"
            self.add("default-changed", where, detail, direction)
        self._properties(old, new, where, direction)
        if "items" in old or "items" in new:
            self.schema(old.get("items") or {}, new.get("items") or {}, f"{where}[]", direction)
        old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(old_extra, dict) or isinstance(new_extra, dict):
            if old_extra is not False and new_extra is not False:
                # Absent or `true` is the schema `{}` (anything): comparing it with a schema shows each new limit.
                old_schema = old_extra if isinstance(old_extra, dict) else {}
                new_schema = new_extra if isinstance(new_extra, dict) else {}
                self.schema(old_schema, new_schema, f"{where}.*", direction)
                return
            kind = "constraint-narrowed" if new_extra is False else "constraint-widened"
            self.add(kind, where, f"additionalProperties {_show(old_extra)} -> {_show(new_extra)}", direction)
        elif (old_extra is False) != (new_extra is False):
            kind = "constraint-narrowed" if new_extra is False else "constraint-widened"
            self.add(kind, where, f"additionalProperties {_show(old_extra)} -> {_show(new_extra)}", direction)

    def _enum(self, old: Any, new: Any, where: str, direction: str) -> None:
        if _typed(old) == _typed(new):
            return
        if old is None:
            self.add("enum-narrowed", where, f"enum {new} introduced", direction)
        elif new is None:
            self.add("enum-widened", where, f"enum {old} dropped", direction)
        else:
            # Null in an enum is `nullable`'s business (nullable-added/-removed), not said twice.
            old_values, new_values = {_typed(v) for v in old}, {_typed(v) for v in new}
            removed = [v for v in old if _typed(v) not in new_values and v is not None]
            added = [v for v in new if _typed(v) not in old_values and v is not None]
            if removed:
                self.add("enum-narrowed", where, f"removed {removed}", direction)
            if added:
                self.add("enum-widened", where, f"added {added}", direction)

    def _constraints(self, old: dict[str, Any], new: dict[str, Any], where: str, direction: str) -> None:
        for name in (*LOWER_BOUNDS, *UPPER_BOUNDS):
            a, b = old.get(name), new.get(name)
            if a != b:
                # A bound introduced narrows; one dropped widens; a lower bound raised or an upper one lowered narrows.
                narrowed = a is None or (b is not None and (b > a if name in LOWER_BOUNDS else b < a))
                kind = "constraint-narrowed" if narrowed else "constraint-widened"
                self.add(kind, where, f"{name} {_show(a)} -> {_show(b)}", direction)
        for name in ("exclusiveMinimum", "exclusiveMaximum", "uniqueItems"):
            a, b = old.get(name), new.get(name)
            if a != b and isinstance(a, bool | None) and isinstance(b, bool | None):
                kind = "constraint-narrowed" if b else "constraint-widened"
                self.add(kind, where, f"{name} {_show(a)} -> {_show(b)}", direction)
            elif a != b:
                self.add("constraint-changed", where, f"{name} {_show(a)} -> {_show(b)}", direction)
        for name in ("pattern", "multipleOf"):
            # Several (from allOf branches) all apply: more of them narrow, fewer widen.
            a, b = _all_values(old.get(name)), _all_values(new.get(name))
            if a == b:
                continue
            kind = "constraint-narrowed" if a < b else "constraint-widened" if b < a else "constraint-changed"
            self.add(kind, where, f"{name} {_show(old.get(name))} -> {_show(new.get(name))}", direction)
        a, b = self._inlined(self.old, old.get("not")), self._inlined(self.new, new.get("not"))
        old_excluded, new_excluded = _excluded(a), _excluded(b)
        if old_excluded != new_excluded:
            # What `not` excludes: more refuses values, less allows them, another both.
            kind = (
                "constraint-narrowed" if old_excluded < new_excluded
                else "constraint-widened" if new_excluded < old_excluded
                else "constraint-changed"
            )
            self.add(kind, where, f"not {_compact(a)} -> {_compact(b)}", direction)

    def _inlined(self, doc: dict[str, Any], node: Any, seen: tuple[str, ...] = ()) -> Any:
        """`node` with every local `$ref` replaced by its target (a cycle, or more than 20 deep, stays a ref):
        a `not` is compared by what it excludes, not by the name it gives it."""
        if isinstance(node, list):
            return [self._inlined(doc, item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in seen or len(seen) > 20:
                return {"$ref": ref}
            return self._inlined(doc, self._resolve(doc, {"$ref": ref}), (*seen, ref))
        return {key: self._inlined(doc, value, seen) for key, value in node.items()}

    def _properties(self, old: dict[str, Any], new: dict[str, Any], where: str, direction: str) -> None:
        old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
        old_required, new_required = set(old.get("required") or []), set(new.get("required") or [])
        for name in sorted(old_props.keys() - new_props.keys()):
            self.add("property-removed", f"{where}.{name}", "", direction)
        for name in sorted(new_props.keys() - old_props.keys()):
            kind = "property-added-required" if name in new_required else "property-added-optional"
            self.add(kind, f"{where}.{name}", "", direction)
        for name in sorted(old_props.keys() & new_props.keys()):
            if (name in old_required) != (name in new_required):
                self.add(
                    "became-required" if name in new_required else "became-optional", f"{where}.{name}", "", direction
                )
            self.schema(old_props[name], new_props[name], f"{where}.{name}", direction)
        # A required name with no schema under `properties` is still required: the client and the mock refuse
        # a body without it. Adding one is a new required field; dropping one relaxes it.
        unlisted = old_props.keys() | new_props.keys()
        for name in sorted(str(n) for n in (new_required - old_required) - unlisted):
            self.add("property-added-required", f"{where}.{name}", "required, no schema under properties", direction)
        for name in sorted(str(n) for n in (old_required - new_required) - unlisted):
            self.add("became-optional", f"{where}.{name}", "required, no schema under properties", direction)

    def _branches(self, old: list[Any], new: list[Any], where: str, direction: str) -> None:
        old_named = {_ref_name(b): b for b in old if _ref_name(b)}
        new_named = {_ref_name(b): b for b in new if _ref_name(b)}
        for name in sorted(str(n) for n in old_named.keys() - new_named.keys()):
            self.add("branch-removed", where, name, direction)
        for name in sorted(str(n) for n in new_named.keys() - old_named.keys()):
            self.add("branch-added", where, name, direction)
        for name in sorted(str(n) for n in old_named.keys() & new_named.keys()):
            self.schema(old_named[name], new_named[name], where, direction)
        old_inline = [b for b in old if not _ref_name(b)]
        new_inline = [b for b in new if not _ref_name(b)]
        for index, (a, b) in enumerate(zip(old_inline, new_inline, strict=False)):
            self.schema(a, b, f"{where}<{index}>", direction)
        for index in range(len(new_inline), len(old_inline)):
            self.add("branch-removed", where, f"inline form {index}", direction)
        for index in range(len(old_inline), len(new_inline)):
            self.add("branch-added", where, f"inline form {index}", direction)


def _all_values(value: Any) -> frozenset[str]:
    """The constraints a `pattern` or `multipleOf` sets: none, one, or (folded from allOf) several."""
    if value is None:
        return frozenset()
    return frozenset(_typed(v) for v in (value if isinstance(value, list) else [value]))


def _excluded(schema: Any) -> frozenset[str]:
    """The schemas a `not` excludes: `not: {anyOf: [A, B]}` (as allOf folds `not`s) excludes A and B."""
    if schema is None:
        return frozenset()
    if isinstance(schema, dict) and list(schema) == ["anyOf"] and isinstance(schema["anyOf"], list):
        return frozenset(_typed(item) for item in schema["anyOf"])
    return frozenset({_typed(schema)})


def _compact(value: Any) -> str:
    return "none" if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _tightest(merged: dict[str, Any], parts: list[dict[str, Any]]) -> None:
    """Set on `merged` (an allOf folded) what all of `parts` (the outer schema, then each branch) demand
    together: a value must satisfy every branch, so the tightest bound wins, not the first one found."""
    for name in (*LOWER_BOUNDS, *UPPER_BOUNDS):
        if name in ("minimum", "maximum"):
            continue  # with their OpenAPI 3.0 `exclusive*` flags, below
        values = [part[name] for part in parts if _number(part.get(name))]
        if values:
            merged[name] = max(values) if name in LOWER_BOUNDS else min(values)
    for name, flag, lower in (("minimum", "exclusiveMinimum", True), ("maximum", "exclusiveMaximum", False)):
        bounds = [(part[name], part.get(flag) is True) for part in parts if _number(part.get(name))]
        if bounds:
            # The tighter value; at a tie, exclusive (the value itself refused) is the tighter.
            value, exclusive = max(bounds) if lower else min(bounds, key=lambda bound: (bound[0], not bound[1]))
            merged[name] = value
            if exclusive:
                merged[flag] = True
            elif merged.get(flag) is True:
                del merged[flag]
        numbers = [part[flag] for part in parts if _number(part.get(flag))]  # OpenAPI 3.1's numeric form
        if numbers:
            merged[flag] = max(numbers) if lower else min(numbers)
    if any(part.get("uniqueItems") is True for part in parts):
        merged["uniqueItems"] = True
    enums = [part["enum"] for part in parts if isinstance(part.get("enum"), list)]
    if len(enums) > 1:
        allowed = set.intersection(*({_typed(v) for v in enum} for enum in enums))
        merged["enum"] = [v for v in enums[0] if _typed(v) in allowed]
    for name in ("pattern", "multipleOf"):
        values = []
        for part in parts:
            if part.get(name) is not None and _typed(part[name]) not in {_typed(v) for v in values}:
                values.append(part[name])
        if len(values) > 1:
            merged[name] = values
    excluded = [part["not"] for part in parts if "not" in part]
    if len(excluded) > 1:
        merged["not"] = {"anyOf": excluded}  # not A and not B: neither


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _security_text(ways: list[list[str]]) -> str:
    def one(need: str) -> str:
        scheme = json.loads(need)
        kind = scheme.get("scheme") or scheme.get("type")
        return f"{kind} {scheme['in']} {scheme.get('name')}" if scheme.get("in") else str(kind)

    return " or ".join("+".join(one(need) for need in way) or "none" for way in ways) or "none"


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every change from `old` to `new`, breaking ones first."""
    return _Differ(old or {}, new or {}).run()


def uncompared(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The keys (innermost names: `example`, `description`) whose values differ between `old` and `new`: what the
    spec's text changed when `compare` finds nothing a program sees, so the report never says "none" of a spec it
    is about to rewrite."""
    found: set[str] = set()

    def walk(a: Any, b: Any, key: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for name in a.keys() | b.keys():
                if _typed(a.get(name)) != _typed(b.get(name)):
                    walk(a.get(name), b.get(name), str(name))
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for x, y in zip(a, b, strict=True):
                walk(x, y, key)
        elif _typed(a) != _typed(b):
            found.add(printable(key))

    walk(old or {}, new or {}, "(the document)")
    return sorted(found)


_TOKEN = re.compile(r"\['([^']+)'\]|\.([A-Za-z_][\w-]*)|\[\"([^\"]+)\"\]")


def overlay_actions(overlays: list[tuple[Path, dict[str, Any]]]) -> list[tuple[str, set[str]]]:
    """(`name.yaml#N`, the names its target and copy source mention, and `parameter <in> <name>` for each parameter
    its update writes, itself or by a `$ref` to a parameter an overlay defines) for every overlay action. A path's
    parameter is named so, not by its last name: step 07 defines `PayoutId` and puts it on `/payouts/{id}` with
    targets that name neither `id` nor the path, while steps 08 and 10 target fields called `id` elsewhere."""
    labelled = [
        (f"{path.name}#{number}", action)
        for path, overlay in overlays
        for number, action in enumerate(overlay.get("actions") or [], start=1)
    ]
    defined: dict[str, str] = {}
    for _, action in labelled:
        _parameter_definitions(action.get("update"), defined)
    actions = []
    for label, action in labelled:
        tokens: set[str] = set()
        for key in ("target", "copy"):
            found = [
                next(group for group in match.groups() if group) for match in _TOKEN.finditer(str(action.get(key, "")))
            ]
            tokens.update(found)
            if key == "target" and "parameters" in found:
                # A target in an operation's (or a path's) parameter list, where step 12 copies the list's: any of
                # its parameters may change.
                for index, name in enumerate(found):
                    if name.startswith("/"):
                        method = found[index + 1] if index + 1 < len(found) else ""
                        tokens.add(f"parameters of {method.upper() if method in METHODS else '*'} {name}")
        tokens |= _parameters_written(action.get("update"), defined)
        actions.append((label, tokens))
    return actions


_PARAMETER_REF = "#/components/parameters/"


def _parameter_token(node: Any) -> str | None:
    """`parameter <in> <name>` for a parameter object (a header's name in lower case), else None."""
    if not isinstance(node, dict) or not isinstance(node.get("in"), str) or not isinstance(node.get("name"), str):
        return None
    place, name = node["in"], node["name"]
    return f"parameter {place} {name.lower() if place == 'header' else name}"


def _parameter_definitions(node: Any, defined: dict[str, str]) -> None:
    """Every map of named parameter objects in an update (`components: {parameters: {PayoutId: ...}}`), by name."""
    if isinstance(node, dict):
        for key, value in node.items():
            token = _parameter_token(value)
            if token is not None and isinstance(key, str):
                defined[key] = token
            _parameter_definitions(value, defined)
    elif isinstance(node, list):
        for item in node:
            _parameter_definitions(item, defined)


def _parameters_written(node: Any, defined: dict[str, str]) -> set[str]:
    """The parameters an update writes: parameter objects, and `$ref`s to defined ones."""
    found: set[str] = set()
    token = _parameter_token(node)
    if token is not None:
        found.add(token)
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_PARAMETER_REF) and ref[len(_PARAMETER_REF):] in defined:
            found.add(defined[ref[len(_PARAMETER_REF):]])
        for value in node.values():
            found |= _parameters_written(value, defined)
    elif isinstance(node, list):
        for item in node:
            found |= _parameters_written(item, defined)
    return found


# `GET /payouts/{id} path parameter id` (and a place inside its schema after it): what parameter-* changes, and the
# schema changes of a parameter, are about.
_PARAMETER_WHERE = re.compile(r"(?P<method>[A-Z]+) (?P<path>\S+) (?P<place>\S+) parameter (?P<name>[^\s.\[]+)")


def mark_overlays(changes: list[Change], actions: list[tuple[str, set[str]]]) -> None:
    """Name, on each change, the overlay actions that point at the field or path it is about. A parameter's change
    names the actions that write that parameter, or that target the parameters of its path (a copy of another
    path's list); never an action on some other field of the parameter's name."""
    for change in changes:
        where = change.where
        parameter = _PARAMETER_WHERE.match(where)
        if change.kind.startswith("operation-"):
            names = {where.split(" ", 1)[1]}
        elif parameter is not None:
            place, name = parameter["place"], parameter["name"]
            wanted = {f"parameter {place} {name.lower() if place == 'header' else name}"} | {
                f"parameters of {method} {parameter['path']}" for method in (parameter["method"], "*")
            }
            change.overlays = [label for label, tokens in actions if tokens & wanted]
            continue
        else:
            last = re.split(r"[. ]", where.replace("[]", ""))[-1]
            names = {last, where} if "." not in where and " " not in where else {last}
        change.overlays = [label for label, tokens in actions if tokens & names]


def _trace(change: Change) -> tuple[str, str, str]:
    """What follows a change through the overlays: its kind, detail and the field it is about. A whole schema
    is named by its place upstream (`POST /payouts request body`) and by its component once an overlay lifts
    it (`PayoutCreate`), so only the field's own name counts; operations, parameters and responses keep theirs."""
    if "." in change.where:
        spot = change.where.rsplit(".", 1)[1]
    elif change.kind.startswith(("operation-", "parameter-", "response-", "body-", "security-")):
        spot = change.where
    else:
        spot = ""
    return (change.kind, spot, change.detail)


def mark_overridden(upstream: list[Change], steps: list[tuple[str, list[Change]]]) -> None:
    """Name, on each upstream change that does not reach the normalized spec, the overlay that overrides it.
    `steps` is, for each overlay in order, its name and the changes between the old and the new upstream
    once the overlays up to it are applied to both. A change still there after the last overlay reaches the
    spec; otherwise the overlay after the last step that still showed it is the one that overrode it. A change
    whose field still changes after the last overlay reached the spec in another form (a page's `enum` moved into
    an `allOf` branch shows as a type change once step 03 restates the field; the same field name, in a request or
    a reply as the change is) is in the spec's report, never "overridden"."""
    seen = [{_trace(change) for change in changes} for _, changes in steps]
    reached = {(_trace(change)[1], way) for change in steps[-1][1] for way in change.directions} if steps else set()
    for change in upstream:
        trace = _trace(change)
        if not steps or trace in seen[-1] or any(trace[1] and (trace[1], way) in reached for way in change.directions):
            continue
        last = max((index for index, traces in enumerate(seen) if trace in traces), default=-1)
        change.overridden_by = steps[last + 1][0]
