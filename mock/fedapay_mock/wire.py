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


# Deeper bodies are refused on the way in: nothing stored can then fail to encode on the way out.
MAX_DEPTH = 32


class MalformedJSONError(ValueError):
    """The body is not JSON (or is JSON nested deeper than `MAX_DEPTH`)."""


def depth_exceeds(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects nest deeper than `limit` (iterative: no recursion on hostile input)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(raw: bytes) -> Any:
    """Parse a request body; MalformedJSONError for anything the mock could not store and send back."""
    try:
        if _LONG_NUMBER.search(raw) is not None:
            raise orjson.JSONDecodeError("long number", "", 0)
        value = orjson.loads(raw)
        exact = False
    except orjson.JSONDecodeError as first:
        try:
            value = json.loads(raw, parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise MalformedJSONError(str(first)[:200]) from None
        exact = True
    if depth_exceeds(value):
        raise MalformedJSONError(f"the body nests arrays and objects deeper than {MAX_DEPTH} levels")
    # The exact parser takes what orjson refuses, lone surrogates included: those are not text to store.
    if exact and _has_lone_surrogate(value):
        raise MalformedJSONError("a string holds a lone surrogate (\\ud800-\\udfff), which is not text")
    return value


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


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
