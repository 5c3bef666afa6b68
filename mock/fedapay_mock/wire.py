"""FedaPay's wire format: the JSON codec, envelopes and the error body.

orjson on the hot path; the standard library only as a fallback for what orjson refuses but JSON
allows (integers beyond 64 bits), so a valid request never becomes a 500.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# orjson reads integers beyond 64 bits as floats; a run of 19+ digits sends the body to the exact parser.
_LONG_NUMBER = re.compile(rb"\d{19}")


class MalformedJSONError(ValueError):
    """The body is not JSON."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(raw: bytes) -> Any:
    try:
        if _LONG_NUMBER.search(raw) is not None:
            raise orjson.JSONDecodeError("long number", "", 0)
        return orjson.loads(raw)
    except orjson.JSONDecodeError as first:
        try:
            return json.loads(raw, parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise MalformedJSONError(str(first)) from None


def dumps(value: Any, *, sort_keys: bool = False) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0)
    except TypeError:
        return json.dumps(value, sort_keys=sort_keys, separators=(",", ":")).encode()


def error_body(message: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """`{"message": ..., "errors": {field: [problems]}}`, FedaPay's error shape."""
    return {"message": message, "errors": errors or {}}


def payout_envelope(payout: dict[str, Any]) -> dict[str, Any]:
    return {"v1/payout": payout}


def payouts_envelope(payouts: list[dict[str, Any]], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    if meta is None:
        return {"v1/payouts": payouts}
    return {"v1/payouts": payouts, "meta": meta}
