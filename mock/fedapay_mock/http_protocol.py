"""uvicorn's httptools protocol, each reply sent in one write: the runner's HTTP protocol.

uvicorn writes a reply's head (at `http.response.start`) and its body in two `transport.write` calls, and
uvloop sends each at once: two send system calls per reply, and the client, woken by the head, goes back
to sleep until the body comes and must be woken again. Waking a sleeping thread on another core is one of
the dearest things a server on this machine does: under wrk (50 connections, 2 cores) it was 13 µs of the
mock's 74 µs of CPU per create, in the kernel's `sock_def_readable` (`perf record -g` on the served mock;
README.md, "Mock server performance").

Here the writes a connection makes during one turn of the event loop wait in a list and leave in one
write at the end of that turn (`loop.call_soon`), or at once when the connection is closed. Nothing waits
longer than the turn it was written in: a reply whose body comes after a pause (a fault's delay, a streamed
body) still sends its head first. `abort` drops what waits, as it drops what the transport holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class TurnBufferedTransport(asyncio.Transport):
    """A transport that joins the writes of one event-loop turn into one write to `transport`."""

    __slots__ = ("_call_soon", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._pending: list[bytes] = []
        self._call_soon = loop.call_soon

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._call_soon(self.flush)
        # Copied unless immutable: the writer may reuse a bytearray as soon as `write` returns.
        self._pending.append(data if type(data) is bytes else bytes(data))

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        """Send what waits, in one write (nothing once the connection is closing: its peer is gone)."""
        pending = self._pending
        if not pending:
            return
        self._pending = []
        if self._transport.is_closing():
            return
        self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(data) for data in self._pending)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)


class OneWriteHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a `TurnBufferedTransport`: a reply's head and body in one write."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(TurnBufferedTransport(transport, self.loop))
