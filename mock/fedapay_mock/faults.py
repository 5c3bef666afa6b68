"""Test controls that make the mock misbehave on purpose: armed faults and the `Prefer` header.

These are what a client's "never pays twice" tests need: a status instead of the work, a dropped
connection before or after the payout is stored, or a slow reply.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

FAULT_KINDS = ("status", "drop_before_store", "drop_after_store", "delay_before_reply")
MAX_DELAY_SECONDS = 60.0
# One arming covers at most this many requests, and a Retry-After says at most this many seconds (30 years):
# beyond, a number says nothing a test needs, and the counts must stay 64-bit integers in JSON.
MAX_TIMES = 1_000_000_000
MAX_RETRY_AFTER = 999_999_999
# A `Prefer` number: ASCII digits only ("²".isdigit() is true, int("²") fails; `float` reads "\u0661" and "nan").
_PREFER_INT = re.compile(r"[0-9]{1,9}", re.ASCII)
_PREFER_SECONDS = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?", re.ASCII)


def _count(payload: dict[str, Any], name: str, low: int, high: int) -> int | None:
    """An integer field of a control body from `low` to `high` (not a bool), None when absent or null;
    ValueError naming it."""
    value = payload.get(name)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high):
        raise ValueError(f"{name}: must be an integer from {low} to {high}")
    return value


@dataclass(frozen=True)
class Fault:
    """One armed misbehaviour; `status` and `retry_after` apply to kind `status`."""

    kind: str
    status: int | None = None
    retry_after: int | None = None
    delay: float | None = None


def parse_fault(payload: Any, operations: frozenset[str]) -> tuple[str, Fault, int]:
    """Read a `POST /_mock/faults` body. Raises ValueError naming the bad field."""
    if not isinstance(payload, dict):
        raise ValueError("body: must be an object")
    operation = payload.get("operation")
    if not isinstance(operation, str) or operation not in operations:  # a list or object is not hashable
        raise ValueError(f"operation: must be one of {', '.join(sorted(operations))}")
    kind = payload.get("fault")
    if not isinstance(kind, str) or kind not in FAULT_KINDS:
        raise ValueError(f"fault: must be one of {', '.join(FAULT_KINDS)}")
    times = _count(payload, "times", 1, MAX_TIMES) or 1
    status = _count(payload, "status", 400, 599)
    if kind == "status":
        status = status or 503
    elif status is not None:
        raise ValueError("status: only for fault 'status'")
    retry_after = _count(payload, "retry_after", 0, MAX_RETRY_AFTER)
    delay = payload.get("delay")
    if delay is not None and (
        not isinstance(delay, int | float) or isinstance(delay, bool) or not 0 <= delay <= MAX_DELAY_SECONDS
    ):
        raise ValueError(f"delay: must be a number of seconds from 0 to {MAX_DELAY_SECONDS:g}")
    if kind == "delay_before_reply" and delay is None:
        raise ValueError("delay: required for fault 'delay_before_reply'")
    return operation, Fault(kind, status, retry_after, float(delay) if delay is not None else None), times


class FaultBoard:
    """Armed faults per operation, consumed one per request in arming order.

    Each arming is kept once with the number of requests it has left, not copied `times` times: arming
    a fault for a billion requests takes no more memory than arming it for one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: dict[str, deque[list[Any]]] = {}  # operation -> [[fault, requests left], ...]

    def arm(self, operation: str, fault: Fault, times: int) -> None:
        with self._lock:
            self._armed.setdefault(operation, deque()).append([fault, times])

    def take(self, operation: str) -> Fault | None:
        if not self._armed:
            return None
        with self._lock:
            queue = self._armed.get(operation)
            if not queue:
                return None
            entry = queue[0]
            entry[1] -= 1
            if not entry[1]:
                queue.popleft()
                if not queue:
                    del self._armed[operation]
            fault: Fault = entry[0]
            return fault

    def armed_for(self, operation: str) -> bool:
        """Whether a request to `operation` would take a fault now (nothing consumed)."""
        return operation in self._armed

    def pending(self) -> dict[str, int]:
        with self._lock:
            return {op: sum(entry[1] for entry in queue) for op, queue in self._armed.items()}

    def reset(self) -> None:
        with self._lock:
            self._armed.clear()


def parse_prefer(header: str) -> Fault | None:
    """`Prefer: code=503[, retry-after=2][, delay=0.5]` (Prism style) -> a one-off status fault.

    A code that is not three ASCII digits from 400 to 599 is ignored: the request is served normally. A
    `retry-after` that is not up to 9 ASCII digits, or a `delay` that is not plain decimal seconds, is ignored
    alone (the code still applies). Nothing a client can put in the header makes this raise.
    """
    values: dict[str, str] = {}
    for token in header.replace(";", ",").split(","):
        name, sep, value = token.strip().partition("=")
        if sep:
            values[name.strip().lower()] = value.strip().strip('"')
    code = values.get("code")
    if code is None or len(code) != 3 or not _PREFER_INT.fullmatch(code) or not 400 <= int(code) <= 599:
        return None
    retry_after = values.get("retry-after")
    delay = values.get("delay")
    return Fault(
        "status",
        status=int(code),
        retry_after=int(retry_after) if retry_after is not None and _PREFER_INT.fullmatch(retry_after) else None,
        delay=min(float(delay), MAX_DELAY_SECONDS) if delay is not None and _PREFER_SECONDS.fullmatch(delay) else None,
    )
