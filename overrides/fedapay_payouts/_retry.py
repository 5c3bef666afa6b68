"""The retry policy: the one place that decides, per operation and failure, whether to try again.

A retry must never pay anyone twice. Each failure is first sorted by what the server may have done:

- **not sent**: the connection failed before a byte of the request left (connect refused, connect
  timeout, no free connection in the pool). Nothing can have happened on the server.
- **refused**: the server replied 408, 429 or 503: it declined the request without acting on it.
- **maybe acted**: the request was sent and no usable answer came back: a read or write timeout,
  the connection dropped or reset after sending, any other 5xx, a redirect (3xx) answering a call that
  changes state (create, start, send_now, schedule, update, delete, any non-GET of `call`), an exception
  that is neither httpx's nor ours once the request may have left, or a success reply that cannot be
  read or does not answer what was asked (`Call.read` raises `APIResponseValidationError`). The
  server may have done the work. A redirect and such an exception are never retried.
- **final**: any other 4xx (400, 401, 403, 404, 409, 422...), a redirect answering a read, or a request
  that could not be built or sent (an exception of a transport before anything left). Trying again
  would get the same answer.

Then, per operation:

| operation | not sent | refused | maybe acted | final | retries used up after "maybe acted" |
|---|---|---|---|---|---|
| create | retry | retry | retry, same `Idempotency-Key` | raise | `PayoutOutcomeUnknownError` (key, reference) |
| start, send_now, schedule | retry | retry | check: finish, resend or raise | raise (*) | `PayoutOutcomeUnknownError` |
| retrieve, list | retry | retry | retry | raise | the last error |
| update | retry | retry | retry (same values) | raise | `PayoutOutcomeUnknownError` (id) |
| delete | retry | retry | check: still there -> retry; gone -> raise | raise | `PayoutOutcomeUnknownError` (id) |

(*) a 422 after "maybe acted" first triggers the check described below.

Why each cell is safe:

- **create** carries one `Idempotency-Key` per logical call (generated uuid4, or the caller's),
  reused byte for byte on every retry: the server returns the first payout instead of storing a
  second. This assumes the server honours the key (the mock does; FedaPay's PHP library sends it,
  FedaPay does not document it). Creating a payout moves no money by itself; starting it does.
- **start** has no idempotency key. After a "maybe acted" failure the client retrieves every payout
  asked (safe reads) and judges what each shows against what the call asked and when it began
  (`_evidence.py`): all started or scheduled by this call -> success; some still `pending` and the
  rest already out of `pending` before the call -> the lost attempt did nothing (starts are all or
  nothing), so the same request goes again; anything else -> `PayoutOutcomeUnknownError` naming each
  payout and the state found, and nothing more is started. A check that finds nothing done does not
  clear the doubt (the lost request may still be on its way); a 422 that follows a "maybe acted"
  failure triggers the check again, and only a check made *after* that answer which finds a payout
  still pending makes the 422 the server's own verdict, raised as it is (`Call.recover` -> `CLEAN`).
- **retrieve / list** change nothing.
- **update** sets the same values again: doing it twice equals doing it once.
- **delete**: after a "maybe acted" failure the payout is looked up: still there -> the attempt did
  nothing, delete again; gone -> "this call deleted it" cannot be told from "it never existed", so
  the call raises `PayoutOutcomeUnknownError`.

When retries run out, or a failure is final, after an attempt that may have acted, a mutating call
raises `PayoutOutcomeUnknownError` (never a bare timeout) whose message says what may exist and how to
check. A failure where nothing can have happened raises the plain error, which says so
(`APIConnectionError.request_sent` is False).

Timing: retry n (n = 0, 1, ...) waits `min(max_delay, initial_delay * 2**n)`, less a random jitter of
up to 25 %. A `Retry-After` header (seconds or an HTTP date) is obeyed instead, when it is at most
`max_retry_after` (60 s); a longer one is not retried: the error carries `.retry_after`. Default:
2 retries (3 attempts), 0.5 s then 1 s.

Deadline (`_deadline.py`): the whole call, every attempt, wait and check included, ends by its
deadline (120 s by default, or the call's `deadline=`). No retry starts whose wait would leave less
than a moment for the attempt: the call then fails with its last error, as when retries run out.
The drivers cut each attempt's timeouts to what is left; an attempt stopped by the deadline fails as
a timeout saying so (`APITimeoutError`, or `PayoutOutcomeUnknownError` when it may have acted).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

import httpx

from ._config import MAX_RETRIES_LIMIT, MAX_WAIT, check_count, check_seconds
from ._deadline import current as current_deadline
from ._evidence import CallWindow
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    InvalidArgumentError,
    PayoutOutcomeUnknownError,
)
from ._redact import redact

__all__ = ["Call", "Outcome", "RetryPolicy", "Send", "Sleep", "Steps", "UnexpectedError", "run"]

logger: Final = logging.getLogger("fedapay_payouts")

R = TypeVar("R")



# The sans-IO contract, in the style of h11: an operation is a generator of events that a driver
# (`_client.py`, one per twin) performs, sending back what came of each. It does no I/O itself.
@dataclass(frozen=True, slots=True)
class Send:
    """Send this request; the driver sends back the response (body read within its limits) or the httpx error."""

    request: httpx.Request


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait this many seconds before going on (a back-off); the driver sends back None."""

    seconds: float


