"""FedaPay's wire format: envelopes and the error body. The JSON codec is the client's.

`loads` and `dumps` here ARE `fedapay_payouts._json.loads_strict` and `fedapay_payouts._json.dumps`
(re-exported, not wrapped): one codec for client and mock, so the two read the same bytes the same
way (exact integers of any length, the same nesting bound). The mock reads requests strictly: NaN,
lone surrogates and bodies nested deeper than `MAX_DEPTH` are refused with `MalformedJSONError`, as
nothing it stores could then fail to encode on the way out.
"""

from __future__ import annotations

from typing import Any

from fedapay_payouts._json import MAX_STRICT_DEPTH as MAX_DEPTH
from fedapay_payouts._json import MalformedJSONError, dumps
from fedapay_payouts._json import loads_strict as loads

__all__ = ["MAX_DEPTH", "MalformedJSONError", "dumps", "error_body", "loads", "payout_envelope", "payouts_envelope"]


def error_body(message: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """`{"message": ..., "errors": {field: [problems]}}`, FedaPay's error shape."""
    return {"message": message, "errors": errors or {}}


def payout_envelope(payout: dict[str, Any]) -> dict[str, Any]:
    return {"v1/payout": payout}


def payouts_envelope(payouts: list[dict[str, Any]], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    if meta is None:
        return {"v1/payouts": payouts}
    return {"v1/payouts": payouts, "meta": meta}
