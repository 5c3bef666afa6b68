"""The per-call deadline: one bound on a whole call, its attempts, back-off waits and checks included.

How it relates to `timeout=`:

- `timeout=` (seconds or an `httpx.Timeout`) applies to **each attempt**: waiting for a free
  connection, connecting, each write and each read of the socket. Its `read` value also bounds the
  whole reading of one reply, from the request sent to the last byte of the body, so a server that
  drips one byte at a time cannot hold one attempt longer than that.
- `deadline=` (seconds; the client's, 120 s by default, or the call's own) bounds **the whole call**:
  every attempt, the waits between them and the checks a start makes after an ambiguous failure.
  Each attempt's timeouts are cut to what is left of it, and no retry starts (no back-off wait
  begins) that would end past it.

When the deadline passes the call raises `APITimeoutError` ("the call's deadline of N s passed"), or
`PayoutOutcomeUnknownError` for a create, start, update or delete that may have acted on the server,
as for any other failure after which the server may have acted.

Enforcement lives in the drivers (`_client.py`) and in `_retry.run` (no wait past the deadline). The
async driver runs each attempt inside `asyncio.timeout`. The sync driver cuts every socket read,
write and connect of its own connection pool to what is left (`_socket_deadline.install`), and
checks between the chunks of a body; with an `http_client` of your own it cuts each phase's timeouts
and checks between chunks, but a server dripping its status line and headers is then bounded only by
your client's transport.
"""

from __future__ import annotations

import contextvars
import math
import time
from typing import TYPE_CHECKING, Any, Final

import httpx

from ._exceptions import InvalidArgumentError

if TYPE_CHECKING:
    import asyncio

__all__ = ["DEFAULT_DEADLINE", "Attempt", "Deadline", "check_deadline", "current"]

SYNC_TRACE, ASYNC_TRACE, NO_TRACE = "sync", "async", None

DEFAULT_DEADLINE: Final = 120.0
MAX_DEADLINE: Final = 86_400.0  # a day: a longer bound is a mistake (inf, a timestamp, milliseconds)
MIN_ATTEMPT: Final = 0.05  # a retry that would have less than this left is not started
SLACK: Final = 0.01  # a timeout this close to the deadline is the deadline's doing

WAITING, SENDING, READING = 0, 1, 2  # the phases of one attempt (from httpcore's trace, or our sockets)

_CURRENT: Final[contextvars.ContextVar[Deadline | None]] = contextvars.ContextVar(
    "fedapay_payouts_deadline", default=None
)
_ORIGINAL_TIMEOUT: Final = "fedapay_payouts.timeout"  # request extension: the timeouts before clipping


