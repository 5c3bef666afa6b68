"""Signed webhook events for status changes, as FedaPay sends them.

`X-FEDAPAY-SIGNATURE: t=<unix seconds>,s=<hex>` where `s` is HMAC-SHA256 of `"<t>.<raw body>"` with
the endpoint's secret. `t` is wall-clock time (not the mock clock) so that receivers checking a
tolerance against their own clock accept it. Deliveries run in one background task, in order, so each
has a deadline for the whole of it (`timeout`, 5 s): a receiver that answers a byte at a time cannot hold
back every later event. `reset` forgets what is queued and what was counted, and ends a delivery still on
its way: events of the state before it are never sent after it, and the next test's are not kept waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from typing import TYPE_CHECKING, Any

from .wire import dumps

if TYPE_CHECKING:
    import httpx

SIGNATURE_HEADER = "X-FEDAPAY-SIGNATURE"
# The most one delivery may take, start to end; past it the delivery counts as failed.
DELIVERY_SECONDS = 5.0
logger = logging.getLogger("fedapay_mock.webhooks")


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},s={digest}"


def event_body(name: str, payout: dict[str, Any]) -> bytes:
    return dumps(  # the one codec: a payout with integers beyond 64 bits is sent too
        {"name": name, "object": "payout", "entity": payout, "account": {"id": payout.get("account_id")}}
    )


class WebhookSender:
    """Queues events and POSTs them, signed, to one URL."""

    def __init__(self, url: str, secret: str, *, timeout: float = DELIVERY_SECONDS) -> None:
        self.url = url
        self._secret = secret
        self._timeout = timeout  # for a whole delivery: connect, send, and the receiver's entire reply
        # Each event with the generation it was queued in: `reset` starts a new one, and older events are dropped.
        self._queue: asyncio.Queue[tuple[int, bytes]] | None = None
        self._generation = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        # The delivery on its way: its event's generation and its deadline (which `reset` moves to now).
        self._in_flight: tuple[int, asyncio.Timeout] | None = None
        self.delivered = 0
        self.failed = 0

    def __repr__(self) -> str:
        return f"WebhookSender(url={self.url!r}, secret=[secure])"

    def start(self) -> None:
        """Start the delivery task on the running loop (idempotent)."""
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._task = self._loop.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def enqueue(self, name: str, payout: dict[str, Any]) -> None:
        if self._loop is None or self._queue is None:
            return
        body = event_body(name, payout)
        self._loop.call_soon_threadsafe(self._queue.put_nowait, (self._generation, body))

    def reset(self) -> None:
        """Zero the counters, drop every queued event (one queued from another thread but not yet in the
        queue is dropped when it comes out) and end the delivery on its way, uncounted."""
        self._generation += 1
        self.delivered = 0
        self.failed = 0
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._drop_queued)

    def _drop_queued(self) -> None:
        queue = self._queue
        while queue is not None and not queue.empty():
            queue.get_nowait()
        in_flight = self._in_flight
        if in_flight is not None and in_flight[0] != self._generation and not in_flight[1].expired():
            in_flight[1].reschedule(asyncio.get_running_loop().time())  # its deadline is now: it ends at once

    async def _run(self) -> None:
        import httpx  # only needed when webhooks are on

        assert self._queue is not None
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            while True:
                generation, body = await self._queue.get()
                if generation != self._generation:
                    continue  # queued before a reset
                delivered = await self._deliver(client, generation, body)
                if generation == self._generation:  # a reset while it was on its way: not this state's figure
                    if delivered:
                        self.delivered += 1
                    else:
                        self.failed += 1

    async def _deliver(self, client: httpx.AsyncClient, generation: int, body: bytes) -> bool:
        """POST one event within its deadline; whether the receiver took it (a 2xx)."""
        import httpx

        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self._secret, body, int(time.time()))}
        try:
            async with asyncio.timeout(self._timeout) as deadline:
                self._in_flight = (generation, deadline)
                try:
                    reply = await client.post(self.url, content=body, headers=headers)
                finally:
                    self._in_flight = None
        except TimeoutError:
            if generation == self._generation:  # not ended by a reset
                logger.warning("webhook delivery took longer than %s s", self._timeout)
            return False
        except httpx.HTTPError as exc:
            logger.warning("webhook delivery failed: %s", type(exc).__name__)
            return False
        if reply.status_code >= 300:
            logger.warning("webhook delivery got HTTP %s", reply.status_code)
            return False
        return True
