"""A request's head (request line and headers) is bounded in size and in time by the runner's HTTP protocol
(`fedapay_mock.http_protocol`): past `MAX_HEAD_BYTES` the reply is 431, the connection closes and the request
never reaches the app; a head still unfinished `HEAD_SECONDS` after its first byte (or after connecting) gets
408 and its connection closes. Real served mock, raw sockets on loopback.

Before: one header of 200 MiB was read whole in quadratic time (49 s, 312 MB, other requests stalled) and
a thousand connections each holding an unfinished head were kept open for ever.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
from fedapay_mock import MockServer, http_protocol
from fedapay_mock.http_protocol import HEAD_SECONDS, MAX_HEAD_BYTES

from tests.mock.mock_support import API_KEY, AUTH, read_reply, read_until_closed

BOUND = HEAD_SECONDS + 20.0  # "does not hang": a generous bound past the head's time
PAYOUT = (
    b'{"amount": 1000, "currency": {"iso": "XOF"}, "mode": "mtn_open", '
    b'"customer": {"firstname": "Ada", "lastname": "Lovelace"}}'
)


def head(size: int, method: bytes = b"GET", path: bytes = b"/v1/payouts", extra: bytes = b"") -> bytes:
    """A request head of exactly `size` bytes (request line to the blank line), padded with `x-pad`."""
    start = method + b" " + path + b" HTTP/1.1\r\nhost: test\r\nauthorization: Bearer " + API_KEY.encode() + b"\r\n"
    start += extra + b"x-pad: "
    pad = size - len(start) - len(b"\r\n\r\n")
    assert pad >= 0
    return start + b"a" * pad + b"\r\n\r\n"


def reply_of(client: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset after a reply counts as a close)."""
    return read_until_closed(client, BOUND)


def status_of_next_reply(client: socket.socket) -> bytes:
    """The status line of the next reply on a connection kept open, the reply read whole by its length."""
    client.settimeout(BOUND)
    head, _ = read_reply(client)
    return head.partition(b"\r\n")[0]


@pytest.fixture
def connect(mock: MockServer) -> Iterator[list[socket.socket]]:
    """Raw connections to the mock, closed after the test."""
    opened: list[socket.socket] = []
    yield opened
    for client in opened:
        client.close()


def _open(mock: MockServer, opened: list[socket.socket]) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", mock.port), timeout=BOUND)
    opened.append(client)
    return client


@pytest.mark.parametrize("first_on_its_connection", [True, False])
def test_a_head_of_the_limit_is_served_and_one_byte_more_is_431(
    mock: MockServer, connect: list[socket.socket], first_on_its_connection: bool
) -> None:
    client = _open(mock, connect)
    if not first_on_its_connection:  # the common path: a keep-alive connection's next request
        client.sendall(head(200))
        assert status_of_next_reply(client) == b"HTTP/1.1 200 OK"

    client.sendall(head(MAX_HEAD_BYTES))
    assert status_of_next_reply(client) == b"HTTP/1.1 200 OK"
    client.sendall(head(MAX_HEAD_BYTES + 1))
    reply = reply_of(client)

    assert reply.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), reply[:80]
    assert b'"errors":{"headers":["the request line and headers must be at most 65536 bytes"]}' in reply


def test_a_request_with_an_oversized_head_never_reaches_the_app(mock: MockServer, connect: list[socket.socket]) -> None:
    """A whole create (head, body) sent at once: refused before the app sees it, so nothing is created."""
    request = head(
        2 * MAX_HEAD_BYTES,
        b"POST",
        extra=b"content-type: application/json\r\ncontent-length: %d\r\n" % len(PAYOUT),
    )
    client = _open(mock, connect)
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # closed before all was read
        client.sendall(request + PAYOUT)

    reply = reply_of(client)

    assert reply == b"" or reply.startswith(b"HTTP/1.1 431 "), reply[:80]
    stats = mock.stats()
    assert (stats["payouts_total"], stats["requests"]) == (0, {})
    with httpx.Client(base_url=mock.base_url, headers=AUTH) as api:
        assert api.post("/payouts", content=PAYOUT, headers={"Content-Type": "application/json"}).status_code == 201


def test_a_header_of_many_mebibytes_is_cut_off_at_the_limit_and_others_are_served(
    mock: MockServer, connect: list[socket.socket]
) -> None:
    client = _open(mock, connect)
    client.sendall(b"GET /v1/payouts HTTP/1.1\r\nhost: test\r\nx-big: ")
    refused_after = None
    sent = 0
    try:
        for _ in range(64):  # up to 64 MiB of one header, never ended
            client.sendall(b"a" * (1 << 20))
            sent += 1
    except (BrokenPipeError, ConnectionResetError):
        refused_after = sent

    assert refused_after is not None, "the server read the whole header"
    assert refused_after < 64
    reply = reply_of(client)
    assert reply == b"" or reply.startswith(b"HTTP/1.1 431 "), reply[:80]
    with httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=BOUND) as api:
        assert api.get("/payouts").status_code == 200