def check_deadline(value: object, argument: str = "deadline") -> float:
    """A positive, finite number of seconds (at most a day), or InvalidArgumentError naming `argument`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentError(argument, f"must be a number of seconds, got {type(value).__name__}")
    seconds = float(value)
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_DEADLINE):
        raise InvalidArgumentError(argument, f"must be more than 0 and at most {MAX_DEADLINE:g} seconds, got {value!r}")
    return seconds


def current() -> Deadline | None:
    """The deadline of the call being driven in this thread or task (None outside a driver)."""
    return _CURRENT.get()


class Deadline:
    """The end of one call, on the monotonic clock; set as the current one while its driver runs."""

    __slots__ = ("at", "attempt", "seconds", "token")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.attempt: Attempt | None = None
        self.token: contextvars.Token[Deadline | None] | None = None

    def __enter__(self) -> Deadline:
        self.token = _CURRENT.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.token is not None:
            _CURRENT.reset(self.token)

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def leaves(self, delay: float) -> bool:
        """Whether a retry after waiting `delay` seconds would still have time for an attempt."""
        return self.remaining() - delay >= MIN_ATTEMPT

    def describe(self) -> str:
        return f"the call's deadline of {self.seconds:g} s passed"


class Attempt:
    """One request sent under a deadline: clipped timeouts, its phase, and until when it may read."""

    __slots__ = (
        "deadline", "handed", "phase", "phased", "read", "read_until", "request", "timeouts", "tunnelling", "watch",
    )

    def __init__(self, deadline: Deadline, request: httpx.Request, trace: str | None, phased: bool = True) -> None:
        self.deadline = deadline
        # Whether the transport reports when the request starts to leave (httpcore's trace, our sockets); a
        # transport that does not (httpx.MockTransport, an ASGI app, your own) may have acted once `handed`.
        self.phased = phased
        self.handed = False
        self.request = request
        extensions = request.extensions
        original: dict[str, float | None] = extensions.setdefault(_ORIGINAL_TIMEOUT, dict(extensions["timeout"]))
        left = max(deadline.remaining(), 0.0)
        self.timeouts = {name: left if value is None else min(value, left) for name, value in original.items()}
        self.read = original.get("read")
        self.read_until = deadline.at
        self.phase = WAITING
        # A proxy's tunnel (HTTPS_PROXY: `CONNECT host:443`) is being opened: its request and reply are not this
        # attempt's, which has not left while they go (a proxy refusing the tunnel sent nothing to FedaPay).
        self.tunnelling = False
        # The async driver's `asyncio.Timeout` for this attempt, moved to `read_until` when reading starts.
        self.watch: asyncio.Timeout | None = None
        extensions["timeout"] = self.timeouts
        # Our own sync pool reports the phases from its sockets (`_socket_deadline.py`): no trace needed,
        # which saves httpcore's trace bookkeeping on every call.
        if trace is not None:
            extensions["trace"] = self._atrace if trace == ASYNC_TRACE else self._trace
        deadline.attempt = self

    def sending(self) -> None:
        self.phase = SENDING

    def reading(self) -> None:
        """The request has left: from now on the reply must come whole within the read timeout."""
        self.phase = READING
        if self.read is not None:
            now = time.monotonic()
            # The read timeout itself when the deadline is further (not `now + read - now`, which float
            # rounding turns into 7.500000000001819 for 7.5 once the clock is large).
            left = min(self.read, max(self.deadline.at - now, 0.0))
            self.read_until = min(self.deadline.at, now + self.read)
            self.timeouts["read"] = left  # httpcore reads it once per phase
            if self.watch is not None:
                import asyncio  # already loaded: the async driver set `watch`

                self.watch.reschedule(asyncio.get_running_loop().time() + left)

    def _trace(self, name: str, info: dict[str, Any]) -> None:
        """httpcore's trace: note when the request starts to leave, and when reading the reply starts."""
        if name.endswith(".send_request_headers.started"):
            if getattr(info.get("request"), "method", None) == b"CONNECT":
                self.tunnelling = True
            else:
                self.sending()
        elif name.endswith(".send_request_body.complete"):
            if self.tunnelling:
                self.tunnelling = False
            else:
                self.reading()

    async def _atrace(self, name: str, info: dict[str, Any]) -> None:
        self._trace(name, info)

    def may_have_left(self) -> bool:
        """Whether a byte of the request may have reached the server: a phase past waiting, or a transport
        that was handed the request and does not say how far it got."""
        return self.phase != WAITING or (self.handed and not self.phased)

    def failed(self, exc: httpx.RequestError) -> httpx.RequestError:
        """The error of a failed attempt, as far as the request got: a connection lost before any byte of it
        left (a proxy closing instead of opening its tunnel) is a `ConnectError`, which says it was not sent."""
        if self.may_have_left() or not isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError):
            return exc
        if isinstance(exc, httpx.ConnectError):
            return exc
        return httpx.ConnectError(f"{exc} (before the request was sent)", request=self.request)

    def limit(self, reading: bool) -> float:
        """The monotonic time a socket operation must end by."""
        return self.read_until if reading else self.deadline.at

    def check(self) -> None:
        """Between two chunks of a body: raise ReadTimeout once the reply has taken too long."""
        if time.monotonic() >= self.read_until:
            raise self.timed_out(None)

    def timed_out(self, exc: httpx.TimeoutException | None) -> httpx.TimeoutException:
        """The timeout error for this attempt, saying when the deadline or the reading window caused it."""
        left = self.may_have_left()
        if exc is None or not left:  # not left: a read or write timed out opening a proxy's tunnel, before the request
            phase = SENDING if self.phase == WAITING and left else self.phase
            cls: type[httpx.TimeoutException] = (
                httpx.ConnectTimeout if phase == WAITING else httpx.WriteTimeout if phase == SENDING
                else httpx.ReadTimeout
            )
        else:
            cls = type(exc)
        now = time.monotonic()
        if now >= self.deadline.at - SLACK:
            message = self.deadline.describe()
        elif self.phase == READING and self.read is not None and now >= self.read_until - SLACK:
            message = f"no complete reply within the read timeout of {self.read:g} s"
        elif exc is not None:
            if cls is type(exc):
                return exc
            message = str(exc)
        else:
            message = "timed out"
        return cls(message, request=self.request)

