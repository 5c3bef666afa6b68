"""A webhook receiver that answers slowly holds back no later event: each delivery has a deadline for the
whole of it (counted as failed past it), and a reset ends the delivery on its way.

The receiver here sends its reply's head, then one byte of the body at a time, forever: every read is quick,
so a per-read timeout never fires (it held every later event back, even after `reset()`).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fedapay_mock import run_mock
from fedapay_mock.webhooks import WebhookSender

from tests.mock.mock_support import AUTH, payout_body

SECRET = "whsec_test_secret_value"
BOUND = 20.0  # "does not hang": far above any deadline these tests rely on


class DripReceiver:
    """A webhook receiver on loopback: the first event's reply drips (a byte every 0.2 s, until the sender
    closes the connection), every later one is answered 200 at once. `events` holds each event received."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.first_closed = threading.Event()  # the sender gave up on the dripping reply
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/hooks"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            length = next(int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length"))
            while len(body) < length:
                body += conn.recv(65536)
            with self._lock:
                self.events.append(json.loads(body))
                first = len(self.events) == 1
            if not first:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                return
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                while not self._stop.wait(0.2):
                    conn.sendall(b"x")
            except OSError:
                self.first_closed.set()

    def wait_for(self, count: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.events) >= count:
                    return list(self.events)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} webhook events within {BOUND} s, got {len(self.events)}")

    def close(self) -> None:
        self._stop.set()
        self._listener.close()


@pytest.fixture
def receiver() -> Iterator[DripReceiver]:
    received = DripReceiver()
    try:
        yield received
    finally:
        received.close()


async def _until(check: Any) -> None:
    deadline = time.monotonic() + BOUND
    while not check():
        assert time.monotonic() < deadline, "did not happen in time"
        await asyncio.sleep(0.02)


def test_a_dripping_reply_past_the_deadline_is_a_failed_delivery_and_the_next_event_goes(
    receiver: DripReceiver,
) -> None:
    async def scenario() -> tuple[int, int]:
        sender = WebhookSender(receiver.url, SECRET, timeout=1.0)
        sender.start()
        try:
            sender.enqueue("payout.created", {"id": 1, "account_id": 7})
            sender.enqueue("payout.created", {"id": 2, "account_id": 7})
            await _until(lambda: sender.delivered + sender.failed == 2)
            return sender.delivered, sender.failed
        finally:
            await sender.stop()

    delivered, failed = asyncio.run(scenario())

    assert (delivered, failed) == (1, 1)
    assert [event["entity"]["id"] for event in receiver.events] == [1, 2]
    assert receiver.first_closed.wait(BOUND)  # the sender hung up on the dripping reply


def test_reset_ends_the_delivery_on_its_way_long_before_its_deadline(receiver: DripReceiver) -> None:
    async def scenario() -> tuple[int, int]:
        sender = WebhookSender(receiver.url, SECRET, timeout=3600.0)  # only the reset can end the first
        sender.start()
        try:
            sender.enqueue("payout.created", {"id": 1, "account_id": 7})
            await _until(lambda: len(receiver.events) == 1)
            sender.reset()
            sender.enqueue("payout.created", {"id": 2, "account_id": 7})
            await _until(lambda: sender.delivered == 1)
            return sender.delivered, sender.failed
        finally:
            await sender.stop()

    assert asyncio.run(scenario()) == (1, 0)  # the ended delivery is the old state's: not counted
    assert [event["entity"]["id"] for event in receiver.events] == [1, 2]


def test_the_next_tests_events_arrive_after_a_reset_of_the_served_mock(receiver: DripReceiver) -> None:
    with (
        run_mock(webhook_url=receiver.url, webhook_secret=SECRET, freeze_clock=True, settle_seconds=60) as mock,
        httpx.Client(base_url=mock.base_url, headers=AUTH) as api,
    ):
        assert api.post("/payouts", json=payout_body(amount=1000)).status_code == 201
        receiver.wait_for(1)  # its reply now drips
        mock.reset()  # the next test begins
        assert api.post("/payouts", json=payout_body(amount=777)).status_code == 201

        events = receiver.wait_for(2)

        assert [event["entity"]["amount"] for event in events] == [1000, 777]
        deadline = time.monotonic() + BOUND
        while mock.stats()["webhooks"]["delivered"] < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert mock.stats()["webhooks"] == {"delivered": 1, "failed": 0}
