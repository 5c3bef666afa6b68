"""The payout's shape as the spec declares it: which request fields the mock stores and echoes, which
reply fields it sends as null, the value of a required reply field it has nothing for, and the defaults of
fields a request may leave out.

The store computes what FedaPay computes (ids, status, fees, timestamps: `COMPUTED_FIELDS`); everything else
follows the spec, so a field FedaPay adds to its YAML is stored, echoed, sent as null or (required and not
nullable) sent with a value of its schema without a change here.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from fedapay_payouts._schema import to_json_schema

from .spec import Spec
from .validation import SchemaValidator
from .wire import dumps

PAYOUT = "Payout"
CREATE = "create_payout"
UPDATE = "update_payout"

# What the store computes, in FedaPay's order (`klass` is the one constant); then the spec's other
# nullable fields (`PayoutStore`).
COMPUTED_FIELDS = (
    "klass",
    "id",
    "reference",
    "amount",
    "status",
    "customer_id",
    "currency_id",
    "mode",
    "last_error_code",
    "last_error_message",
    "commission",
    "fees",
    "fixed_commission",
    "amount_transferred",
    "amount_debited",
    "created_at",
    "updated_at",
    "scheduled_at",
    "started_at",
    "sent_at",
    "failed_at",
    "deleted_at",
    "account_id",
)
# A string of a known `format` that a client's parser reads (the epoch for dates).
_FORMATTED = {
    "date-time": "1970-01-01T00:00:00.000Z",
    "date": "1970-01-01",
    "email": "user@example.com",
    "uri": "https://example.com",
    "uuid": "00000000-0000-0000-0000-000000000000",
}
_MAX_DEPTH = 16


@dataclass(frozen=True)
class PayoutShape:
    """What the spec says about a payout on the wire (an empty shape: nothing beyond the store's own)."""

    reply_fields: frozenset[str] = frozenset()
    nullable: frozenset[str] = frozenset()
    create_fields: frozenset[str] = frozenset()  # create's body properties
    update_fields: frozenset[str] = frozenset()  # update's body properties
    defaults: dict[str, Any] = field(default_factory=dict)  # create's body property -> its spec default
    # Every nullable reply field as null, every required one the store does not compute with a value of its
    # schema (`required_value`): the base of each payout on the wire, in name order.
    template: dict[str, Any] = field(default_factory=dict)

    @property
    def echoed(self) -> frozenset[str]:
        """Request fields the Payout schema also has: stored and sent back. Only declared ones: a key the
        body schema does not name is never stored, so a caller cannot set a reply field it should not."""
        return (self.create_fields | self.update_fields) & self.reply_fields


def _resolve(document: dict[str, Any], node: Any, depth: int = 0) -> dict[str, Any]:
    ref = node.get("$ref") if isinstance(node, dict) else None
    if not isinstance(ref, str):
        return node if isinstance(node, dict) else {}
    target: Any = document
    for part in ref.lstrip("#/").split("/"):
        target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, dict) else {}
    return _resolve(document, target, depth + 1) if depth < 20 else {}


def _body_properties(spec: Spec, operation_id: str) -> dict[str, Any]:
    try:
        operation = spec.operation(operation_id)
    except KeyError:
        return {}
    schema = _resolve(spec.document, operation.body_schema)
    properties = schema.get("properties")
    return properties if isinstance(properties, dict) else {}


def payout_shape(spec: Spec) -> PayoutShape:
    """Read the shape from the spec's Payout schema and the create and update bodies."""
    document = spec.document
    payout = _resolve(document, document.get("components", {}).get("schemas", {}).get(PAYOUT, {}))
    found = payout.get("properties")
    properties: dict[str, Any] = found if isinstance(found, dict) else {}
    nullable = frozenset(name for name, prop in properties.items() if _resolve(document, prop).get("nullable") is True)
    filled = _required_values(spec, payout, properties, nullable)
    create = _body_properties(spec, CREATE)
    update = _body_properties(spec, UPDATE)
    defaults = {
        name: _resolve(document, prop)["default"]
        for name, prop in create.items()
        if "default" in _resolve(document, prop)
    }
    return PayoutShape(
        reply_fields=frozenset(properties),
        nullable=nullable,
        create_fields=frozenset(create),
        update_fields=frozenset(update),
        defaults=defaults,
        template={name: filled.get(name) for name in sorted(nullable | filled.keys())},
    )


