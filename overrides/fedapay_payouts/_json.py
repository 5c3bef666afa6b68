"""The one JSON codec of the project: the client's replies and bodies, and the mock's requests and replies.

orjson for speed, with the standard library's exact results. Every request body and every reply goes
through here (the mock imports these very functions: `fedapay_mock` has no JSON code of its own), so
on a loopback round trip the codec is a visible share of a call (stdlib `json` takes about 15 µs to
read one payout reply here; orjson about 2 µs). orjson is used only where it gives the same value the
standard library would:

- **reading** (`loads`, the client's replies): orjson turns an integer beyond 64 bits into a float,
  silently losing digits; the standard library keeps it exact. A body with a run of 19 or more
  digits is therefore read by the standard library: 20 digits are needed above 2**64, but 19 already
  go below -2**63 (`-9223372036854775809`), which orjson reads as -9.22e18. So is anything orjson
  refuses (a UTF-8 BOM, UTF-16, a lone surrogate, `NaN`), with the standard library's own error if it
  fails too: a reply is read as the standard library reads it.
- **reading strictly** (`loads_strict`, the mock's requests): the same exact numbers, but what a
  server could not store and send back as JSON text is refused with `MalformedJSONError`: `NaN` and
  the infinities (written `Infinity`, or a number too large for a float: `1e400`), lone surrogates
  (`"\\ud800"`), and nesting deeper than `MAX_STRICT_DEPTH`. orjson refuses the first two itself (a
  body it refuses goes to the standard library), so the checks run only on the standard library's path.
- **nesting**: a value nested deeper than its limit is refused (`ValueError`), never a
  `RecursionError`: orjson stops at 1024 levels, the standard library's parser at the interpreter's
  recursion limit, and code that later walks or prints a value that deep (`repr`, `json.dumps`)
  fails on it. A body with no more brackets in all than the limit is not walked at all.
- **writing** (`dumps`): values are plain JSON (the client's `_validation.py` refuses NaN, infinities
  and anything that is not, naming the argument; the mock stores only what `loads_strict` read), so
  orjson writes what `json.dumps` would, compact UTF-8. An integer beyond 64 bits, which orjson
  refuses, is written by the standard library. `sort_keys=True` gives one canonical text per value
  (the mock's idempotency fingerprint).
"""

from __future__ import annotations

import json
from typing import Any, Final

import orjson

__all__ = ["MAX_DEPTH", "MAX_STRICT_DEPTH", "MalformedJSONError", "dumps", "loads", "loads_strict"]

# Every digit becomes "0", so a run of 19 digits is a run of 19 "0"s: found with two C-speed passes
# (about 1 µs on a payout reply, where a regular expression takes about 10 µs).
_DIGITS_TO_ZERO: Final = bytes.maketrans(b"0123456789", b"0" * 10)
_LONG_RUN: Final = b"0" * 19
MAX_DEPTH: Final = 64  # what FedaPay sends nests 5 levels; custom_metadata is refused past 32 on the way in
MAX_STRICT_DEPTH: Final = 32  # the mock refuses deeper requests: nothing stored can then fail to encode
_CONTAINERS: Final = (dict, list)
_SORTED: Final = orjson.OPT_SORT_KEYS


class MalformedJSONError(ValueError):
    """The body is not JSON a server can keep (`loads_strict`): not JSON, NaN, a lone surrogate, too deep."""


def _exact(content: bytes) -> bool:
    """Whether orjson would read `content` exactly: no run of 19 digits (which may not fit in 64 bits)."""
    return _LONG_RUN not in content.translate(_DIGITS_TO_ZERO)


def loads(content: bytes) -> Any:
    """Parse a reply body as the standard library would; `ValueError` when it is not JSON or nests
    deeper than `MAX_DEPTH`."""
    if _exact(content):
        try:
            return _bounded(orjson.loads(content), content, MAX_DEPTH)
        except orjson.JSONDecodeError:
            pass
    try:
        value = json.loads(content)
    except RecursionError:
        raise ValueError(f"the JSON nests deeper than {MAX_DEPTH} levels") from None
    return _bounded(value, content, MAX_DEPTH)


def loads_strict(content: bytes, max_depth: int = MAX_STRICT_DEPTH) -> Any:
    """Parse a request body; `MalformedJSONError` for anything a server could not store and send back."""
    if _exact(content):
        try:
            value = orjson.loads(content)  # refuses NaN, infinities and lone surrogates itself
        except orjson.JSONDecodeError:
            pass  # the standard library says why (and takes what only it reads: a BOM, UTF-16)
        else:
            if _too_deep(value, content, max_depth):
                raise MalformedJSONError(f"the body nests arrays and objects deeper than {max_depth} levels")
            return value
    try:
        value = json.loads(content, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedJSONError(str(exc)[:200]) from None
    if _too_deep(value, content, max_depth):
        raise MalformedJSONError(f"the body nests arrays and objects deeper than {max_depth} levels")
    if _has_lone_surrogate(value):  # the standard library takes them; they are not text to store
        raise MalformedJSONError("a string holds a lone surrogate (\\ud800-\\udfff), which is not text")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    """A JSON number as the standard library reads it, refused when it overflows to an infinity (`1e400`):
    stored, it would be written back as null and fingerprint like null."""
    value = float(text)
    if value in (_INF, -_INF):
        raise ValueError(f"the number {text[:40]} is too large for a float (it would be an infinity)")
    return value


_INF: Final = float("inf")


def _bounded(value: Any, content: bytes, limit: int) -> Any:
    if _too_deep(value, content, limit):
        raise ValueError(f"the JSON nests deeper than {limit} levels")
    return value


def _too_deep(value: Any, content: bytes, limit: int) -> bool:
    """Whether `value` (parsed from `content`) nests deeper than `limit`; walked only when the brackets
    could reach it, level by level (no recursion on hostile input)."""
    if content.count(b"[") + content.count(b"{") <= limit:
        return False
    level = [value] if type(value) in _CONTAINERS else []
    for _ in range(limit):
        if not level:
            return False
        following: list[Any] = []
        for container in level:
            items = container.values() if type(container) is dict else container
            following.extend(item for item in items if type(item) in _CONTAINERS)
        level = following
    return bool(level)


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if type(node) is str:
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif type(node) is dict:
            stack.extend(node.keys())
            stack.extend(node.values())
        elif type(node) is list:
            stack.extend(node)
    return False


def dumps(value: Any, *, sort_keys: bool = False) -> bytes:
    """Encode plain JSON values, compact UTF-8; `sort_keys` for one canonical text per value."""
    try:
        return orjson.dumps(value, option=_SORTED) if sort_keys else orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(
            value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, sort_keys=sort_keys
        ).encode()
