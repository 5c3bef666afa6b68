"""The payout's shape as the spec declares it: which request fields the mock stores and echoes, which
reply fields it sends as null, and the defaults of fields a request may leave out.

The store computes what FedaPay computes (ids, status, fees, timestamps); everything else follows the
spec, so a field FedaPay adds to its YAML is stored, echoed or sent as null without a change here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .spec import Spec

PAYOUT = "Payout"
CREATE = "create_payout"
UPDATE = "update_payout"


@dataclass(frozen=True)
class PayoutShape:
    """What the spec says about a payout on the wire (an empty shape: nothing beyond the store's own)."""

    reply_fields: frozenset[str] = frozenset()
    nullable: frozenset[str] = frozenset()
    create_fields: frozenset[str] = frozenset()  # create's body properties
    update_fields: frozenset[str] = frozenset()  # update's body properties
    defaults: dict[str, Any] = field(default_factory=dict)  # create's body property -> its spec default
    # Every nullable reply field as null: the base of each payout on the wire.
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
        template=dict.fromkeys(sorted(nullable)),
    )
