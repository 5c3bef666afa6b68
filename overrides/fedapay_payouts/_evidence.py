"""After an ambiguous failure: did *this call* produce the state the server now shows?

A start whose reply was lost (a dropped connection, a 502, an unreadable reply) leaves the client
not knowing whether the server acted. The client then retrieves each payout (safe reads) and judges
what it finds against what the call asked, with the payouts' own timestamps against the moment the
call began:

- PENDING: found `pending`; the lost attempt did not start it.
- OURS: asked to send now and found started / processing / sent / failed with `started_at` inside
  the call's window; or asked to schedule and found `scheduled` at the time asked, `updated_at`
  inside the window.
- BEFORE: the same states dated before the call began: it had left `pending` already, and the
  fault-free call would have been refused (422).
- UNCLEAR: everything else: scheduled at another time, started when a schedule was asked (or the
  reverse), an unknown status (`"PENDING"`, `null`), a missing timestamp, a timestamp after the
  check, a server `Date` header far from this machine's clock.

The call's window runs from its first attempt (this machine's clock) to the moment the check's reply
came back. A timestamp within `CLOCK_TOLERANCE` of the call's start is UNCLEAR: milliseconds cannot
order two events that close. A server clock that
disagrees with this machine's by more than `MAX_CLOCK_SKEW` (per its `Date` header) makes every
verdict but PENDING unclear: comparisons across clocks prove nothing then.

What the caller gets (see `_payouts.StartCall`): every payout OURS -> success; every payout
PENDING, or some PENDING and the rest BEFORE -> the lost attempt did nothing (FedaPay starts a
request all or nothing), so the original request is sent again and the server's own answer stands;
anything else -> `PayoutOutcomeUnknownError` naming each payout and the state found. The residual
risks, documented (README): another caller starting the same payout inside this call's window, while this
call's reply is lost, reads as OURS (timestamps cannot tell two starters apart; FedaPay still starts it
once); and when the server's clock runs ahead of this machine's by more than the tolerance (up to
`MAX_CLOCK_SKEW`, as far as the `Date` header can tell), such a start that much before this call reads as
OURS too.
"""

from __future__ import annotations

import datetime
import email.utils
import enum
import time
from typing import TYPE_CHECKING, Final

from ._when import parse_schedule

if TYPE_CHECKING:
    import httpx
    from fedapay_payouts_api.models.payout import Payout

__all__ = ["KNOWN_STATUSES", "CallWindow", "Finding", "Verdict", "judge_start"]

KNOWN_STATUSES: Final = frozenset({"pending", "scheduled", "started", "processing", "sent", "failed"})
SENT_ON: Final = frozenset({"started", "processing", "sent", "failed"})  # a start (send now) was applied
# Seconds on each side of the call's start where a timestamp proves nothing: FedaPay timestamps carry
# milliseconds (rounded or truncated), so a start just before this call and this call's own start can
# carry the same value. On loopback a start lands within this window almost always (the mock acts
# about 0.3 ms after the call begins): such a call says "cannot tell" rather than guess.
CLOCK_TOLERANCE: Final = 0.001
MAX_CLOCK_SKEW: Final = 2.0  # seconds between the server's Date header and this machine (Date has 1 s resolution)


class Verdict(enum.Enum):
    PENDING = "pending"
    OURS = "done by this call"
    BEFORE = "already so before this call"
    UNCLEAR = "cannot tell"


class Finding:
    """One payout's state as the check found it, and what that says about this call."""

    __slots__ = ("detail", "payout", "payout_id", "verdict")

    def __init__(self, payout_id: int, verdict: Verdict, detail: str, payout: Payout | None = None) -> None:
        self.payout_id = payout_id
        self.verdict = verdict
        self.detail = detail
        self.payout = payout

    def __repr__(self) -> str:
        return f"Finding({self.payout_id}, {self.verdict.name}, {self.detail!r})"


class CallWindow:
    """When the call began (this machine's wall clock), and whether the server's clock can be compared."""

    __slots__ = ("began", "comparable")

    def __init__(self) -> None:
        self.began = time.time()  # moved to the first attempt's send by `_retry.run`
        self.comparable = True

    def note_server_date(self, response: httpx.Response) -> None:
        """A `Date` header far from our clock means timestamps cannot be compared with the call's window."""
        value = response.headers.get("date")
        if not value:
            return
        try:
            server_now = email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        if abs(server_now - time.time()) > MAX_CLOCK_SKEW:
            self.comparable = False


def _instant(value: object) -> float | None:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return None  # a naive timestamp names no instant
        try:
            return value.timestamp()
        except (OverflowError, ValueError, OSError):
            return None
    return None


