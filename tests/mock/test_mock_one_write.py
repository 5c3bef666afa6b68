"""The runner's HTTP protocol (`fedapay_mock.http_protocol`): each reply leaves in one write, nothing waits
past the event-loop turn it was written in, and a closing connection still sends what waits.

Served by real uvicorn on real uvloop on a loopback socket; the writes are counted by a recorder wrapped
around uvloop's own transport, below the protocol under test."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import ClassVar

import pytest
import uvicorn
from fedapay_mock.asgi import Receive, Scope, Send
from fedapay_mock.http_protocol import OneWriteHttpToolsProtocol, TurnBufferedTransport
from fedapay_mock.server import _uvicorn_server, listening_socket
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from tests.mock.mock_support import read_reply

BODY = b'{"v1/payout":' + b"1" * 3000 + b"}"
TIMEOUT = 10.0


class WriteRecorder(TurnBufferedTransport):
    """uvloop's transport, passed through untouched, with every write it is given kept in `writes`: not a
    buffer (the base's `write` is replaced), a window on what reaches the real transport."""

    writes: ClassVar[list[bytes]] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        WriteRecorder.writes.append(bytes(data))
        self._transport.write(data)


def recording(protocol: type[HttpToolsProtocol]) -> type[HttpToolsProtocol]:
    """`protocol` with a `WriteRecorder` between it and uvloop's transport."""

    class Recorded(protocol):  # type: ignore[misc,valid-type]
        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(WriteRecorder(transport, self.loop))

    return Recorded


@contextlib.contextmanager
def connected(app: object, protocol: type[asyncio.Protocol], timeout: float = TIMEOUT) -> Iterator[socket.socket]:
    """A client socket to `app`, served by uvicorn with `protocol` in a thread on loopback, until the block ends."""
    sock = listening_socket()
    server = uvicorn.Server(uvicorn.Config(app, http=protocol, lifespan="off", log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + TIMEOUT
    while not server.started:
        assert thread.is_alive(), "the server stopped before it started"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        with socket.create_connection(sock.getsockname()[:2], timeout=timeout) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=TIMEOUT)
        sock.close()


def request(path: str, *, close: bool = False) -> bytes:
    connection = b"connection: close\r\n" if close else b""
    return b"GET " + path.encode() + b" HTTP/1.1\r\nhost: test\r\n" + connection + b"\r\n"


async def json_reply(scope: Scope, receive: Receive, send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))],
        }
    )
    await send({"type": "http.response.body", "body": BODY})


@pytest.fixture(autouse=True)
def _fresh_recorder() -> None:
    WriteRecorder.writes = []


def test_each_reply_head_and_body_leaves_in_one_write() -> None:
    with connected(json_reply, recording(OneWriteHttpToolsProtocol)) as client:
        replies = []
        for number in range(3):  # one keep-alive connection, three requests
            client.sendall(request(f"/{number}"))
            replies.append(read_reply(client))
    assert [body for _, body in replies] == [BODY] * 3
    assert all(head.startswith(b"HTTP/1.1 200 OK") for head, _ in replies)
    assert len(WriteRecorder.writes) == 3, [len(write) for write in WriteRecorder.writes]
    for write, (head, _) in zip(WriteRecorder.writes, replies, strict=True):
        assert write == head + b"\r\n\r\n" + BODY


def test_uvicorns_own_protocol_writes_twice_per_reply() -> None:
    """The control: what the runner's protocol saves (without it, the count above would be 6)."""
    with connected(json_reply, recording(HttpToolsProtocol)) as client:
        client.sendall(request("/"))
        assert read_reply(client)[1] == BODY
    assert len(WriteRecorder.writes) == 2


def test_a_head_sent_before_a_pause_reaches_the_client_during_the_pause() -> None:
    head_arrived = threading.Event()

    async def slow_body(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4")]})
        deadline = time.monotonic() + TIMEOUT
        while not head_arrived.is_set() and time.monotonic() < deadline:  # the body waits for the head
            await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b"done"})

    with connected(slow_body, OneWriteHttpToolsProtocol, timeout=TIMEOUT / 4) as client:
        client.sendall(request("/"))
        head = b""
        while b"\r\n\r\n" not in head:
            head += client.recv(65536)  # a socket.timeout here: the head waited for the body
        head_arrived.set()
        rest = head.partition(b"\r\n\r\n")[2]
        while len(rest) < 4:
            rest += client.recv(65536)
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert rest == b"done"


def test_a_reply_on_a_closing_connection_is_sent_before_the_close() -> None:
    with connected(json_reply, recording(OneWriteHttpToolsProtocol)) as client:
        client.sendall(request("/", close=True))
        head, body = read_reply(client)
        assert client.recv(65536) == b""  # then the server closed
    assert b"connection: close" in head.lower()
    assert body == BODY
    assert len(WriteRecorder.writes) == 1


def test_the_runner_serves_with_the_one_write_protocol() -> None:
    assert _uvicorn_server(json_reply, lifespan="off").config.http is OneWriteHttpToolsProtocol


def test_every_transport_method_reaches_the_real_transport() -> None:
    """asyncio's `Transport` base raises NotImplementedError for what a subclass leaves out: each of its
    methods must be answered by the wrapper, so whatever uvicorn calls next reaches uvloop."""
    public = {
        name
        for klass in asyncio.Transport.__mro__
        for name, value in vars(klass).items()
        if callable(value) and not name.startswith("_")
    }
    inherited = [name for name in public if getattr(TurnBufferedTransport, name) is getattr(asyncio.Transport, name)]
    assert sorted(inherited) == []


def test_a_body_buffer_the_app_reuses_after_sending_goes_out_as_it_was_sent() -> None:
    """The writes wait until the end of the turn: a bytearray the app changes right after `send` returns
    must still go out as it was when sent."""

    async def reused_buffer(scope: Scope, receive: Receive, send: Send) -> None:
        buffer = bytearray(b"first")
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]})
        await send({"type": "http.response.body", "body": buffer})
        buffer[:] = b"WRONG"  # the same turn: before the flush

    with connected(reused_buffer, OneWriteHttpToolsProtocol) as client:
        client.sendall(request("/"))
        assert read_reply(client)[1] == b"first"
