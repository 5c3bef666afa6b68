"""Issue 15, item 5: the sync client sends each request in one socket write (`_socket_deadline.py`).

httpcore writes a request's head and body separately (two segments, two wake-ups of the server);
the client's sockets hold them until the reply is read. Counted at httpcore's own socket stream,
against a real keep-alive server on loopback; plain httpx on the same server shows the two writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpcore._backends.sync as sync_backend
import httpx
import pytest
from fedapay_payouts import CustomerParams, FedaPay

from tests.client.keepalive_server import KeepAliveServer

API_KEY = "sk_sandbox_writes"
CUSTOMER: CustomerParams = {"firstname": "Ada", "lastname": "Lovelace"}


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every buffer httpcore's sync socket stream sends (an empty one sends nothing, and is not counted)."""
    seen: list[bytes] = []
    original = sync_backend.SyncStream.write

    def write(self: Any, buffer: bytes, timeout: float | None = None) -> None:
        if buffer:
            seen.append(buffer)
        original(self, buffer, timeout)

    monkeypatch.setattr(sync_backend.SyncStream, "write", write)
    return seen


@pytest.fixture
def server() -> Iterator[KeepAliveServer]:
    running = KeepAliveServer()
    yield running
    running.close()


def test_each_request_leaves_in_one_write(writes: list[bytes], server: KeepAliveServer) -> None:
    with httpx.Client() as plain:
        plain.post(server.base_url + "/payouts", json={"amount": 1000}).raise_for_status()
    assert len(writes) == 2  # httpx alone: the head, then the body
    writes.clear()
    with FedaPay(API_KEY, base_url=server.base_url, max_retries=0) as client:
        created = [client.payouts.create(amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER)
                   for _ in range(3)]
        assert client.payouts.retrieve(created[0].id).id == created[0].id
    assert len(writes) == 4  # three creates and a retrieve, one write each
    keys: set[str] = set()
    for sent in writes[:3]:
        head, _, body = sent.partition(b"\r\n\r\n")
        lines = head.decode().lower().split("\r\n")
        assert lines[0] == "post /v1/payouts http/1.1"
        assert f"content-length: {len(body)}" in lines
        assert body.startswith(b'{"amount":1000,')
        keys.update(line for line in lines if line.startswith("idempotency-key: "))
    assert len(keys) == 3  # three whole requests, each with its own key
    assert writes[3].startswith(b"GET /v1/payouts/2 HTTP/1.1\r\n")
    assert writes[3].endswith(b"\r\n\r\n")
    assert [what for _, what in server.requests] == [
        "POST /v1/payouts", "POST /v1/payouts", "POST /v1/payouts", "POST /v1/payouts", "GET /v1/payouts/2"
    ]
