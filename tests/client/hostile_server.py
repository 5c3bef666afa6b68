"""A raw-socket HTTP/1.1 server on loopback that answers each request with scripted bytes.

The FedaPay mock is a well-behaved server; this one is not. Each reply is a script: a generator
that, given the request received, yields bytes to send and pauses (seconds, as floats) between
them. So a test can drip a reply one byte at a time, stream a 64 MB body, send a gzip bomb, a body
nested 100,000 levels deep, a malformed status line, or the caller's own API key in a header.
One request per connection: after its script the server closes the connection. A client that stops
reading (closes its end) ends the script; `bytes_sent` counts what actually left.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass
class Received:
    """A request as the server read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def api_key(self) -> str:
        return self.headers.get("authorization", "").removeprefix("Bearer ")


Script = Callable[[Received], Iterable[bytes | float]]


@dataclass
class HostileServer:
    """Serves `scripts` in order, one per request; the last one answers every later request."""

    scripts: list[Script] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    bytes_sent: int = 0

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._connections: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        acceptor = threading.Thread(target=self._accept, name="hostile-server", daemon=True)
        acceptor.start()
        self._threads.append(acceptor)

    def script(self, *scripts: Script) -> None:
        self.scripts = list(scripts)

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._connections.append(connection)
            worker = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            worker.start()
            with self._lock:
                self._threads.append(worker)

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            try:
                request = _read_request(connection)
                if request is None:
                    return
                with self._lock:
                    index = len(self.received)
                    self.received.append(request)
                    script = self.scripts[min(index, len(self.scripts) - 1)]
                for step in script(request):
                    if self._closing.is_set():
                        return
                    if isinstance(step, float):
                        self._closing.wait(step)
                    else:
                        connection.sendall(step)
                        with self._lock:
                            self.bytes_sent += len(step)
            except OSError:
                return  # the client hung up: the script ends here

    def close(self) -> None:
        self._closing.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        self._listener.close()
        with self._lock:
            connections, threads = list(self._connections), list(self._threads)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout=5)


def _read_request(connection: socket.socket) -> Received | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, path, _ = request_line.split(" ", 2)
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return Received(method, path, headers, body)


# --- scripts -----------------------------------------------------------------------------------


def head(status: int = 200, reason: str = "OK", headers: dict[str, str] | None = None, length: int | None = None,
         ) -> bytes:
    """A status line and headers (with `Connection: close`, and `Content-Length` when given)."""
    lines = [f"HTTP/1.1 {status} {reason}", "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def reply(status: int = 200, body: bytes | Any = b"", *, reason: str = "OK", headers: dict[str, str] | None = None,
          ) -> Script:
    """A whole reply at once; a body that is not bytes is sent as JSON."""
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    all_headers = {"Content-Type": "application/json", **(headers or {})}

    def script(request: Received) -> Iterator[bytes | float]:
        yield head(status, reason, all_headers, len(content)) + content

    return script


def raw(data: bytes | Callable[[Received], bytes]) -> Script:
    """Exactly these bytes (or those made from the request), then the connection closes."""

    def script(request: Received) -> Iterator[bytes | float]:
        yield data(request) if callable(data) else data

    return script


def drip(prefix: bytes, body: bytes, every: float = 0.2, limit: float = 30.0) -> Script:
    """Send `prefix` at once, then `body` one byte every `every` seconds (for at most `limit` seconds)."""

    def script(request: Received) -> Iterator[bytes | float]:
        yield prefix
        for index in range(min(len(body), int(limit / every))):
            yield every
            yield body[index : index + 1]

    return script


def huge(size: int, *, status: int = 200, chunk: int = 1 << 16) -> Script:
    """A body of `size` bytes (spaces then `[]`, i.e. valid JSON), streamed in chunks."""

    def script(request: Received) -> Iterator[bytes | float]:
        yield head(status, "OK", {"Content-Type": "application/json"}, size)
        sent = 0
        block = b" " * chunk
        while sent < size - 2:
            piece = block[: min(chunk, size - 2 - sent)]
            sent += len(piece)
            yield piece
        yield b"[]"

    return script


def gzip_bomb(inflated: int) -> bytes:
    """A gzip stream of `inflated` zero bytes (about a thousandth of that in size), built in steps."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(1 << 20)
    parts = [packer.compress(zeros) for _ in range(inflated >> 20)]
    parts.append(packer.flush())
    return b"".join(parts)


def payout(payout_id: Any = 5, **fields: Any) -> dict[str, Any]:
    """A payout as FedaPay sends it (every field the client checks), with `fields` replaced (any types)."""
    data: dict[str, Any] = {
        "id": payout_id,
        "reference": f"trx_{payout_id}",
        "amount": 1000,
        "status": "pending",
        "customer_id": 7,
        "currency_id": 1,
        "mode": "mtn_open",
        "created_at": "2026-01-05T10:00:00Z",
        "updated_at": "2026-01-05T10:00:00Z",
        "klass": "v1/payout",
    }
    data.update(fields)
    return data
