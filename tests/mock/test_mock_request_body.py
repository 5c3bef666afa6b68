"""A request's body is bounded in time by the runner's HTTP protocol (`fedapay_mock.http_protocol`): one not
complete `BODY_SECONDS` after the end of its head gets 408 with FedaPay's error body, the connection closes,
and the app, which was waiting for it, serves nothing (a valid payout one byte short of its `Content-Length`
creates no payout). Real served mock, raw sockets on loopback; the body time is set short for the tests.

Before (fifteenth review): uvicorn waited for a body for ever, so 20 connections that sent a head with
`Content-Length: 1000` and one byte were all still open half a minute later, each holding an app task.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fedapay_mock import MockServer, http_protocol

from tests.mock.mock_support import API_KEY, AUTH, read_reply, read_until_closed

SECONDS = 1.0  # the body time in these tests (10 s served)
BOUND = 20.0  # "does not hang": a generous bound past the body time
PAYOUT = (
    b'{"amount": 1000, "currency": {"iso": "XOF"}, "mode": "mtn_open", '
    b'"customer": {"firstname": "Ada", "lastname": "Lovelace"}}'
)
TOO_SLOW = {
    "message": "The request's body took too long.",
    "errors": {"body": ["the request's body must arrive within 1 seconds of its headers"]},
}


def create_head(*headers: bytes) -> bytes:
    """The head of a create, with `headers` (each a whole line) after the authorization."""
    lines = [b"POST /v1/payouts HTTP/1.1", b"host: test", b"authorization: Bearer " + API_KEY.encode()]
    lines += [b"content-type: application/json", *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def reply_of(client: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset after a reply counts as a close)."""
    return read_until_closed(client, BOUND)


def assert_too_slow(reply: bytes) -> None:
    """A whole 408 reply with FedaPay's error body, closing the connection."""
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 408 Request Timeout", reply[:200]
    assert b"connection: close" in lines
    assert b"content-type: application/json" in lines
    assert json.loads(body) == TOO_SLOW


@pytest.fixture
def body_time(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(http_protocol, "BODY_SECONDS", SECONDS)
    return SECONDS


@pytest.fixture
def connect(mock: MockServer, body_time: float) -> Iterator[list[socket.socket]]:
    """Raw connections to the mock (with the short body time), closed after the test."""
    opened: list[socket.socket] = []
    yield opened
    for client in opened:
        client.close()


def _open(mock: MockServer, opened: list[socket.socket]) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", mock.port), timeout=BOUND)
    opened.append(client)
    return client


# A whole valid payout, sent in ways whose body never ends: the old path read a body cut short (the client
# gone) as whole and would have created it.
NEVER_ENDING = {
    "one byte short of its length": create_head(b"content-length: %d" % (len(PAYOUT) + 1)) + PAYOUT,
    "chunked, the last chunk never sent": create_head(b"transfer-encoding: chunked")
    + b"%x\r\n" % len(PAYOUT)
    + PAYOUT
    + b"\r\n",
}


@pytest.mark.parametrize("sent", list(NEVER_ENDING), ids=list(NEVER_ENDING))
def test_a_body_that_never_ends_gets_408_and_creates_nothing(
    mock: MockServer, connect: list[socket.socket], sent: str
) -> None:
    client = _open(mock, connect)
    client.sendall(NEVER_ENDING[sent])

    assert_too_slow(reply_of(client))
    assert mock.stats()["payouts_total"] == 0
    with httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=BOUND) as api:  # others are served
        assert api.post("/payouts", content=PAYOUT, headers={"Content-Type": "application/json"}).status_code == 201


@pytest.mark.parametrize("path", [b"/v1/payouts", b"/_mock/reset"])
def test_a_client_that_leaves_mid_body_has_nothing_acted_on(
    mock: MockServer, connect: list[socket.socket], path: bytes
) -> None:
    """A whole valid body one byte short of its `Content-Length`, then the client closes: the app read the
    disconnect as the body's end and created the payout (or reset the mock) for a request nobody finished."""
    mock.arm_fault("retrieve_payout", "status", status=503)  # something a reset would clear
    client = _open(mock, connect)
    client.sendall(create_head(b"content-length: %d" % (len(PAYOUT) + 1)).replace(b"/v1/payouts", path) + PAYOUT)
    time.sleep(0.2)  # the body's first part is read and handed to the app, which waits for the rest
    client.close()
    time.sleep(0.5)  # the disconnect reaches the app (the old app acted on the body then)

    assert mock.stats()["payouts_total"] == 0
    assert mock.app.faults.pending() == {"retrieve_payout": 1}