Event = Send | Sleep
Outcome = httpx.Response | httpx.RequestError | None
Steps = Generator[Event, Outcome, R]

NOT_SENT: Final = "not sent"
REFUSED: Final = "refused"
MAYBE_ACTED: Final = "maybe acted"
FINAL: Final = "final"

class UnexpectedError(httpx.TransportError):
    """An exception that is neither httpx's nor ours, raised while an attempt was sent (a transport's bug, an
    event loop gone, a hook of your client): the driver hands it on as this, so the call still ends typed.
    `sent`: whether the request may have reached the server (`_deadline.Attempt.may_have_left`). Never
    retried: the same cause would most likely raise again."""

    def __init__(self, message: str, *, request: httpx.Request, sent: bool) -> None:
        super().__init__(message, request=request)
        self.sent = sent


REFUSED_STATUSES: Final = frozenset({408, 429, 503})
NOT_SENT_ERRORS: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
FINAL_ERRORS: Final = (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.ProxyError, httpx.TooManyRedirects)


class RetryPolicy:
    """How many times and how long to wait. Which failures to retry is fixed: see the module docstring.

    Every value is checked when set (`InvalidArgumentError` naming it), here rather than in the middle
    of a call: `max_retries` a whole number from 0 to 100, each delay a finite number of seconds from
    0 to 3600. A bad one would otherwise surface after a create got a 500 (`TypeError`), or crash the
    sync client and hang the async one (`initial_delay=inf`).
    """

    __slots__ = ("initial_delay", "max_delay", "max_retries", "max_retry_after")

    max_retries: int
    initial_delay: float
    max_delay: float
    max_retry_after: float

    def __init__(
        self,
        max_retries: int = 2,
        *,
        initial_delay: float = 0.5,
        max_delay: float = 8.0,
        max_retry_after: float = 60.0,
    ) -> None:
        self.max_retries = max_retries
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self.max_retry_after = max_retry_after

    def __setattr__(self, name: str, value: object) -> None:
        if name == "max_retries":
            value = check_count(value, name, maximum=MAX_RETRIES_LIMIT)
        elif name in ("initial_delay", "max_delay", "max_retry_after"):
            value = check_seconds(value, name, maximum=MAX_WAIT, allow_zero=True)
        object.__setattr__(self, name, value)

    def delay(self, retry_number: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retry `retry_number` (from 0); None when the server asks for too long."""
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        import random  # only on the retry path: keeps `import fedapay_payouts` light

        base = min(self.max_delay, self.initial_delay * 2.0 ** min(retry_number, 64))  # no float overflow
        return base * (1.0 - 0.25 * random.random())  # noqa: S311 - jitter, not cryptography

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(max_retries={self.max_retries}, initial_delay={self.initial_delay}, "
            f"max_delay={self.max_delay}, max_retry_after={self.max_retry_after})"
        )


class NotDone:
    """Returned by `Call.recover` / `Call.recheck` when the call must go on as usual."""

    __slots__ = ()


class Clean(NotDone):
    """Returned by `Call.recover` when a check made after the server's answer shows that no earlier
    attempt acted: that answer is the server's own verdict on this call, raised as it is."""

    __slots__ = ()


NOT_DONE: Final = NotDone()
CLEAN: Final = Clean()


class Call(Generic[R]):
    """One logical call: what to send, how to read success, and what an ambiguous failure means."""

    operation: str = ""
    mutating: bool = False
    # False for an operation no table row proves safe to resend (`_operations.RETRY_CLASS`): after an
    # attempt that may have acted it is not sent again (PayoutOutcomeUnknownError instead).
    retry_maybe_acted: bool = True

    def __init__(self, request: httpx.Request) -> None:
        self.request = request
        self.window = CallWindow()

    def read(self, response: httpx.Response) -> R:
        raise NotImplementedError

    def sending(self) -> None:
        """An attempt is about to go out: what a check found before it stops being the current state."""

    def stale_after(self, seconds: float) -> str | None:
        """Why the request must not be sent again `seconds` from now (a scheduled time it carries would have
        passed), or None: it may."""
        return None

    def recover(self, response: httpx.Response) -> Steps[R | NotDone]:
        """An error reply after an attempt that may have acted: may it mean success?"""
        return NOT_DONE
        yield  # a generator that sends nothing

    def recheck(self) -> Steps[R | NotDone]:
        """Before retrying after an attempt that may have acted: check the server, finish or adjust the request."""
        return NOT_DONE
        yield

    def outcome_unknown(self, cause: APIError) -> PayoutOutcomeUnknownError:
        return PayoutOutcomeUnknownError(
            f"{self.operation} may have taken effect on the server but no reply confirmed it ({cause.message})",
            request=self.request,
            operation=self.operation,
        )


def classify(outcome: Outcome, mutating: bool = False) -> str:
    """What the server may have done (the module's kinds). A redirect (3xx) answering a call that changes
    state may follow the work done ("303 See Other: the result is there"): maybe acted, for such a call."""
    if isinstance(outcome, httpx.Response):
        status = outcome.status_code
        if status in REFUSED_STATUSES:
            return REFUSED
        return MAYBE_ACTED if status >= 500 or (mutating and 300 <= status < 400) else FINAL
    if isinstance(outcome, UnexpectedError):
        return MAYBE_ACTED if outcome.sent else FINAL
    if isinstance(outcome, NOT_SENT_ERRORS):
        return NOT_SENT
    if isinstance(outcome, FINAL_ERRORS):
        return FINAL
    return MAYBE_ACTED


def connection_error(
    exc: httpx.RequestError, request: httpx.Request, kind: str, earlier_maybe_acted: bool = False
) -> APIConnectionError:
    """The error of one attempt that failed on the connection; `earlier_maybe_acted`: an earlier attempt of the
    same call may have reached the server, so this one not leaving says nothing about the call."""
    sent = kind == MAYBE_ACTED
    if sent:
        what = "the server may have received the request: check before acting again"
    elif earlier_maybe_acted:
        what = "this attempt was not sent, but an earlier one may have reached the server"
    else:
        what = "the request was not sent: nothing happened on the server"
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    detail = redact(_text_of(exc)[:4096], request)  # h11 quotes a malformed status or header line: it may echo the key
    if len(detail) > 300:
        detail = detail[:297] + "..."
    return cls(f"{type(exc).__name__} on {request.method} {request.url.path} ({detail}); {what}", request=request,
               request_sent=sent)


def _text_of(exc: BaseException) -> str:
    """What an error says, never nothing: anyio's timeouts and TLS failures carry no text (the async twin showed
    `()` where the sync one said "timed out"), so their cause's text, or what they are."""
    if isinstance(exc, httpx.TimeoutException) and not str(exc):
        return "timed out"  # its cause is anyio's cancel scope, whose text says nothing to a caller
    seen: BaseException | None = exc
    for _ in range(4):  # the error, then its cause or context, a few levels down
        if seen is None:
            break
        if str(seen):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return "the connection ended without a reason given"


# Set on a request's extensions once an attempt hands it to the transport (`_client`'s `_send`): from then on
# the server may have received it.
HANDED: Final = "fedapay_payouts.handed"


def interrupted_note(request: httpx.Request) -> str:
    """What a cancelled (or Ctrl-C'd) call says when its request that changes state may have reached the server:
    the exception stays the caller's own (`CancelledError`, `TimeoutError` of `asyncio.timeout`,
    `KeyboardInterrupt`), with this note on it, never a silent loss of the outcome."""
    key = request.headers.get("idempotency-key")
    check = (
        f"call create again with idempotency_key={key!r}: it returns the payout if one was created, instead of "
        "creating another"
        if key is not None
        else "check the payouts it names with client.payouts.retrieve(id) before sending it again"
    )
    return (
        f"fedapay_payouts: {request.method} {request.url.path} was interrupted after its request was sent: FedaPay "
        f"may have acted on it. To know, {check}. (A call's deadline= ends in PayoutOutcomeUnknownError instead.)"
    )


def run(call: Call[R], policy: RetryPolicy) -> Steps[R]:
    """Send `call.request` until it succeeds, is final, or the policy gives up (see the module docstring).

    A success reply that cannot be read, or that does not answer what was asked (`Call.read` raises
    `APIResponseValidationError`), counts as "maybe acted": the server said yes to something.
    """
    request = call.request
    retries = 0
    ambiguous = False  # an earlier attempt of this call may have acted on the server
    call.window.began = time.time()  # what the server shows from before this moment is not this call's doing
    deadline = current_deadline()  # set by the driver; None when the steps are driven by hand
    while True:
        logged = logger.isEnabledFor(logging.INFO)
        started = time.perf_counter() if logged else 0.0
        call.sending()
        outcome = yield Send(request)
        if logged:
            _log_attempt(request, outcome, started, retries)
        unreadable: APIResponseValidationError | None = None
        if type(outcome) is httpx.Response and outcome.status_code < 300:
            try:
                return call.read(outcome)
            except APIResponseValidationError as exc:
                # Kept without the frames below this one: they hold the reply as parsed (the payout, `data`),
                # and a traceback printed with its locals (error trackers, `rich`) would show what the server
                # sent, the key included when a hostile server echoes it. The message says what is wrong.
                unreadable = exc.with_traceback(None)
        if ambiguous and unreadable is None and isinstance(outcome, httpx.Response):
            settled = yield from call.recover(outcome)
            if isinstance(settled, Clean):
                ambiguous = False
            elif not isinstance(settled, NotDone):
                return settled
        kind = MAYBE_ACTED if unreadable is not None else classify(outcome, call.mutating)
        retry_after = _retry_after(outcome) if isinstance(outcome, httpx.Response) else None
        retryable = (
            kind != FINAL and (kind != MAYBE_ACTED or call.retry_maybe_acted) and type(outcome) is not UnexpectedError
            and not (type(outcome) is httpx.Response and 300 <= outcome.status_code < 400)  # never followed
        )
        delay = policy.delay(retries, retry_after) if retryable and retries < policy.max_retries else None
        stale = None if delay is None else call.stale_after(delay)
        if stale is not None:  # sent after the wait, it would ask for another time than the caller did
            logger.info("not retrying %s %s: %s", request.method, request.url.path, stale)
            delay = None
        if delay is not None and deadline is not None and not deadline.leaves(delay):
            if logger.isEnabledFor(logging.INFO):
                logger.info(
                    "not retrying %s %s: %.2f s left of the call's %g s deadline, %.2f s wait: %s",
                    request.method, request.url.path, max(deadline.remaining(), 0.0), deadline.seconds, delay,
                    _describe(outcome, kind),
                )
            delay = None
        error = unreadable if unreadable is not None else _error(outcome, request, kind, ambiguous)
        if delay is not None and logger.isEnabledFor(logging.INFO):
            logger.info(
                "retrying %s %s in %.2f s (retry %d of %d): %s",
                request.method, request.url.path, delay, retries + 1, policy.max_retries,
                "unreadable success reply (maybe acted)" if unreadable is not None else _describe(outcome, kind),
            )
        # Not kept in this frame past this point (`error` says what it was): a transport error may quote what a
        # server sent (the key echoed in a malformed status line), and a traceback printed with its locals
        # (error trackers, `rich`) shows every frame's, this one's too while a check or a sleep raises.
        del outcome
        if delay is None:
            if stale is not None:
                error.add_note(f"fedapay_payouts: not sent again: {stale}; schedule it again for a later time")
            if call.mutating and (ambiguous or kind == MAYBE_ACTED):
                raise call.outcome_unknown(error) from error
            raise error
        ambiguous = ambiguous or kind == MAYBE_ACTED
        if delay > 0:
            try:
                yield Sleep(delay)
            except InvalidArgumentError as bad_sleep:  # the driver's `sleep=` did not wait (`_client.py`)
                if call.mutating and ambiguous:
                    raise call.outcome_unknown(error) from bad_sleep
                raise
        retries += 1
        if kind == MAYBE_ACTED:
            # A check that finds nothing done does not clear the doubt: the lost request may still be
            # on its way through the server. Only the server's answer to a later attempt can (`recover`).
            settled = yield from call.recheck()
            if not isinstance(settled, NotDone):
                return settled
            request = call.request  # the check may have replaced it


def _retry_after(response: httpx.Response) -> float | None:
    from ._wire import retry_after

    return retry_after(response)


def _error(outcome: Outcome, request: httpx.Request, kind: str, earlier_maybe_acted: bool = False) -> APIError:
    if isinstance(outcome, httpx.Response):
        from ._wire import status_error

        return status_error(outcome)
    assert isinstance(outcome, httpx.RequestError)
    return connection_error(outcome, request, kind, earlier_maybe_acted)


def _describe(outcome: Outcome, kind: str) -> str:
    if isinstance(outcome, httpx.Response):
        return f"status {outcome.status_code} ({kind})"
    return f"{type(outcome).__name__} ({kind})"


# Request headers whose values the DEBUG log shows; the others only by name (a custom one may hold a credential).
_SHOWN_HEADERS: Final = frozenset({"idempotency-key", "fedapay-account", "content-type", "user-agent"})


def _log_attempt(request: httpx.Request, outcome: Outcome, started: float, retries: int) -> None:
    """One INFO line per attempt (what `FEDAPAY_LOG=info` shows), and its details at DEBUG. Never a body."""
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    if isinstance(outcome, httpx.Response):
        from ._wire import request_id

        logger.info(
            "%s %s -> %d in %.1f ms (attempt %d, request id %s)",
            request.method, request.url.path, outcome.status_code, elapsed_ms, retries + 1,
            request_id(outcome) or "-",
        )
    else:
        logger.info(
            "%s %s -> %s in %.1f ms (attempt %d)",
            request.method, request.url.path, type(outcome).__name__, elapsed_ms, retries + 1,
        )
    if not logger.isEnabledFor(logging.DEBUG):
        return
    sent = ", ".join(
        f"{name}: {value}" if name in _SHOWN_HEADERS else name
        for name, value in request.headers.multi_items()
    )
    if isinstance(outcome, httpx.Response):
        got = ", ".join(f"{name}: {value}" for name, value in outcome.headers.multi_items())
        reply = f"reply headers {{{got}}}, {len(outcome.content)} body bytes"
    else:
        detail = redact(str(outcome)[:4096], request)[:300]  # h11 quotes malformed lines: they may echo the key
        reply = f"no reply: {type(outcome).__name__}({detail})"
    logger.debug(
        "attempt %d of %s %s: query %s, request headers {%s}, %d body bytes; %s",
        retries + 1, request.method, request.url.path, dict(request.url.params) or "{}", sent,
        len(request.content), reply,
    )
