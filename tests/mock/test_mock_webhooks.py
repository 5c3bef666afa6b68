"""Webhooks: each status change is POSTed as an event signed with HMAC-SHA256 of `t.body`."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fedapay_mock import run_mock
from fedapay_mock.webhooks import sign

from tests.mock.mock_support import AUTH, payout_body

SECRET = "whsec_test_secret_value"


class Receiver:
    def __init__(self) -> None:
        self.events: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.events) >= count:
                    return list(self.events)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} webhook events, got {len(self.events)}")


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    received = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with received.lock:
                received.events.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield received, f"http://127.0.0.1:{httpd.server_address[1]}/hooks"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _verify(headers: dict[str, str], body: bytes) -> None:
    t_part, s_part = headers["x-fedapay-signature"].split(",")
    assert t_part.startswith("t=")
    assert s_part.startswith("s=")
    timestamp = int(t_part[2:])
    assert abs(time.time() - timestamp) < 300
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(s_part[2:], expected)


def test_status_changes_arrive_signed_and_in_order(receiver: tuple[Receiver, str]) -> None:
    received, url = receiver
    with run_mock(webhook_url=url, webhook_secret=SECRET, freeze_clock=True, settle_seconds=60) as mock:
        api = httpx.Client(base_url=mock.base_url, headers=AUTH)
        good = api.post("/payouts", json=payout_body()).json()["v1/payout"]
        bad_body = payout_body(
            customer={"firstname": "A", "lastname": "B", "phone_number": {"number": "97000000", "country": "bj"}}
        )
        bad = api.post("/payouts", json=bad_body).json()["v1/payout"]
        api.put("/payouts/start", json=[{"id": good["id"]}, {"id": bad["id"]}]).raise_for_status()
        received.wait_for(4)
        mock.advance_clock(60)
        events = received.wait_for(6)
        assert mock.stats()["webhooks"] == {"delivered": 6, "failed": 0}
        api.close()
    names = []
    for headers, body in events:
        _verify(headers, body)
        assert headers["content-type"] == "application/json"
        event = json.loads(body)
        assert event["object"] == "payout"
        assert event["entity"]["klass"] == "v1/payout"
        names.append((event["name"], event["entity"]["id"], event["entity"]["status"]))
    assert names == [
        ("payout.created", 1, "pending"),
        ("payout.created", 2, "pending"),
        ("payout.started", 1, "started"),
        ("payout.started", 2, "started"),
        ("payout.sent", 1, "sent"),
        ("payout.failed", 2, "failed"),
    ]
    assert all(SECRET not in h.get("x-fedapay-signature", "") for h, _ in events)


def test_the_signature_is_hmac_sha256_of_t_dot_body() -> None:
    body = b'{"name":"payout.sent"}'
    expected = hmac.new(b"k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("k", body, 1700000000) == f"t=1700000000,s={expected}"


def test_an_unreachable_receiver_is_counted_and_the_mock_keeps_serving() -> None:
    with run_mock(webhook_url="http://127.0.0.1:9/hooks", webhook_secret=SECRET) as mock:
        reply = httpx.post(mock.base_url + "/payouts", json=payout_body(), headers=AUTH)
        assert reply.status_code == 201
        deadline = time.monotonic() + 10
        while mock.stats()["webhooks"]["failed"] < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert mock.stats()["webhooks"] == {"delivered": 0, "failed": 1}
        assert "whsec" not in repr(mock.app.webhooks)


def test_reset_drops_queued_events_and_zeroes_the_counters_while_one_is_on_its_way() -> None:
    arrived: list[dict[str, Any]] = []
    first_in = threading.Event()
    release = threading.Event()

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            arrived.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            first_in.set()
            release.wait(10)  # the first delivery waits here while the test resets the mock
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/hooks"
    try:
        with run_mock(webhook_url=url, webhook_secret=SECRET) as mock, httpx.Client(
            base_url=mock.base_url, headers=AUTH
        ) as api:
            for _ in range(5):
                assert api.post("/payouts", json=payout_body(amount=1000)).status_code == 201
            assert first_in.wait(10)  # one event on its way, four queued
            mock.reset()
            assert mock.stats()["webhooks"] == {"delivered": 0, "failed": 0}
            release.set()
            assert api.post("/payouts", json=payout_body(amount=777)).status_code == 201
            deadline = time.monotonic() + 10
            while mock.stats()["webhooks"]["delivered"] < 1 and time.monotonic() < deadline:
                time.sleep(0.02)
            # In order: the event that was on its way (the receiver had it; the reset ended the mock's wait for
            # the reply, uncounted), then the event after the reset; none of the four.
            assert [event["entity"]["amount"] for event in arrived] == [1000, 777]
            assert mock.stats()["webhooks"] == {"delivered": 1, "failed": 0}
    finally:
        httpd.shutdown()
        httpd.server_close()
