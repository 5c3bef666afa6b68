"""The places of `max_in_flight`: each a turn on the wire and, on a pool of our own, its one connection.

Why not one shared httpcore pool under a semaphore: httpcore 1.0.9 assigns a queued request to an
idle connection without reserving it, and yields before the connection turns active. When several
callers get their turn in the same event-loop iteration (or threads at once), they are all handed
the same idle connection; all but one get `ConnectionNotAvailable` and go round the pool again. On
loopback that cost 25 % of the payouts/s at 32 or 64 callers. Here each place (`Slot`) owns a
single-connection transport, so no two requests ever meet in one pool: a caller takes a free place,
sends through its transport (the place rides in the request's extensions to `SlotTransport`), and
gives the place back when the reply is read and closed.

The free places are a stack (the warmest connection first) counted by a semaphore (threads: one
`threading.Semaphore`; asyncio: one `asyncio.Semaphore` per event loop), shared with `with_options`
copies. With a transport or an `http_client` of yours, the places are turns only: no transport of ours.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, Generic, TypeVar

import httpx

if TYPE_CHECKING:
    import asyncio
    import ssl

__all__ = ["SLOT", "AsyncSlotTransport", "AsyncTurns", "Slot", "SlotTransport", "SyncTurns"]

SLOT: Final = "fedapay_payouts.slot"  # the request extension naming the place a request was sent from
T = TypeVar("T", httpx.BaseTransport, httpx.AsyncBaseTransport)


class Slot(Generic[T]):
    """One place among `max_in_flight`; on a pool of ours, its transport (made at its first use)."""

    __slots__ = ("transport",)

    def __init__(self) -> None:
        self.transport: T | None = None


class SyncTurns:
    """The free places of a sync client, for any thread."""

    __slots__ = ("_count", "_free", "slots")

    def __init__(self, size: int) -> None:
        self.slots: tuple[Slot[httpx.BaseTransport], ...] = tuple(Slot() for _ in range(size))
        self._free = list(self.slots)
        self._count = threading.Semaphore(size)

    def take_now(self) -> Slot[httpx.BaseTransport] | None:
        """A free place if there is one, without waiting."""
        return self._free.pop() if self._count.acquire(blocking=False) else None

    def take(self, timeout: float) -> Slot[httpx.BaseTransport] | None:
        """A free place, or None when none came free within `timeout` seconds."""
        # The semaphore counts what the list holds: a place is given back before the count is released.
        return self._free.pop() if self._count.acquire(timeout=timeout) else None

    def give(self, slot: Slot[httpx.BaseTransport]) -> None:
        self._free.append(slot)
        self._count.release()


class AsyncTurns:
    """The free places of an async client: one semaphore per event loop (an asyncio.Semaphore that had to
    wait is bound to its loop); a new loop starts with every place free and every connection new."""

    __slots__ = ("_free", "_loop", "_size", "_waits", "slots")

    def __init__(self, size: int) -> None:
        self._size = size
        self.slots: tuple[Slot[httpx.AsyncBaseTransport], ...] = tuple(Slot() for _ in range(size))
        self._free = list(self.slots)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waits: asyncio.Semaphore | None = None

    def on(self, loop: asyncio.AbstractEventLoop) -> asyncio.Semaphore:
        """The semaphore counting the free places, for this loop."""
        if self._waits is None or self._loop is not loop:
            import asyncio

            self._loop, self._waits = loop, asyncio.Semaphore(self._size)
            self._free = list(self.slots)  # what a finished loop still held is free again
        return self._waits

    def pop(self) -> Slot[httpx.AsyncBaseTransport]:
        """The place for a caller that has just acquired the loop's semaphore."""
        return self._free.pop()

    def give(self, slot: Slot[httpx.AsyncBaseTransport], waits: asyncio.Semaphore) -> None:
        if waits is self._waits:  # not a place of a loop that ended
            self._free.append(slot)
            waits.release()


def _single_limits() -> httpx.Limits:
    return httpx.Limits(max_connections=1, max_keepalive_connections=1)


class SlotTransport(httpx.BaseTransport):
    """Sends each request through the transport of its place (`SLOT` extension), made by `make` at first use."""

    def __init__(self, turns: SyncTurns, make: Callable[[], httpx.BaseTransport]) -> None:
        self._turns = turns
        self._make = make
        self._lock = threading.Lock()
        self._spare: httpx.BaseTransport | None = None  # for a request sent without a place (not ours)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        slot: Slot[httpx.BaseTransport] | None = request.extensions.get(SLOT)
        if slot is None:
            return self._spare_transport().handle_request(request)
        transport = slot.transport
        if transport is None:
            transport = slot.transport = self._make()  # only the place's holder gets here
        return transport.handle_request(request)

    def _spare_transport(self) -> httpx.BaseTransport:
        with self._lock:
            if self._spare is None:
                self._spare = self._make()
            return self._spare

    def close(self) -> None:
        """Close every place's connection (and the spare's)."""
        for transport in [slot.transport for slot in self._turns.slots] + [self._spare]:
            if transport is not None:
                transport.close()


class AsyncSlotTransport(httpx.AsyncBaseTransport):
    """The asyncio twin of `SlotTransport`."""

    def __init__(self, turns: AsyncTurns, make: Callable[[], httpx.AsyncBaseTransport]) -> None:
        self._turns = turns
        self._make = make
        self._spare: httpx.AsyncBaseTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        slot: Slot[httpx.AsyncBaseTransport] | None = request.extensions.get(SLOT)
        if slot is None:
            if self._spare is None:
                self._spare = self._make()
            return await self._spare.handle_async_request(request)
        transport = slot.transport
        if transport is None:
            transport = slot.transport = self._make()
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        for transport in [slot.transport for slot in self._turns.slots] + [self._spare]:
            if transport is not None:
                await transport.aclose()


def sync_transport(turns: SyncTurns, verify: ssl.SSLContext,
                   prepare: Callable[[httpx.HTTPTransport], object]) -> SlotTransport:
    """Places with one `httpx.HTTPTransport` each, sharing one SSL context (loading CA certificates is slow);
    `prepare` sees each transport before its first request."""

    def make() -> httpx.BaseTransport:
        transport = httpx.HTTPTransport(verify=verify, limits=_single_limits())
        prepare(transport)
        return transport

    return SlotTransport(turns, make)


def async_transport(turns: AsyncTurns, verify: ssl.SSLContext) -> AsyncSlotTransport:
    return AsyncSlotTransport(turns, lambda: httpx.AsyncHTTPTransport(verify=verify, limits=_single_limits()))
