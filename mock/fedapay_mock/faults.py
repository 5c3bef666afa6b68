"""Test controls that make the mock misbehave on purpose: armed faults and the `Prefer` header.

These are what a client's "never pays twice" tests need: a status instead of the work, a dropped
connection before or after the payout is stored, or a slow reply.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

FAULT_KINDS = ("status", "drop_before_store", "drop_after_store", "delay_before_reply")
MAX_DELAY_SECONDS = 60.0


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
    if operation not in operations:
        raise ValueError(f"operation: must be one of {', '.join(sorted(operations))}")
    kind = payload.get("fault")
    if kind not in FAULT_KINDS:
        raise ValueError(f"fault: must be one of {', '.join(FAULT_KINDS)}")
    times = payload.get("times", 1)
    if not isinstance(times, int) or isinstance(times, bool) or times < 1:
        raise ValueError("times: must be an integer >= 1")
    status = payload.get("status")
    if kind == "status":
        status = 503 if status is None else status
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            raise ValueError("status: must be an integer from 400 to 599")
    elif status is not None:
        raise ValueError("status: only for fault 'status'")
    retry_after = payload.get("retry_after")
    if retry_after is not None and (
        not isinstance(retry_after, int) or isinstance(retry_after, bool) or retry_after < 0
    ):
        raise ValueError("retry_after: must be an integer >= 0")
    delay = payload.get("delay")
    if delay is not None and (
        not isinstance(delay, int | float) or isinstance(delay, bool) or not 0 <= delay <= MAX_DELAY_SECONDS
    ):
        raise ValueError(f"delay: must be a number of seconds from 0 to {MAX_DELAY_SECONDS:g}")
    if kind == "delay_before_reply" and delay is None:
        raise ValueError("delay: required for fault 'delay_before_reply'")
    return operation, Fault(kind, status, retry_after, float(delay) if delay is not None else None), times


class FaultBoard:
    """Armed faults per operation, consumed one per request in arming order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: dict[str, deque[Fault]] = {}

    def arm(self, operation: str, fault: Fault, times: int) -> None:
        with self._lock:
            self._armed.setdefault(operation, deque()).extend([fault] * times)

    def take(self, operation: str) -> Fault | None:
        if not self._armed:
            return None
        with self._lock:
            queue = self._armed.get(operation)
            if not queue:
                return None
            fault = queue.popleft()
            if not queue:
                del self._armed[operation]
            return fault

    def pending(self) -> dict[str, int]:
        with self._lock:
            return {op: len(queue) for op, queue in self._armed.items()}

    def reset(self) -> None:
        with self._lock:
            self._armed.clear()


def parse_prefer(header: str) -> Fault | None:
    """`Prefer: code=503[, retry-after=2][, delay=0.5]` (Prism style) -> a one-off status fault.

    Codes outside 400-599 are ignored: the request is served normally.
    """
    values: dict[str, str] = {}
    for token in header.replace(";", ",").split(","):
        name, sep, value = token.strip().partition("=")
        if sep:
            values[name.strip().lower()] = value.strip().strip('"')
    code = values.get("code")
    if code is None or not code.isdigit() or len(code) != 3 or not 400 <= int(code) <= 599:
        return None
    retry_after = values.get("retry-after")
    if retry_after is not None and len(retry_after) > 9:  # no caller waits 30 years
        retry_after = None
    delay: float | None = None
    try:
        delay = min(float(values["delay"]), MAX_DELAY_SECONDS) if "delay" in values else None
    except ValueError:
        delay = None
    return Fault(
        "status",
        status=int(code),
        retry_after=int(retry_after) if retry_after is not None and retry_after.isdigit() else None,
        delay=delay if delay is None or delay >= 0 else None,
    )
