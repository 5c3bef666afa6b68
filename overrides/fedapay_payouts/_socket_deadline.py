"""The sync client's sockets: under the call's deadline (see `_deadline.py`), and one write per request.

A server that drips its reply a byte at a time never lets a socket read time out, so per-read
timeouts cannot bound a call. httpcore asks its network backend for every connect, read and write;
the backend here hands each one the time left (the attempt's reading window for reads, the call's
deadline otherwise) and tells the attempt when the request starts to leave and when reading starts.
Installed on the pools of the clients this package makes (`install`), where nothing else shares them.

One write per request: httpcore writes a request's head and its body separately, two TCP segments
(sockets have TCP_NODELAY) that the server must read and put together, two wake-ups. The stream
here holds what httpcore writes until it reads the reply (HTTP/1.1: a client writes its whole
request, then reads), and sends it in one `sendall`: 4-5 % of a loopback `create`, the difference
between a client a little slower than raw httpx and one a little faster.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from ._deadline import READING, WAITING, current
from ._slots import SlotTransport

__all__ = ["install", "install_on"]

MAX_HELD = 1 << 16  # bytes of a request held back to leave in one write


def _clip(timeout: float | None, reading: bool, request: bool = True) -> float | None:
    """`timeout` cut to the current attempt's limit. For the `request`'s own traffic the attempt's phase moves on
    (sending, then reading); connecting, the TLS handshake and a proxy's tunnel (CONNECT) are not the request."""
    deadline = current()
    attempt = None if deadline is None else deadline.attempt
    if attempt is None:
        return timeout
    if not request:
        pass
    elif reading:
        if attempt.phase != READING:
            attempt.reading()
    elif attempt.phase == WAITING:
        attempt.sending()
    left = attempt.limit(reading) - time.monotonic()
    if left <= 0:
        error = httpcore.ReadTimeout if reading else httpcore.WriteTimeout
        raise error(attempt.deadline.describe())
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write ends by the current attempt's limit."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner
        self._held: list[bytes] = []
        self._held_size = 0
        self._write_timeout: float | None = None
        # Carrying a proxy's CONNECT (its first write says so): the tunnel's traffic, not the request's. The
        # request then goes on the stream `start_tls` returns.
        self._tunnel = False

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._held:
            # As httpcore does when a write fails: the server may have answered early (a 413 before
            # the body) and closed; reading says what it sent, or that it sent nothing.
            with contextlib.suppress(httpcore.WriteError):
                self._send_held()
        return self._inner.read(max_bytes, _clip(timeout, reading=True, request=not self._tunnel))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Held until the next read (or until more than `MAX_HELD` bytes are held: a large upload streams)."""
        if buffer:
            self._held.append(buffer)
            self._held_size += len(buffer)
            self._write_timeout = timeout
            if self._held_size > MAX_HELD:
                self._send_held()

    def _send_held(self) -> None:
        data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
        self._held.clear()
        self._held_size = 0
        if data.startswith(b"CONNECT "):
            self._tunnel = True
        self._inner.write(data, _clip(self._write_timeout, reading=False, request=not self._tunnel))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, _clip(timeout, reading=False, request=False))
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's sync network backend, with connections whose socket operations honour the deadline."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(host, port, _connect_timeout(timeout), local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(path, _connect_timeout(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _connect_timeout(timeout: float | None) -> float | None:
    try:
        return _clip(timeout, reading=False, request=False)
    except httpcore.WriteTimeout as exc:
        raise httpcore.ConnectTimeout(str(exc)) from None


def install(http: httpx.Client) -> bool:
    """Give the connection pools of a sync client of ours the backend above; True when every pool took it.

    httpx does not let a client choose httpcore's network backend, so the pools it made are given
    ours here, before they open any connection (httpx 0.28 / httpcore 1.0; a pool of another shape
    is left as it is, and the deadline is then checked between phases and body chunks only). A
    transport that makes its pools later (`_slots.SlotTransport`) gives each to `install_on` itself.
    """
    done = True
    for transport in [http._transport, *http._mounts.values()]:
        if transport is not None and not isinstance(transport, SlotTransport) and not install_on(transport):
            done = False
    return done


def install_on(transport: object) -> bool:
    """The backend above for one httpx transport's pool; False when the pool is not of httpcore 1.0's shape."""
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if not isinstance(backend, httpcore.NetworkBackend):
        return False
    if not isinstance(backend, _DeadlineBackend):
        pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]
    return True
