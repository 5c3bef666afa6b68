"""The busiest requests (create, start) are answered at once, without uvicorn's ASGI cycle (`MockApp.serve_now`,
called by the runner's protocol when such a request is complete in the read that ends it), with the very reply
the cycle gives: same status, same header fields in the same order, same body, same closing of the connection.

Each request is sent twice on a real served mock, raw sockets on loopback: whole in one write (answered at
once), and with `Expect: 100-continue`, its body sent only after the server's `100 Continue`, which only
uvicorn's cycle writes (so that copy surely took the cycle). Which path answered is read from a recorder
around the app's `serve_now` (it passes everything through unchanged): a test of the protocol's choice, not a
stand-in for the app.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fedapay_mock import MockServer, run_mock
from fedapay_mock.asgi import Encoded, Fields, ServeNow
from fedapay_mock.server import AsgiServer

from tests.mock.mock_support import API_KEY, payout_body, read_reply, read_until_closed

TIMEOUT = 10.0
KEY = b"authorization: Bearer " + API_KEY.encode() + b"\r\n"
PAYOUT: dict[str, Any] = payout_body()
# Fields that differ between two payouts created alike (their ids and what is named after them).
VOLATILE = {"id", "reference", "customer_id", "transaction_key"}


class AtOnce:
    """The app's `serve_now`, recorded: the requests it was asked for and whether it answered them."""

    def __init__(self, serve_now: ServeNow) -> None:
        self.serve_now = serve_now
        self.calls: list[tuple[str, bytes, bool]] = []

    def __call__(self, method: str, raw_path: bytes, query: bytes, fields: Fields, body: bytes) -> Encoded | None:
        reply = self.serve_now(method, raw_path, query, fields, body)
        self.calls.append((method, raw_path, reply is not None))
        return reply


@pytest.fixture
def served() -> Iterator[tuple[MockServer, AtOnce]]:
    """A fresh mock (ids from 1) whose `serve_now` is recorded; set before any connection reads it."""
    with run_mock(freeze_clock=True, max_payouts_per_number=None) as mock:
        recorder = AtOnce(mock.app.serve_now)
        mock.app.serve_now = recorder  # type: ignore[method-assign,assignment]
        yield mock, recorder


def http(method: str, path: str, body: bytes = b"", *, extra: bytes = b"", version: bytes = b"1.1") -> bytes:
    head = b"%s %s HTTP/%s\r\nhost: test\r\ncontent-type: application/json\r\n" % (
        method.encode(),
        path.encode(),
        version,
    )
    return head + extra + b"content-length: %d\r\n\r\n" % len(body) + body


def exchange(mock: MockServer, request: bytes, *, after_continue: bool) -> tuple[bytes, Any, bool]:
    """Send `request` whole, or its head first with `Expect: 100-continue` and its body once the server's
    `100 Continue` came (the cycle's path; a reply instead of it is the reply, the body then never sent). The
    reply's head, its body (JSON read), and whether the server closed the connection after it."""
    head, _, body = request.partition(b"\r\n\r\n")
    with socket.create_connection(("127.0.0.1", mock.port), timeout=TIMEOUT) as client:
        if after_continue:
            client.sendall(head + b"\r\nexpect: 100-continue\r\n\r\n")
            first = _head(client)
            if first == b"HTTP/1.1 100 Continue":
                client.sendall(body)
                reply_head, reply_body = read_reply(client)
            else:
                reply_head, reply_body = first, _body(client, first)
        else:
            client.sendall(request)
            reply_head, reply_body = read_reply(client)
        client.settimeout(0.2)  # a closing server closes in the turn it replies; an open one waits 5 s
        try:
            closed = client.recv(1) == b""
        except TimeoutError:
            closed = False
        except ConnectionResetError:
            closed = True
    return reply_head, json.loads(reply_body) if reply_body.startswith(b"{") else reply_body, closed


