"""A wall-clock cap on every request the suite sends, so a server that drips its reply cannot hold a run.

requests' and urllib3's timeouts (the config's `request-timeout`) bound each wait for bytes, not a request:
a server sending one byte every 2 s answers every read in time and never finishes. `DeadlineAdapter`, mounted
on every session the suite sends with (`cap_sessions`), hands each connection it takes from its pool to a
watchdog thread with the request's deadline; at the deadline the watchdog shuts the socket down, the blocked
read ends and the case gets a network error (a `ReadTimeout` saying so when the reply had not begun). The end
of a run (`set_run_deadline`) caps every request too: once it has passed, nothing more is sent.

The same adapter caps a reply's size: requests (and schemathesis, which streams every case's reply and then
reads `.content`) reads a body whole, so a server answering 100 MB, endless chunks or a compression bomb
filled the memory of the machine running the suite. Every body but an event stream's is read (decoded)
up to `MAX_REPLY_BYTES`, the client's own default limit; past it the connection is closed, nothing more is
read and the case gets a network error (`ReplyTooLargeError`), counted by `oversized()`.

Each exception raised here has the shape schemathesis' reporting reads (`schemathesis.core.errors`
`get_request_error_message` / `_extras`): requests' exception wrapping a urllib3 one, as requests itself raises
them. A `ReadTimeout` carrying plain text made that reporting raise AttributeError, which ended the run and lost
every result ("0 cases").
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import connectionpool
from urllib3.exceptions import ConnectTimeoutError, ProtocolError, ReadTimeoutError

# Seconds one request may take from its first byte sent to its reply's last byte read.
REQUEST_SECONDS = 30.0
# The watchdog looks at the clock at least this often (a cut is at most this late).
POLL_SECONDS = 0.25
# The largest reply body read, decoded (a payout is about 1 KB, a page of 100 about 120 KB).
MAX_REPLY_BYTES = 10 * 1024 * 1024
READ_CHUNK = 64 * 1024


class ReplyTooLargeError(requests.exceptions.ConnectionError):
    """A reply body over `MAX_REPLY_BYTES`: its connection was closed unread past the cap."""


def reply_too_large(limit: int, request: requests.PreparedRequest | None) -> ReplyTooLargeError:
    """The error of a reply past the size cap; its text is the wrapped urllib3 error's, as requests' errors are."""
    cause = ProtocolError(f"reply body larger than {limit} bytes (the size cap of a reply): not read past it")
    return ReplyTooLargeError(cause, request=request)


REQUEST_CAP = "the wall-clock cap of a request"
RUN_LIMIT = "the run's time limit"


def cut_at_deadline(
    seconds: float, request: requests.PreparedRequest, limit: str = REQUEST_CAP
) -> requests.exceptions.ReadTimeout:
    """The error of a request cut at its deadline (`limit`: which one), `seconds` after it was sent: a `ReadTimeout`
    wrapping urllib3's `ReadTimeoutError` whose message ends with `(read timeout=<seconds>)`, as urllib3's own do
    (schemathesis reads the duration from there, and its report says "Read timed out after <seconds> seconds")."""
    shown = f"{seconds:.3g}"
    parts = urlsplit(request.url or "")
    cause = ReadTimeoutError(
        f"{parts.scheme}://{parts.netloc}",  # a pool's name (urllib3 quotes it), as schemathesis' own ASGI one
        request.url or "",
        f"no complete reply within {shown} s, {limit} (read timeout={shown})",
    )
    return requests.exceptions.ReadTimeout(cause, request=request)


def not_sent(request: requests.PreparedRequest) -> requests.exceptions.ConnectTimeout:
    """The error of a request not sent because the run reached its time limit: a `ConnectTimeout` (schemathesis:
    the request never reached the server) wrapping urllib3's `ConnectTimeoutError`."""
    return requests.exceptions.ConnectTimeout(
        ConnectTimeoutError("not sent, the run reached its time limit"), request=request
    )

