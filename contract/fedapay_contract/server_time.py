"""When a server's "now" is, and whether a start's `scheduled_at` is in its future (`checks.accepted_start_reads_back`).

A start item with a future `scheduled_at` must be scheduled, not sent at once (docs/fedapay-wire.md: "`scheduled_at`
in the future: schedule"); one whose date is past may be sent now. "Future" is the server's: its clock may be
frozen (the embedded mock's, for reproducible runs), behind or ahead of this machine's, in any time zone.
So a date is judged future only when it lies more than `FUTURE_MARGIN` after the *latest* of: the reply's `Date`
header, the `created_at`/`updated_at` a reply shows (the server wrote them at or before its now) and this machine's
clock. The latest reading is the safe one: a date judged future is then future for every one of them, so a server
that rightly sent a due payout is never failed; only a clock ahead of all of them by more than the margin could be.
The margin also covers the time between the start and its read-back, in which a near date falls due.

Dates are read in the forms the spec's `scheduled_at` pattern allows (ISO 8601 with `Z` or an offset, `YYYY-MM-DD
HH:MM:SS` meaning UTC, Ruby's `... UTC` and `... +0100`), to the second; an instant is seconds since the epoch.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

# Seconds past the server's latest known "now" after which a `scheduled_at` is surely future (clock skew between
# this machine and a server that sends no Date header, plus the read-back's delay).
FUTURE_MARGIN = 600.0
# The timestamps a payout shows that the server writes at or before its now (never a planned time).
PAST_STAMPS = ("created_at", "updated_at")

_WHEN = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(?:(Z)| ?([+-])([0-9]{2}):?([0-9]{2})| (UTC))?",
    re.ASCII,
)
_EPOCH = datetime(1970, 1, 1)
# How far a date a server shows may be from the one asked and still name the same instant: the client's
# `CLOCK_TOLERANCE` (fedapay_payouts._evidence, `as_asked`), one millisecond, in microseconds. The mock keeps
# dates to the millisecond; a server that keeps only seconds moves `...:00.5Z` and the client refuses it too.
SAME_INSTANT_TOLERANCE_US = 1000


def _parts(text: object) -> tuple[datetime, int, int] | None:
    """A date's naive wall time, its microseconds (a fraction's first six digits) and its offset in seconds."""
    if not isinstance(text, str):
        return None
    found = _WHEN.fullmatch(text.strip())
    if found is None:
        return None
    year, month, day, hour, minute, second, fraction, _z, sign, hours, minutes, _utc = found.groups()
    try:
        naive = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:  # 2024-02-30 matches the pattern but is no day
        return None
    offset = 0 if sign is None else (int(hours) * 3600 + int(minutes) * 60) * (1 if sign == "+" else -1)
    return naive, int((fraction or "0")[:6].ljust(6, "0")), offset


def instant(text: object) -> float | None:
    """Seconds since the epoch of a date in one of the spec's forms (no zone: UTC), to the second, or None when it
    is none."""
    parts = _parts(text)
    if parts is None:
        return None
    naive, _micro, offset = parts
    # Naive arithmetic: a date near year 1 or 9999 moved by its offset stays a number (no datetime overflow).
    return (naive - _EPOCH).total_seconds() - offset


def _microseconds(text: object) -> int | None:
    """Microseconds since the epoch of a date in one of the spec's forms, exact (integers: a float of seconds near
    the year 9999 is only good to about 30 microseconds), or None when it is none."""
    parts = _parts(text)
    if parts is None:
        return None
    naive, micro, offset = parts
    return (naive - _EPOCH) // timedelta(microseconds=1) + micro - offset * 1_000_000


def same_instant(shown: object, asked: object) -> bool | None:
    """Whether two dates (a server's and the one asked, in any of the spec's forms) name the same instant within
    `SAME_INSTANT_TOLERANCE_US`; None when either is no date (nothing is judged then)."""
    one, other = _microseconds(shown), _microseconds(asked)
    if one is None or other is None:
        return None
    return abs(one - other) <= SAME_INSTANT_TOLERANCE_US


def http_date(headers: Mapping[str, object] | None) -> float | None:
    """The instant of a reply's `Date` header (any case of the name; a list of values takes the first), or None."""
    if not headers:
        return None
    for name, value in headers.items():
        if name.lower() != "date":
            continue
        text = value[0] if isinstance(value, list | tuple) and value else value
        if not isinstance(text, str):
            return None
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    return None


def stamps_of(payout: object) -> list[float]:
    """The `created_at`/`updated_at` instants a payout shows (each at or before the server's now when written)."""
    if not isinstance(payout, Mapping):
        return []
    found = (instant(payout.get(name)) for name in PAST_STAMPS)
    return [value for value in found if value is not None]


def latest_now(readings: Iterable[float | None], local: float | None = None) -> float:
    """The latest of the server's readings and this machine's clock (`local`, now when None)."""
    latest = time.time() if local is None else local
    for reading in readings:
        if reading is not None and reading > latest:
            latest = reading
    return latest


def surely_future(scheduled_at: object, now: float) -> bool:
    """Whether `scheduled_at` lies more than `FUTURE_MARGIN` after `now` (False when it is no date)."""
    when = instant(scheduled_at)
    return when is not None and when > now + FUTURE_MARGIN
