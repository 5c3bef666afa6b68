"""A process forked after a call opens its own connections (fedapay_payouts/_slots.py, `_after_fork`).

The child inherited its parent's kept-alive connections: both processes' requests interleaved on one socket,
and each read the other's replies (a create answered with the other process's payout, taken for success when
the reply differed only where the client does not compare). The child now forgets them and opens its own.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

import pytest
from fedapay_payouts import FedaPay

from tests.client.client_support import API_KEY, CUSTOMER

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

CALLS = 25


def _creates(client: FedaPay, who: str) -> list[str]:
    """`CALLS` creates tagged `who`; the tags the replies carry back."""
    order: dict[str, Any] = {"amount": 1000, "currency": "XOF", "mode": "moov", "customer": CUSTOMER}
    tags = []
    for n in range(CALLS):
        payout = client.payouts.create(**order, custom_metadata={"who": who, "n": n})
        tags.append(f"{payout.custom_metadata.additional_properties['who']}-{n}")  # type: ignore[union-attr]
    return tags


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")
def test_a_forked_child_opens_its_own_connections_and_each_process_reads_its_own_replies(
    fedapay_mock: MockServer,
) -> None:
    with FedaPay(API_KEY, base_url=fedapay_mock.base_url, max_in_flight=1) as client:
        client.payouts.list()  # a kept-alive connection on the one place, inherited by the child
        [place] = client._turns.slots
        assert place.transport is not None
        pid = os.fork()
        if pid == 0:  # the child: its verdict is its exit status; nothing of pytest runs here
            code = 1
            try:
                fresh = place.transport is None
                own = _creates(client, "child") == [f"child-{n}" for n in range(CALLS)]
                code = 0 if fresh and own else 3
            finally:
                os._exit(code)
        mine = _creates(client, "parent")
        _, status = os.waitpid(pid, 0)
    assert mine == [f"parent-{n}" for n in range(CALLS)]
    assert os.waitstatus_to_exitcode(status) == 0


def _message(stream: IO[bytes]) -> tuple[bytes, bytes] | None:
    """One HTTP/1.1 message with a Content-Length body: (start line and headers, body), None at the end."""
    head = stream.readline()
    if not head:
        return None
    length = 0
    while (line := stream.readline()) not in (b"\r\n", b"\n", b""):
        head += line
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head + b"\r\n", stream.read(length)


@contextlib.contextmanager
def forward_proxy(origin: tuple[str, int]) -> Iterator[tuple[str, list[int]]]:
    """A keep-alive forwarding proxy on loopback (absolute-form requests, one origin connection per client
    connection), as HTTP_PROXY names one; yields its URL and the client ports of the connections it served."""
    listener = socket.create_server(("127.0.0.1", 0))
    ports: list[int] = []

    def serve(client: socket.socket, port: int) -> None:
        with client, socket.create_connection(origin) as upstream, client.makefile("rb") as reading, \
                upstream.makefile("rb") as answers, contextlib.suppress(OSError):
            while (request := _message(reading)) is not None:
                head, body = request
                method, target, rest = head.split(b" ", 2)
                upstream.sendall(method + b" /" + target.split(b"/", 3)[3] + b" " + rest + body)
                reply = _message(answers)
                if reply is None:
                    return
                client.sendall(reply[0] + reply[1])

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                client, (_, port) = listener.accept()
                ports.append(port)
                threading.Thread(target=serve, args=(client, port), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", ports
    finally:
        listener.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")
def test_a_forked_child_does_not_share_its_parents_proxy_connection(
    fedapay_mock: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through a proxy the environment names, requests go by httpx's proxy mount, not the places: its pool's
    kept-alive connection was shared after a fork, and each process got the other's payouts (twelfth review)."""
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with forward_proxy(("127.0.0.1", fedapay_mock.port)) as (proxy, ports):
        monkeypatch.setenv("HTTP_PROXY", proxy)
        client = FedaPay(API_KEY, base_url=fedapay_mock.base_url)
        client.payouts.list()  # the proxy mount's kept-alive connection, inherited by the child
        [mount] = client._http._mounts.values()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                fresh = mount._pool._connections == []  # type: ignore[union-attr]
                own = _creates(client, "child") == [f"child-{n}" for n in range(CALLS)]
                code = 0 if fresh and own else 3
            finally:
                os._exit(code)
        mine = _creates(client, "parent")
        _, status = os.waitpid(pid, 0)
        client.close()
    assert mine == [f"parent-{n}" for n in range(CALLS)]
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(ports) == 2  # the parent's connection, then the child's own