_local = threading.local()
_run_deadline: float | None = None


class _Watch:
    """One request's deadline; `cut` once the watchdog shut its connection down."""

    __slots__ = ("cut", "deadline")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.cut = False


class _Watchdog:
    """Shuts down the socket of each watched connection still in use at its deadline (one daemon thread)."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._cond = threading.Condition()
        self._watched: dict[int, tuple[Any, _Watch]] = {}
        self._thread: threading.Thread | None = None
        self.cuts = 0

    def watch(self, conn: Any, watch: _Watch) -> None:
        if self._pid != os.getpid():  # a forked child: the parent's thread and lock are not its own
            self._reset()
        with self._cond:
            self._watched[id(conn)] = (conn, watch)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fedapay-contract-deadline", daemon=True)
                self._thread.start()
            self._cond.notify()

    def release(self, conn: Any) -> None:
        with self._cond:
            entry = self._watched.get(id(conn))
            if entry is not None and entry[0] is conn:
                del self._watched[id(conn)]

    def _run(self) -> None:
        while True:
            with self._cond:
                now = time.monotonic()
                due = [key for key, (_, watch) in self._watched.items() if watch.deadline <= now]
                cut = [self._watched.pop(key) for key in due]
                if not cut:
                    earliest = min((watch.deadline for _, watch in self._watched.values()), default=now + 60.0)
                    self._cond.wait(min(max(earliest - now, 0.0), POLL_SECONDS))
                    continue
            for conn, watch in cut:
                sock = getattr(conn, "sock", None)
                if not isinstance(sock, socket.socket) or sock.fileno() == -1:
                    continue  # closed already: the request ended without handing its connection back
                # Counted before the cut: the request's thread, woken by it, must already see it counted (it
                # tells "cut at the deadline" from a plain network error by the count).
                with self._cond:
                    self.cuts += 1
                watch.cut = True
                # The plain socket's shutdown, also under TLS: the blocked read sees the end of the stream.
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)


_WATCHDOG = _Watchdog()


def cuts() -> int:
    """How many requests this process's watchdog has cut at their deadline so far."""
    return _WATCHDOG.cuts


_oversized = [0]


def oversized() -> int:
    """How many replies this process has refused for their size so far."""
    return _oversized[0]


def _event_stream(response: requests.Response) -> bool:
    return response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower() == "text/event-stream"


def _read_within(response: requests.Response, limit: int) -> None:
    """Read `response`'s body as requests would (decoded), or close it and raise once it passes `limit` bytes."""
    declared = response.headers.get("Content-Length", "")
    size = 0
    chunks: list[bytes] = []
    if not (declared.isascii() and declared.isdigit() and int(declared) > limit):
        for chunk in response.iter_content(READ_CHUNK):
            size += len(chunk)
            if size > limit:
                break
            chunks.append(chunk)
        else:
            response._content = b"".join(chunks)
            return
    response.close()
    _oversized[0] += 1
    raise reply_too_large(limit, response.request)


def set_run_deadline(deadline: float | None) -> None:
    """The end of the run in progress (`time.monotonic()`), or None: no request outlives it."""
    global _run_deadline
    _run_deadline = deadline