def judge_start(payout: Payout, asked_at: str | None, window: CallWindow, checked_at: float) -> Finding:
    """Judge one payout of a start that may or may not have been applied (see the module docstring).

    `asked_at` is the `scheduled_at` this call sent for it (None: send now); `checked_at` is when the
    check's reply arrived.
    """
    pid = payout.id
    status = payout.status
    if status == "pending":
        return Finding(pid, Verdict.PENDING, "pending", payout)
    if not isinstance(status, str) or status not in KNOWN_STATUSES:
        return Finding(pid, Verdict.UNCLEAR, f"status {status!r}, not one FedaPay documents", payout)
    if not window.comparable:
        return Finding(pid, Verdict.UNCLEAR, f"{status}; the server's clock disagrees with this machine's", payout)
    low, high = window.began - CLOCK_TOLERANCE, checked_at + CLOCK_TOLERANCE

    if asked_at is None or status in SENT_ON:
        if status not in SENT_ON:
            when = _instant(payout.updated_at)
            if when is not None and when < low:
                return Finding(pid, Verdict.BEFORE, f"{status} since {_iso(when)}, before this call", payout)
            return Finding(pid, Verdict.UNCLEAR, f"{status}, not started as this call asked", payout)
        started = _instant(payout.started_at)
        if started is None:
            return Finding(pid, Verdict.UNCLEAR, f"{status}, with no started_at to date it", payout)
        if started < low:
            return Finding(pid, Verdict.BEFORE, f"{status}, started at {_iso(started)}, before this call", payout)
        if started <= window.began + CLOCK_TOLERANCE:
            return Finding(pid, Verdict.UNCLEAR, f"{status}, started at {_iso(started)}, as this call began", payout)
        if started > high:
            return Finding(pid, Verdict.UNCLEAR, f"{status}, started at {_iso(started)}, after the check", payout)
        # A schedule was asked and a start found: only a due schedule could have done that.
        if asked_at is not None and not as_asked(payout.started_at, asked_at):
            return Finding(pid, Verdict.UNCLEAR, f"{status} at {_iso(started)}, not scheduled as asked", payout)
        return Finding(pid, Verdict.OURS, f"{status} at {_iso(started)}", payout)

    # A schedule was asked, and the payout is `scheduled`.
    found_at = _instant(payout.scheduled_at)
    updated = _instant(payout.updated_at)
    if found_at is None or not as_asked(payout.scheduled_at, asked_at):
        shown = "no date" if found_at is None else _iso(found_at)
        if updated is not None and updated < low:
            return Finding(pid, Verdict.BEFORE, f"scheduled at {shown} since {_iso(updated)}, before this call",
                           payout)
        return Finding(pid, Verdict.UNCLEAR, f"scheduled at {shown}, not at {asked_at} as asked", payout)
    if updated is None:
        return Finding(pid, Verdict.UNCLEAR, "scheduled as asked, with no updated_at to date it", payout)
    if updated < low:
        return Finding(pid, Verdict.BEFORE, f"scheduled as asked since {_iso(updated)}, before this call", payout)
    if updated <= window.began + CLOCK_TOLERANCE:
        return Finding(pid, Verdict.UNCLEAR, f"scheduled as asked at {_iso(updated)}, as this call began", payout)
    if updated > high:
        return Finding(pid, Verdict.UNCLEAR, f"scheduled as asked, updated at {_iso(updated)}, after the check",
                       payout)
    return Finding(pid, Verdict.OURS, f"scheduled at {_iso(found_at)}", payout)


_TOLERANCE: Final = datetime.timedelta(seconds=CLOCK_TOLERANCE)


def as_asked(found: object, asked: str) -> bool:
    """Whether a reply's date (parsed: an aware datetime) is the instant the `scheduled_at` this call sent names,
    within `CLOCK_TOLERANCE`. Compared as datetimes, exact to the microsecond: near the year 9999 a float of
    seconds is only good to about 30 µs, enough to push 999 µs past the millisecond."""
    if not isinstance(found, datetime.datetime) or found.tzinfo is None:
        return False
    try:
        return abs(found - parse_schedule(asked)) <= _TOLERANCE
    except (ValueError, OverflowError):
        return False


def _parse_asked(value: str) -> float | None:
    """The instant a `scheduled_at` this call sent names (any of the spec's forms, as `_when` reads them)."""
    try:
        return _instant(parse_schedule(value))
    except ValueError:
        return None


def _iso(seconds: float) -> str:
    """An instant in UTC; one outside datetime's years (a server's 0001-01-01 with a +23:59 offset is year 0 in
    UTC) as seconds since 1970, never a ValueError out of a check that must end in a typed error."""
    try:
        return datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat(timespec="milliseconds")
    except (OverflowError, ValueError, OSError):
        return f"{seconds:.3f} s after 1970-01-01T00:00:00Z"


def start_reply_problem(payout: Payout, asked_at: str | None) -> str | None:
    """Why a start reply's payout is not what a start produces, or None when it is.

    Asked to send now: started, processing, sent or failed. Asked to schedule: scheduled at the time
    asked (or already started, should that time have come on this machine's clock). Anything else, an unknown status
    included, is no proof that this start was applied.
    """
    status = payout.status
    if status in SENT_ON:
        if asked_at is None:
            return None
        # A schedule was asked: only a time already come could have sent it now.
        due = _parse_asked(asked_at)
        if due is not None and due <= time.time() + CLOCK_TOLERANCE:
            return None
        return f"{status}, not scheduled for {asked_at} as asked"
    if asked_at is not None and status == "scheduled":
        if as_asked(payout.scheduled_at, asked_at):
            return None
        return f"scheduled at {payout.scheduled_at!r}, not at {asked_at} as asked"
    return f"in status {status!r}, which a start does not produce"