def test_a_body_never_sent_after_100_continue_gets_408(mock: MockServer, connect: list[socket.socket]) -> None:
    """`Expect: 100-continue`: the client waits for the go-ahead, gets it, and then sends only part of the body."""
    client = _open(mock, connect)
    client.sendall(create_head(b"expect: 100-continue", b"content-length: %d" % (len(PAYOUT) + 1)))
    client.settimeout(BOUND)
    go_ahead = b"HTTP/1.1 100 Continue\r\n\r\n"
    received = b""
    while len(received) < len(go_ahead):
        chunk = client.recv(len(go_ahead) - len(received))
        assert chunk, f"closed after {received!r}"
        received += chunk
    assert received == go_ahead
    client.sendall(PAYOUT)

    assert_too_slow(reply_of(client))
    assert mock.stats()["payouts_total"] == 0


def test_a_body_sent_a_byte_at_a_time_is_cut_off_at_the_body_time(
    mock: MockServer, connect: list[socket.socket]
) -> None:
    """The time is for the whole body, not between two reads: a byte every 0.2 s never ends it in time."""
    client = _open(mock, connect)
    client.sendall(create_head(b"content-length: 1000"))
    stop = threading.Event()

    def drip() -> None:
        with contextlib.suppress(OSError):
            while not stop.wait(0.2):
                client.sendall(b" ")

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        reply = reply_of(client)
    finally:
        stop.set()
        dripper.join(timeout=BOUND)
    assert_too_slow(reply)


def test_many_stalled_bodies_are_each_closed(mock: MockServer, connect: list[socket.socket]) -> None:
    """The reviewer's case: 20 connections, a whole head with `Content-Length: 1000`, one byte of body."""
    stalled = [_open(mock, connect) for _ in range(20)]
    for client in stalled:
        client.sendall(create_head(b"content-length: 1000") + b"{")
    for client in stalled:
        assert_too_slow(reply_of(client))
    assert mock.stats()["payouts_total"] == 0