class _WatchedConnections:
    """Pool methods that hand each connection taken for a request to the watchdog, and take it back after."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        watch: _Watch | None = getattr(_local, "watch", None)
        if watch is not None:
            _WATCHDOG.watch(conn, watch)
        return conn

    def _put_conn(self, conn: Any) -> None:
        if conn is not None:
            _WATCHDOG.release(conn)
        super()._put_conn(conn)  # type: ignore[misc]


# urllib3's names, as its messages quote them ("HTTPConnectionPool(host=..., port=...): Read timed out.").
class HTTPConnectionPool(_WatchedConnections, connectionpool.HTTPConnectionPool):  # type: ignore[misc]
    pass


class HTTPSConnectionPool(_WatchedConnections, connectionpool.HTTPSConnectionPool):  # type: ignore[misc]
    pass


WATCHED_POOLS: Mapping[str, type[Any]] = {"http": HTTPConnectionPool, "https": HTTPSConnectionPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter with a wall-clock cap of `seconds` per request (default REQUEST_SECONDS as it is when
    the request is sent), or less: the run's end, when it comes sooner."""

    def __init__(self, seconds: float | None = None, max_reply_bytes: int = MAX_REPLY_BYTES) -> None:
        self.seconds = seconds
        self.max_reply_bytes = max_reply_bytes
        super().__init__()

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(WATCHED_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS pools are urllib3's own classes: not capped
            manager.pool_classes_by_scheme = dict(WATCHED_POOLS)
        return manager

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        now = time.monotonic()
        deadline = now + (self.seconds if self.seconds is not None else REQUEST_SECONDS)
        limit = REQUEST_CAP
        run_deadline = _run_deadline
        if run_deadline is not None:
            if run_deadline <= now:
                raise not_sent(request)
            if run_deadline < deadline:
                deadline, limit = run_deadline, RUN_LIMIT
        watch = _Watch(deadline)
        outer = getattr(_local, "watch", None)
        _local.watch = watch
        # The body is read here, within the size cap and under the watch, whether or not the caller streams:
        # schemathesis asks every case's reply streamed, then reads `.content` whole (a gzip bomb took 3.7 GB).
        # Only an event stream (which may never end, and which schemathesis reads by events) is left streamed.
        if args:
            args = (True, *args[1:])
        else:
            kwargs["stream"] = True
        try:
            response = super().send(request, *args, **kwargs)
            if not _event_stream(response):
                _read_within(response, self.max_reply_bytes)
            return response
        except ReplyTooLargeError:
            raise
        except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:
            if watch.cut:
                raise cut_at_deadline(deadline - now, request, limit) from error
            raise
        finally:
            _local.watch = outer


def mount(session: requests.Session, seconds: float | None = None) -> requests.Session:
    """Send `session`'s http:// and https:// requests through a `DeadlineAdapter`."""
    adapter = DeadlineAdapter(seconds)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


_patch_lock = threading.Lock()


def cap_sessions() -> bool:
    """Cap every request of schemathesis' engine, once per process: the sessions of its cases and stateful steps
    (`schemathesis.engine.context.make_session`) and those its checks' probes open for one request each
    (`schemathesis.transport.requests.SameHostRedirectsSession`, the base of both: `ignored_auth` sends its probes
    without a key on a new one, which the cap missed, so a server hanging on a probe held the run for the per-read
    timeout past its time limit). False when neither is there (another schemathesis version): requests then have
    their per-read timeout only."""
    capped = False
    with _patch_lock:
        try:
            from schemathesis.transport.requests import SameHostRedirectsSession
        except ImportError:
            pass
        else:
            capped = True
            init = SameHostRedirectsSession.__init__
            if not getattr(init, "_fedapay_capped", False):

                def __init__(self: requests.Session, *args: Any, **kwargs: Any) -> None:
                    init(self, *args, **kwargs)
                    mount(self)

                __init__._fedapay_capped = True  # type: ignore[attr-defined]
                SameHostRedirectsSession.__init__ = __init__  # type: ignore[method-assign]
        try:
            from schemathesis.engine import context
        except ImportError:
            return capped
        original: Callable[..., requests.Session] | None = getattr(context, "make_session", None)
        if original is None:
            return capped
        if not getattr(original, "_fedapay_capped", False):

            def make_session(*args: Any, **kwargs: Any) -> requests.Session:
                session = original(*args, **kwargs)
                return session if isinstance(session.get_adapter("http://"), DeadlineAdapter) else mount(session)

            make_session._fedapay_capped = True  # type: ignore[attr-defined]
            context.make_session = make_session
    return True