def _head(client: socket.socket) -> bytes:
    """The next head on `client`, read a byte at a time (nothing after it is taken)."""
    data = b""
    while not data.endswith(b"\r\n\r\n"):
        chunk = client.recv(1)
        assert chunk, f"the connection closed after {data!r}"
        data += chunk
    return data[:-4]


def _body(client: socket.socket, head: bytes) -> bytes:
    length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))[15:])
    body = b""
    while len(body) < length:
        chunk = client.recv(length - len(body))
        assert chunk, "the connection closed inside the body"
        body += chunk
    return body


def steady(value: Any) -> Any:
    """`value` without the fields two payouts created alike differ in."""
    if isinstance(value, dict):
        return {key: steady(item) for key, item in value.items() if key not in VOLATILE}
    if isinstance(value, list):
        return [steady(item) for item in value]
    return value


def same_reply(whole: tuple[bytes, Any, bool], cycled: tuple[bytes, Any, bool]) -> None:
    """The same status line, header fields in the same order (the request id aside: a new one per reply; the
    length checked against each body), the same body (the ids aside) and the same closing."""
    first, second = whole[0].split(b"\r\n"), cycled[0].split(b"\r\n")
    assert [line.partition(b":")[0] for line in first] == [line.partition(b":")[0] for line in second]
    varying = (b"x-request-id:", b"content-length:")
    assert [line for line in first if not line.startswith(varying)] == [
        line for line in second if not line.startswith(varying)
    ]
    assert steady(whole[1]) == steady(cycled[1])
    assert whole[2] is cycled[2]


