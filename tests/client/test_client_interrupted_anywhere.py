"""A sync call interrupted at any step (Ctrl-C, or a signal handler's exception: an alarm's `TimeoutError`,
Celery's `SoftTimeLimitExceeded`) never leaves the client hung or its place wedged (fifteenth review).

- The places were counted by a `threading.Semaphore`, which takes its own lock in Python code: an interrupt
  landing there left that lock held, and every later call blocked for ever, `deadline=` or not.
- Raised during the back-off sleep of a client without `sleep=`, it came out as "sleep: raised ..." (an
  `InvalidArgumentError` about an argument the caller never gave) instead of going on as it is.

Each interrupt is raised from a trace function at one line of the code under test, every line in turn: the
same steps on every run, unlike a timer.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import httpx
import pytest
from fedapay_payouts import APIError, FedaPay

from tests.client.client_support import API_KEY
from tests.client.keepalive_server import KeepAliveServer


class Interrupt(BaseException):
    """As a Ctrl-C would be (a BaseException)."""


class JobTimeLimit(Exception):
    """As a signal handler's `TimeoutError` or Celery's soft time limit would be (an Exception)."""


def _raise_at_line(number: int, where: Callable[[FrameType], bool], error: type[BaseException],
                   call: Callable[[], object]) -> int:
    """Run `call`, raising `error` at the `number`-th line run in frames `where` selects (0: never); the count."""
    seen = 0

    def local(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal seen
        if event == "line":
            seen += 1
            if seen == number:
                raise error("interrupted")
        return local

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        return local if where(frame) else None

    sys.settrace(tracer)
    try:
        call()
    except (Interrupt, JobTimeLimit, APIError):
        pass
    finally:
        sys.settrace(None)
    return seen


def _next_call_ends(client: FedaPay) -> str:
    """What the next call does, run in a thread so that a hang shows as one (bounded wait)."""
    outcome: list[str] = []

    def call() -> None:
        try:
            outcome.append(f"payout {client.payouts.retrieve(5, deadline=3.0).id}")
        except APIError as exc:
            outcome.append(type(exc).__name__)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(15)
    return outcome[0] if outcome else "still blocked after 15 s"


def _in_places(frame: FrameType) -> bool:
    """The places' bookkeeping: `_slots.py`, and the `threading` code it calls (only that: an interrupt inside
    other threading code of this thread would leave half-made locks behind for later tests)."""
    places = "fedapay_payouts/_slots.py"
    if frame.f_code.co_filename.endswith(places):
        return True
    caller: FrameType | None = frame
    for _ in range(4):
        if caller is None or not caller.f_code.co_filename.endswith("/threading.py"):
            return False
        caller = caller.f_back
        if caller is not None and caller.f_code.co_filename.endswith(places):
            return True
    return False


def _client(server: KeepAliveServer) -> FedaPay:
    return FedaPay(API_KEY, base_url=server.base_url, max_in_flight=1, max_retries=0,
                   timeout=httpx.Timeout(5, pool=0.3))


def test_an_interrupt_at_any_step_of_taking_or_giving_a_place_never_hangs_the_next_call() -> None:
    server = KeepAliveServer()
    try:
        with _client(server) as client:
            lines = _raise_at_line(0, _in_places, Interrupt, lambda: client.payouts.retrieve(5))
        assert lines > 0
        hung = []
        for number in range(1, lines + 1):
            with _client(server) as client:
                _raise_at_line(number, _in_places, Interrupt, lambda c=client: c.payouts.retrieve(5))  # type: ignore[misc]
                outcome = _next_call_ends(client)
                if outcome.startswith("still blocked"):
                    hung.append(number)
        assert hung == [], f"the next call hung after an interrupt at these of {lines} lines: {hung}"
    finally:
        server.close()


def test_a_signal_handlers_exception_during_the_back_off_goes_on_as_it_is() -> None:
    """No `sleep=`: `time.sleep` is the client's own, and what interrupts it is no fault of an argument."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are delivered to the main thread only")
    from tests.client.hostile_server import HostileServer, payout, reply

    server = HostileServer()
    server.script(reply(503, {"message": "busy"}, headers={"Retry-After": "2"}), reply(200, {"v1/payout": payout(5)}))

    def time_limit(signum: int, frame: object) -> None:
        raise JobTimeLimit("the job's soft time limit")

    previous = signal.signal(signal.SIGALRM, time_limit)
    try:
        with FedaPay(API_KEY, base_url=server.base_url, max_retries=1) as client:
            signal.setitimer(signal.ITIMER_REAL, 0.5)  # inside the 2 s back-off
            with pytest.raises(JobTimeLimit):
                client.payouts.retrieve(5)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        server.close()
    assert len(server.received) == 1  # interrupted in the wait, before the retry
