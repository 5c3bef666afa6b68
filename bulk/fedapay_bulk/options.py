"""The run's options checked once, before the file is read: an operator's mistake is one line, exit 2.

Each check is shared by the command line (argparse types, which name the option) and the library form
(`BulkOptions`, `InvalidArgumentError` naming the field), so neither can accept what the run cannot use.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fedapay_payouts import InvalidArgumentError

from .when import parse_schedule, wire

if TYPE_CHECKING:
    from .engine import BulkOptions

MAX_CONCURRENCY = 64
MAX_GROUP = 100
MAX_WAIT_TIMEOUT = 7 * 24 * 3600.0  # a week: longer is a typo, and polling would outlive any operator
BATCH_RE = re.compile(r"[A-Za-z0-9_-]{1,40}")


def concurrency(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY:
        raise ValueError(f"must be a whole number from 1 to {MAX_CONCURRENCY}, got {value!r}")
    return value


def wait_timeout(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not 0 < value <= MAX_WAIT_TIMEOUT:
        raise ValueError(f"must be a number of seconds above 0, at most {MAX_WAIT_TIMEOUT:g} (a week), got {value!r}")
    return float(value)


def group_size(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_GROUP:
        raise ValueError(f"must be a whole number from 1 to {MAX_GROUP} (payouts per start), got {value!r}")
    return value


def batch(value: str) -> str:
    if value and not BATCH_RE.fullmatch(value):
        raise ValueError("must be 1 to 40 letters, digits, '-' or '_'")
    return value


def schedule_at(value: str) -> str:
    """One of the spec's forms (a time without a zone is UTC). Whether it is still in the future is asked
    by `prepare.py`, of the rows not yet created only: a resumed journal keeps the plan of the others."""
    parse_schedule(value)
    return value


def not_past(value: str) -> None:
    """`ValueError` if the time has passed."""
    when = parse_schedule(value)
    if when.timestamp() <= time.time():
        raise ValueError(f"{value!r} ({wire(when)}; a time without a zone is UTC) is not in the future")


def check_options(options: BulkOptions) -> None:
    """`InvalidArgumentError` naming the first wrong option; nothing is read or sent before this passes."""
    checks: list[tuple[str, Callable[[Any], object], object]] = [
        ("concurrency", concurrency, options.concurrency),
        ("wait_timeout", wait_timeout, options.wait_timeout),
        ("batch", batch, options.batch),
        ("group_size", group_size, options.group_size),
    ]
    if options.schedule_at is not None:
        checks.append(("schedule_at", schedule_at, options.schedule_at))
    for name, check, value in checks:
        try:
            check(value)
        except ValueError as exc:
            raise InvalidArgumentError(name, str(exc)) from None