def _required_values(
    spec: Spec, payout: dict[str, Any], properties: dict[str, Any], nullable: frozenset[str]
) -> dict[str, Any]:
    """A value for each field the Payout schema requires, that is not nullable and that the store does not compute:
    without it every reply would lack a required field, and a client checking replies would refuse each one. Its
    `example`, else its `default`, else its first `enum` value, else a value made from its type (`required_value`),
    the first one its schema accepts. ValueError (one line naming the field) when none is."""
    required = payout.get("required")
    names = [
        name
        for name in (required if isinstance(required, list) else [])
        if isinstance(name, str) and name not in COMPUTED_FIELDS and name not in nullable
    ]
    if not names:
        return {}
    definitions = to_json_schema(copy.deepcopy(spec.document.get("components", {}).get("schemas", {})))
    out: dict[str, Any] = {}
    for name in names:
        schema = properties.get(name)
        if not isinstance(schema, dict):  # required but not described: any value, null included
            out[name] = None
            continue
        validator = SchemaValidator(schema, definitions)
        for candidate in _candidates(spec.document, schema):
            try:
                dumps(candidate)  # sendable as JSON (not a YAML alias that contains itself)
                accepted = validator.is_valid(candidate)
            except (TypeError, ValueError, RecursionError):
                continue
            if accepted:
                out[name] = candidate
                break
        else:
            raise ValueError(
                f"{spec.source or 'the spec'} is not a spec the mock can serve: components.schemas.{PAYOUT}.properties."
                f"{name[:60]}: required and not nullable, and the mock cannot make a value its schema accepts (give it"
                " an example)"
            )
    return out


def _candidates(document: dict[str, Any], schema: Any) -> list[Any]:
    """The values to try for a required reply field, best first (`_required_values`)."""
    resolved = _resolve(document, schema)
    out: list[Any] = [resolved[key] for key in ("example", "default") if key in resolved]
    enum = resolved.get("enum")
    if isinstance(enum, list):
        out.extend(enum[:1])
    out.append(required_value(document, resolved))
    return out


def required_value(document: dict[str, Any], schema: Any, depth: int = 0) -> Any:
    """A plain value of a schema's type: `""` (or `minLength` x's, or a sample of a known `format`), the
    `minimum` or 0, false, [], an object of its required properties; null for a nullable schema or one without a
    type. Checked against the schema by the caller (a `pattern` it does not match is refused there)."""
    schema = _resolve(document, schema)
    if schema.get("nullable") is True or depth > _MAX_DEPTH:
        return None
    for key in ("oneOf", "anyOf", "allOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches and "type" not in schema:
            return required_value(document, branches[0], depth + 1)
    kind = schema.get("type")
    if kind == "string":
        length = schema.get("minLength")
        return _FORMATTED.get(schema.get("format"), "x" * length if type(length) is int and length > 0 else "")
    if kind in ("integer", "number"):
        low, high = schema.get("minimum"), schema.get("maximum")
        value: Any = 0
        if isinstance(low, int | float) and not isinstance(low, bool):
            value = low + 1 if schema.get("exclusiveMinimum") is True else low
        elif isinstance(high, int | float) and not isinstance(high, bool) and high < 0:
            value = high - 1 if schema.get("exclusiveMaximum") is True else high
        return int(value) if kind == "integer" and float(value).is_integer() else value
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object":
        properties = schema.get("properties")
        required = schema.get("required")
        if not isinstance(properties, dict) or not isinstance(required, list):
            return {}
        return {
            name: required_value(document, properties.get(name, {}), depth + 1)
            for name in required
            if isinstance(name, str)
        }
    return None