BODY = json.dumps(PAYOUT).encode()
CASES = {
    "a create": (http("POST", "/v1/payouts", BODY, extra=KEY), b"HTTP/1.1 201 Created", False),
    "a create the spec refuses": (
        http("POST", "/v1/payouts", json.dumps({**PAYOUT, "amount": -5}).encode(), extra=KEY),
        b"HTTP/1.1 422 Unprocessable Entity",
        False,
    ),
    "a create without a key": (http("POST", "/v1/payouts", BODY), b"HTTP/1.1 401 Unauthorized", False),
    "a create that closes its connection": (
        http("POST", "/v1/payouts", BODY, extra=KEY + b"connection: close\r\n"),
        b"HTTP/1.1 201 Created",
        True,
    ),
    "an HTTP/1.0 create": (http("POST", "/v1/payouts", BODY, extra=KEY, version=b"1.0"), b"HTTP/1.1 201 Created", True),
    # One copy silently won: a wrong key then the right one was served, and a create with two Idempotency-Keys
    # was stored under the last (a retry with the first made a second payout).
    "a create with the key twice": (
        http("POST", "/v1/payouts", BODY, extra=b"authorization: Bearer sk_sandbox_wrong\r\n" + KEY),
        b"HTTP/1.1 400 Bad Request",
        False,
    ),
    "a create with two idempotency keys": (
        http("POST", "/v1/payouts", BODY, extra=KEY + b"idempotency-key: a1\r\nIdempotency-Key: a2\r\n"),
        b"HTTP/1.1 400 Bad Request",
        False,
    ),
    "a create with its content type twice": (
        http("POST", "/v1/payouts", BODY, extra=KEY + b"content-type: text/plain\r\n"),
        b"HTTP/1.1 400 Bad Request",
        False,
    ),
    "a start of an unknown payout": (
        http("PUT", "/v1/payouts/start", b'{"payouts": [{"id": 999}]}', extra=KEY),
        b"HTTP/1.1 404 Not Found",
        False,
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_whole_request_is_answered_at_once_with_the_reply_the_cycle_gives(
    served: tuple[MockServer, AtOnce], case: str
) -> None:
    mock, at_once = served
    request, status, closes = CASES[case]
    whole = exchange(mock, request, after_continue=False)
    assert [answered for *_, answered in at_once.calls] == [True]  # answered at once
    cycled = exchange(mock, request, after_continue=True)
    assert len(at_once.calls) == 1  # the second copy took the cycle
    assert whole[0].partition(b"\r\n")[0] == status
    assert (b"connection: close" in whole[0].split(b"\r\n")) is closes
    assert whole[2] is closes
    same_reply(whole, cycled)


def test_a_whole_start_is_answered_at_once_and_the_payout_is_started(served: tuple[MockServer, AtOnce]) -> None:
    mock, at_once = served
    for _ in range(2):
        assert exchange(mock, http("POST", "/v1/payouts", BODY, extra=KEY), after_continue=False)[0].startswith(
            b"HTTP/1.1 201"
        )
    whole = exchange(
        mock, http("PUT", "/v1/payouts/start", b'{"payouts": [{"id": 1}]}', extra=KEY), after_continue=False
    )
    cycled = exchange(
        mock, http("PUT", "/v1/payouts/start", b'{"payouts": [{"id": 2}]}', extra=KEY), after_continue=True
    )
    assert [answered for *_, answered in at_once.calls] == [True, True, True]
    assert whole[0].startswith(b"HTTP/1.1 200 OK")
    assert [payout["status"] for payout in whole[1]["v1/payouts"]] == ["started"]
    same_reply(whole, cycled)


def test_pipelined_requests_across_both_paths_are_answered_in_order(served: tuple[MockServer, AtOnce]) -> None:
    """One write: a create (at once), a retrieve of it (the cycle), a create queued behind that retrieve (the
    cycle: its reply must not pass the one before), a start, a retrieve of the second payout."""
    mock, at_once = served
    other = json.dumps({**PAYOUT, "customer": {**PAYOUT["customer"], "firstname": "Grace"}}).encode()
    requests = [
        http("POST", "/v1/payouts", BODY, extra=KEY),
        http("GET", "/v1/payouts/1", extra=KEY),
        http("POST", "/v1/payouts", other, extra=KEY),
        http("PUT", "/v1/payouts/start", b'{"payouts": [{"id": 1}]}', extra=KEY),
        http("GET", "/v1/payouts/2", extra=KEY),
    ]
    with socket.create_connection(("127.0.0.1", mock.port), timeout=TIMEOUT) as client:
        client.sendall(b"".join(requests))
        replies = [(head, _body(client, head)) for head in (_head(client) for _ in requests)]
    statuses = [head.partition(b"\r\n")[0] for head, _ in replies]
    assert statuses == [
        b"HTTP/1.1 201 Created",
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 201 Created",
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 200 OK",
    ]
    bodies = [json.loads(body) for _, body in replies]
    assert [bodies[0]["v1/payout"]["id"], bodies[1]["v1/payout"]["id"], bodies[2]["v1/payout"]["id"]] == [1, 1, 2]
    assert [(bodies[3]["v1/payouts"][0]["id"], bodies[3]["v1/payouts"][0]["status"])] == [(1, "started")]
    assert (bodies[4]["v1/payout"]["id"], bodies[4]["v1/payout"]["status"]) == (2, "pending")
    assert at_once.calls == [("POST", b"/v1/payouts", True)]  # the rest waited behind the retrieve's cycle
    assert mock.stats()["payouts_total"] == 2


def test_a_body_larger_than_a_read_takes_the_cycle_and_is_answered_once(served: tuple[MockServer, AtOnce]) -> None:
    mock, at_once = served
    large = json.dumps({**PAYOUT, "description": "x" * 100_000}).encode()
    whole = exchange(mock, http("POST", "/v1/payouts", large, extra=KEY), after_continue=False)
    cycled = exchange(mock, http("POST", "/v1/payouts", large, extra=KEY), after_continue=True)
    assert at_once.calls == []  # past what one read holds: the cycle's flow control and limits
    same_reply(whole, cycled)


def test_an_app_that_fails_gets_uvicorns_500_on_both_paths_and_the_connection_closes(
    served: tuple[MockServer, AtOnce], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mock has no failure a client can cause (that would be its bug), so the store is made to fail here: a
    failure inside the protocol's parser callbacks was the parser's 400 'Invalid HTTP request' (a server bug
    shown as the client's). It is uvicorn's 500, logged, the connection closed, whichever path served."""
    mock, _ = served

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the store failed")

    monkeypatch.setattr(mock.app.store, "create", broken)
    failures: list[logging.LogRecord] = []

    class Kept(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            failures.append(record)

    handler = Kept()
    logger = logging.getLogger("uvicorn.error")  # uvicorn's own: it does not propagate to pytest's capture
    logger.addHandler(handler)
    try:
        whole = exchange(mock, http("POST", "/v1/payouts", BODY, extra=KEY), after_continue=False)
        cycled = exchange(mock, http("POST", "/v1/payouts", BODY, extra=KEY), after_continue=True)
    finally:
        logger.removeHandler(handler)
    assert whole[0].partition(b"\r\n")[0] == b"HTTP/1.1 500 Internal Server Error"
    assert whole[1:] == (b"Internal Server Error", True)
    assert whole == cycled
    logged = [record for record in failures if record.getMessage().startswith("Exception in ASGI application")]
    assert len(logged) == 2
    assert all(record.exc_info and "the store failed" in str(record.exc_info[1]) for record in logged)


def _existing_payout(mock: MockServer) -> None:
    """Payout 1, pending, made through the ASGI path (its body after the `100 Continue`)."""
    assert exchange(mock, http("POST", "/v1/payouts", BODY, extra=KEY), after_continue=True)[0].startswith(
        b"HTTP/1.1 201"
    )


START_1 = http("PUT", "/v1/payouts/start", b'{"payouts": [{"id": 1}]}', extra=KEY)


@pytest.mark.parametrize(
    "closing",
    ["an HTTP/1.0 create asking to keep alive", "a 413 answered at once", "a failure answered at once"],
)
def test_a_reply_that_closes_the_connection_ends_what_the_same_write_carried_after_it(
    closing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a reply that closes the connection nothing more is read, as on the ASGI path. The parser went on
    through the rest of the write: a start pipelined behind it was made (and its reply dropped), so the client
    saw one reply while a payout it never heard of went out (seventeenth review)."""
    settings: dict[str, Any] = {"max_body_bytes": 400} if closing == "a 413 answered at once" else {}
    with run_mock(freeze_clock=True, max_payouts_per_number=None, **settings) as mock:
        _existing_payout(mock)
        if closing == "an HTTP/1.0 create asking to keep alive":  # llhttp reads on; uvicorn closes any 1.0
            first = http("POST", "/v1/payouts", BODY, extra=KEY + b"connection: keep-alive\r\n", version=b"1.0")
        elif closing == "a 413 answered at once":
            first = http("POST", "/v1/payouts", json.dumps({**PAYOUT, "description": "x" * 500}).encode(), extra=KEY)
        else:
            monkeypatch.setattr(mock.app.store, "create", lambda *args, **kwargs: 1 / 0)
            first = http("POST", "/v1/payouts", BODY, extra=KEY)
        with socket.create_connection(("127.0.0.1", mock.port), timeout=TIMEOUT) as client:
            client.sendall(first + START_1 + http("GET", "/v1/payouts/1", extra=KEY))
            everything = read_until_closed(client, TIMEOUT)
        assert everything.count(b"HTTP/1.1 ") == 1, everything
        assert mock.stats()["started"] == 0
        assert mock.stats()["requests"].get("start_payouts", 0) == 0


def test_a_request_pipelined_behind_a_reply_answered_at_once_keeps_its_connection_while_served() -> None:
    """A reply answered at once armed the connection's keep-alive timer, and a request pipelined behind it in the
    same write, still being served when the timer ran out, lost its connection: a create stored whose 201 never
    came (seventeenth review). The keep-alive time is made 1 s here (5 s by default) so the test waits less."""
    with run_mock(freeze_clock=True, max_payouts_per_number=None) as mock:
        mock._runner._server.config.timeout_keep_alive = 1  # read by each new connection
        mock.arm_fault("create_payout", "delay_before_reply", delay=1.5)
        unknown = http("PUT", "/v1/payouts/start", b'{"payouts": [{"id": 999}]}', extra=KEY)
        with socket.create_connection(("127.0.0.1", mock.port), timeout=TIMEOUT) as client:
            client.sendall(unknown + http("POST", "/v1/payouts", BODY, extra=KEY))
            replies = [(head, _body(client, head)) for head in (_head(client) for _ in range(2))]
        statuses = [head.partition(b"\r\n")[0] for head, _ in replies]
        assert statuses == [b"HTTP/1.1 404 Not Found", b"HTTP/1.1 201 Created"]
        assert mock.stats()["payouts_total"] == 1


class OwnApp:
    """An app of one's own offering `serve_now` for `POST /` and `HEAD /`, with the reply a test sets; its ASGI
    path answers `asgi` (so a request that took the cycle shows)."""

    direct_routes = frozenset({("POST", b"/"), ("HEAD", b"/")})

    def __init__(self, reply: Encoded) -> None:
        self.reply = reply

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4")]})
        await send({"type": "http.response.body", "body": b"asgi"})

    def serve_now(self, method: str, raw_path: bytes, query: bytes, fields: Fields, body: bytes) -> Encoded:
        return self.reply


HELLO = [(b"content-length", b"5")]


def served_by(app: OwnApp, request: bytes) -> bytes:
    """Everything `app`, served by the mock's runner, sends for `request` until the connection closes."""
    server = AsgiServer(app, lifespan="off")  # type: ignore[arg-type]
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as client:
            client.sendall(request)
            return read_until_closed(client, TIMEOUT)
    finally:
        server.stop()


@pytest.mark.parametrize(
    "reply",
    [
        (200, [(b"x-echo", b"a\r\nset-cookie: evil=1"), *HELLO], b"hello"),  # a header a CRLF splits
        (200, [(b"x-echo\r\nset-cookie", b"evil=1"), *HELLO], b"hello"),
        (200, [(b"content-type", b"text/plain")], b"hello"),  # no Content-Length: no end to the reply
        (200, [(b"content-length", b"9")], b"hello"),
        (200, [(b"content-length", b"five")], b"hello"),
        (999, HELLO, b"hello"),
    ],
    ids=["CRLF in a value", "CRLF in a name", "no length", "a wrong length", "a length not a number", "status 999"],
)
def test_a_reply_answered_at_once_is_checked_as_uvicorn_checks_one(reply: Encoded) -> None:
    """A reply the ASGI cycle refuses or would frame otherwise is uvicorn's 500 at once too, never written as
    given (a header injected, a reply the client cannot delimit; seventeenth review)."""
    everything = served_by(OwnApp(reply), b"POST / HTTP/1.1\r\nhost: test\r\ncontent-length: 0\r\n\r\n")
    assert everything.startswith(b"HTTP/1.1 500 Internal Server Error\r\n"), everything
    assert b"evil" not in everything
    assert b"hello" not in everything


def test_a_head_request_takes_the_cycle() -> None:
    everything = served_by(
        OwnApp((200, HELLO, b"hello")), b"HEAD / HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n"
    )
    # The ASGI path's reply, without a body.
    assert everything == b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\n"


@pytest.mark.parametrize("after_continue", [False, True], ids=["at once", "cycle"])
def test_a_header_the_mock_reads_given_twice_is_refused_naming_it_and_nothing_is_stored(
    served: tuple[MockServer, AtOnce], after_continue: bool
) -> None:
    mock, _ = served
    request = http("POST", "/v1/payouts", BODY, extra=KEY + b"Idempotency-Key: a1\r\nidempotency-key: a2\r\n")
    head, body, _ = exchange(mock, request, after_continue=after_continue)
    assert head.partition(b"\r\n")[0] == b"HTTP/1.1 400 Bad Request"
    assert body["message"] == "The Idempotency-Key header is given more than once."
    with socket.create_connection(("127.0.0.1", mock.port), timeout=TIMEOUT) as client:
        client.sendall(b"GET /v1/payouts HTTP/1.1\r\nhost: test\r\n" + KEY + b"\r\n")
        _, listed = read_reply(client)
    assert json.loads(listed)["v1/payouts"] == []