def test_unfinished_heads_are_closed_after_the_head_time_and_a_waiting_body_is_not(
    mock: MockServer, connect: list[socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slowloris: many connections that never finish their head (silent, or a byte now and then, or after a
    first request) are each answered 408 and closed; the server serves others meanwhile, and a connection
    whose head is complete, waiting for its body, is left alone by the head's time (the body's own time, also
    10 s, is set longer here: the body ends after the heads' time; test_mock_request_body.py tests it)."""
    monkeypatch.setattr(http_protocol, "BODY_SECONDS", BOUND)
    partial = [_open(mock, connect) for _ in range(200)]
    for client in partial:
        client.sendall(b"GET /v1/payouts HTTP/1.1\r\nhost: test\r\n")
    silent = [_open(mock, connect) for _ in range(5)]
    second = _open(mock, connect)
    second.sendall(head(300))
    assert status_of_next_reply(second) == b"HTTP/1.1 200 OK"
    second.sendall(b"GET /v1/payouts HTTP/1.1\r\n")
    dripping = _open(mock, connect)
    dripping.sendall(b"GET /v1/payouts HTTP/1.1\r\n")
    stop = threading.Event()

    def drip() -> None:
        try:
            while not stop.wait(0.5):
                dripping.sendall(b"x")
        except OSError:
            pass

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    waiting_body = _open(mock, connect)
    create = head(400, b"POST", extra=b"content-type: application/json\r\ncontent-length: %d\r\n" % len(PAYOUT))
    waiting_body.sendall(create + PAYOUT[:10])
    try:
        with httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=BOUND) as api:
            assert api.get("/payouts").status_code == 200  # served while 200 heads are held

        replies = [reply_of(client) for client in [*partial, *silent, second, dripping]]
    finally:
        stop.set()
        dripper.join(timeout=BOUND)

    for reply in replies:
        assert reply.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), reply[:80]
    waiting_body.sendall(PAYOUT[10:])
    assert status_of_next_reply(waiting_body) == b"HTTP/1.1 201 Created"


def test_a_pipelined_burst_of_small_requests_is_served_whole(mock: MockServer, connect: list[socket.socket]) -> None:
    """600 pipelined GETs of about 160 bytes in one write (96 KB): the read in which a head began counted the
    requests before it too, so the burst got a false 431 and no reply at all (twelfth review)."""
    client = _open(mock, connect)
    count = 600
    client.sendall(head(160) * count)
    client.settimeout(BOUND)
    replies = b""
    while replies.count(b"HTTP/1.1 ") < count:
        chunk = client.recv(1 << 20)
        assert chunk, f"closed after {replies.count(b'HTTP/1.1 ')} replies: {replies[-200:]!r}"
        replies += chunk
    assert replies.count(b"HTTP/1.1 200 OK\r\n") == count


def test_a_head_refused_behind_a_request_still_served_closes_without_passing_for_its_reply(
    mock: MockServer, connect: list[socket.socket]
) -> None:
    """A create held by a delay fault, then a pipelined request with an oversized head: the 431 went out first,
    the client read it as the create's reply (refused) while the payout was made. Now the connection closes
    without a reply: the create's outcome is unknown, as it truly is."""
    mock.arm_fault("create_payout", "delay_before_reply", delay=1.0)
    create = b"POST /v1/payouts HTTP/1.1\r\nhost: test\r\nauthorization: Bearer " + API_KEY.encode() + b"\r\n" + (
        b"content-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(PAYOUT)
    ) + PAYOUT
    client = _open(mock, connect)
    client.sendall(create + head(3 * MAX_HEAD_BYTES))  # past the limit however its first read is counted
    assert reply_of(client) == b""
    assert mock.stats()["payouts_total"] == 1


def test_a_stray_line_break_after_a_reply_leaves_the_connection_to_its_keep_alive_time(
    mock: MockServer, connect: list[socket.socket]
) -> None:
    """A lone CRLF begins no request: it stopped the keep-alive timer and no head timer began, so the
    connection was held for ever (200 of 200 still open after 30 s)."""
    client = _open(mock, connect)
    client.sendall(head(200))
    assert status_of_next_reply(client) == b"HTTP/1.1 200 OK"
    client.sendall(b"\r\n")
    assert reply_of(client) == b""  # closed by the server (reply_of fails the test past BOUND seconds)


def test_stray_line_breaks_every_few_seconds_do_not_restart_the_keep_alive_time(
    mock: MockServer, connect: list[socket.socket]
) -> None:
    """Each stray CRLF restarted the keep-alive time: one every 3 s held the connection for ever (thirteenth
    review). The time runs from the last reply."""
    import time

    client = _open(mock, connect)
    client.sendall(head(200))
    assert status_of_next_reply(client) == b"HTTP/1.1 200 OK"
    started = time.monotonic()
    closed = False
    while time.monotonic() - started < BOUND and not closed:
        time.sleep(1.5)
        try:
            client.sendall(b"\r\n")
        except OSError:
            closed = True
    assert closed, "still open"
    assert time.monotonic() - started < 10  # the keep-alive time (5 s) from the reply, not from the last CRLF