def test_slow_bodies_within_their_time_are_served_on_one_connection(
    mock: MockServer, connect: list[socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each request's body has its own time from the end of its head: the second one, begun well after the first,
    is not cut off when the first one's time ends."""
    monkeypatch.setattr(http_protocol, "BODY_SECONDS", 4.0)
    client = _open(mock, connect)
    client.settimeout(BOUND)
    for _ in range(2):
        client.sendall(create_head(b"content-length: %d" % len(PAYOUT)) + PAYOUT[:10])
        time.sleep(2.5)  # past half the time: the second body ends 5 s after the first head, past its time
        client.sendall(PAYOUT[10:])
        head, _ = read_reply(client)
        assert head.startswith(b"HTTP/1.1 201 Created"), head
    assert mock.stats()["payouts_total"] == 2


def test_a_body_behind_a_request_still_served_waits_without_its_time_running(
    mock: MockServer, connect: list[socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create held by a delay fault longer than the body time, and behind it in the same write a create whose
    body ends only once the first is answered: the connection does not read meanwhile, so the second body's time
    runs from the first reply. A 408 then would have passed for the first create's reply (made, read as refused)."""
    monkeypatch.setattr(http_protocol, "BODY_SECONDS", 2.0)
    mock.arm_fault("create_payout", "delay_before_reply", delay=3.0)
    first = create_head(b"content-length: %d" % len(PAYOUT)) + PAYOUT
    second = create_head(b"content-length: %d" % len(PAYOUT))
    client = _open(mock, connect)
    client.settimeout(BOUND)
    client.sendall(first + second + PAYOUT[:10])

    head, _ = read_reply(client)
    assert head.startswith(b"HTTP/1.1 201 Created"), head
    time.sleep(1.4)  # within the time from the first reply (3 s), past the time from the last wait's check (4 s)
    client.sendall(PAYOUT[10:])
    head, _ = read_reply(client)
    assert head.startswith(b"HTTP/1.1 201 Created"), head
    assert mock.stats()["payouts_total"] == 2


@pytest.mark.parametrize("pause", [0.0, 0.3], ids=["in the same write", "while the reply is delayed"])
def test_a_client_that_half_closes_after_a_whole_request_gets_its_reply(
    mock: MockServer, connect: list[socket.socket], pause: float
) -> None:
    """A client may shut its sending side once its request is sent (SHUT_WR): the create was stored and its reply
    never sent (uvicorn closed the connection on the end of input), so a retry without a key would pay twice
    (sixteenth review). The reply comes, then the connection closes."""
    if pause:
        mock.arm_fault("create_payout", "delay_before_reply", delay=1.0)
    client = _open(mock, connect)
    client.sendall(create_head(b"content-length: %d" % len(PAYOUT)) + PAYOUT)
    time.sleep(pause)
    client.shutdown(socket.SHUT_WR)
    reply = reply_of(client)
    assert reply.startswith(b"HTTP/1.1 201 Created"), reply[:200]
    assert json.loads(reply.partition(b"\r\n\r\n")[2])["v1/payout"]["amount"] == 1000
    assert mock.stats()["created"] == 1


def _chunked_create(*trailers: bytes, authorization: bool = True) -> bytes:
    head = create_head(b"transfer-encoding: chunked")
    if not authorization:
        head = head.replace(b"authorization: Bearer " + API_KEY.encode() + b"\r\n", b"")
    return head + b"%x\r\n" % len(PAYOUT) + PAYOUT + b"\r\n0\r\n" + b"".join(t + b"\r\n" for t in trailers) + b"\r\n"


@pytest.mark.parametrize(("sent", "status"), [
    (_chunked_create(b"authorization: Bearer " + API_KEY.encode(), authorization=False), b"401"),
    (_chunked_create(b"prefer: code=503"), b"201"),
], ids=["a key only in a trailer", "a fault asked in a trailer"])
def test_a_chunked_bodys_trailers_are_no_headers_of_the_request(
    mock: MockServer, connect: list[socket.socket], sent: bytes, status: bytes
) -> None:
    """uvicorn added a chunked body's trailer fields to the request's headers: a key sent only in a trailer
    authenticated the request, a `Prefer` there armed a fault (sixteenth review)."""
    client = _open(mock, connect)
    client.sendall(sent)
    head, _ = read_reply(client)
    assert head.split(b" ", 2)[1] == status, head[:200]


def test_endless_trailer_lines_grow_no_headers(mock: MockServer, connect: list[socket.socket]) -> None:
    """Trailer lines without end grew the request's headers by gigabytes until the body time ran out: they are
    dropped, and the request is cut at its body time like any body that never ends."""
    client = _open(mock, connect)
    client.sendall(create_head(b"transfer-encoding: chunked") + b"%x\r\n" % len(PAYOUT) + PAYOUT + b"\r\n0\r\n")
    for _ in range(20):
        client.sendall(b"".join(b"x-t%d: %s\r\n" % (i, b"v" * 100) for i in range(500)))
    assert_too_slow(reply_of(client))
    assert mock.stats()["created"] == 0


@pytest.mark.parametrize("upgrade", [b"h2c", b"websocket"])
def test_an_upgrade_request_is_answered_by_the_mock_not_failed_by_the_parser(
    mock: MockServer, connect: list[socket.socket], upgrade: bytes
) -> None:
    """uvicorn reads an `Upgrade` request's header fields while its body comes: dropping trailer fields must leave
    them readable (a first way of dropping them made every such request uvicorn's 'Invalid HTTP request')."""
    client = _open(mock, connect)
    client.sendall(create_head(b"connection: Upgrade", b"upgrade: " + upgrade, b"content-length: %d" % len(PAYOUT))
                   + PAYOUT)
    head, body = read_reply(client)
    assert b"content-type: application/json" in head.split(b"\r\n"), head
    assert "message" in json.loads(body)
