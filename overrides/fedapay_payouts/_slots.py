"""The places of `max_in_flight`: each a turn on the wire and, on a pool of our own, its one connection.

Why not one shared httpcore pool under a semaphore: httpcore 1.0.9 assigns a queued request to an
idle connection without reserving it, and yields before the connection turns active. When several
callers get their turn in the same event-loop iteration (or threads at once), they are all handed
the same idle connection; all but one get `ConnectionNotAvailable` and go round the pool again. On
loopback that cost 25 % of the payouts/s at 32 or 64 callers. Here each place (`Slot`) owns a
single-connection transport, so no two requests ever meet in one pool: a caller takes a free place,
sends through its transport (the place rides in the request's extensions to `SlotTransport`), and
gives the place back when the reply is read and closed.

The free places are a stack (the warmest connection first): threads share one `SyncTurns` (a deque
no signal can split a step of); asyncio has one `asyncio.Semaphore` and one set of places and connections
per event loop (`AsyncTurns`); both shared with `with_options` copies. With a transport or an `http_client`
of yours, the places are turns only: no transport of ours (and an async client is bound to one loop).
"""

from __future__ import annotations

import collections
import contextlib
import os
import queue
import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

import httpx

if TYPE_CHECKING:
    import asyncio
    import ssl

__all__ = [
    "SLOT",
    "AsyncSlotTransport",
    "AsyncTurns",
    "LoopPlaces",
    "PerLoopTransport",
    "Slot",
    "SlotTransport",
    "SyncTurns",
    "per_loop_proxy_mounts",
]

SLOT: Final = "fedapay_payouts.slot"  # the request extension naming the place a request was sent from
T = TypeVar("T", httpx.BaseTransport, httpx.AsyncBaseTransport)


class Slot(Generic[T]):
    """One place among `max_in_flight`; on a pool of ours, its transport (made at its first use)."""

    __slots__ = ("transport",)

    def __init__(self) -> None:
        self.transport: T | None = None


class SyncTurns:
    """The free places of a sync client, for any thread.

    A stack of places (the warmest connection first: with one caller, one connection stays alive instead of
    all of them in turn going cold), a `collections.deque`, whose `pop` and `append` are each one C call: a
    place is either on the stack or in the hands of the call that popped it. A Ctrl-C (or any signal handler's
    exception) cannot land between two steps of taking or giving one. A `threading.Semaphore` counted them
    before: it takes its own lock in Python code, and an interrupt landing there left that lock held (every
    later call, `deadline=` or not, blocked for ever), or a place counted out that was never given back.

    A caller finding none free waits for a wake-up (`_wake`, a `queue.SimpleQueue`: C calls too) that each
    place given back sends, looking again at least every `RECHECK` seconds (a wake-up lost to an interrupt
    between a give's two steps costs a waiter that much, never its place).
    """

    __slots__ = ("__weakref__", "_free", "_wake", "slots")
    RECHECK: Final = 0.05

    def __init__(self, size: int) -> None:
        self.slots: tuple[Slot[httpx.BaseTransport], ...] = tuple(Slot() for _ in range(size))
        self._free: collections.deque[Slot[httpx.BaseTransport]] = collections.deque(self.slots)
        self._wake: queue.SimpleQueue[None] = queue.SimpleQueue()
        _SYNC_TURNS.add(self)

    def forget(self) -> None:
        """Every place free and without a connection, the parent's left open (a forked child: see `_after_fork`)."""
        for slot in self.slots:
            slot.transport = None
        self._free = collections.deque(self.slots)
        self._wake = queue.SimpleQueue()

    def take_now(self) -> Slot[httpx.BaseTransport] | None:
        """A free place if there is one, without waiting."""
        try:
            return self._free.pop()
        except IndexError:
            return None

    def take(self, timeout: float) -> Slot[httpx.BaseTransport] | None:
        """A free place, or None when none came free within `timeout` seconds."""
        end = time.monotonic() + timeout
        while True:
            try:
                return self._free.pop()
            except IndexError:
                pass
            left = end - time.monotonic()
            if left <= 0:
                return None
            with contextlib.suppress(queue.Empty):
                self._wake.get(timeout=min(left, self.RECHECK))

    def give(self, slot: Slot[httpx.BaseTransport]) -> None:
        self._free.append(slot)
        if self._wake.qsize() < len(self.slots):  # at most one wake-up per place waits unread
            self._wake.put(None)


class LoopPlaces:
    """The places of an async client on one event loop: its semaphore, its free stack, its connections."""

    __slots__ = ("free", "loop", "slots", "spare", "waits")

    def __init__(
        self, size: int, loop: asyncio.AbstractEventLoop, gone: Callable[[weakref.ref[asyncio.AbstractEventLoop]], None]
    ) -> None:
        import asyncio

        self.loop = weakref.ref(loop, gone)  # `gone` lets the places go when the loop itself is collected
        self.slots: tuple[Slot[httpx.AsyncBaseTransport], ...] = tuple(Slot() for _ in range(size))
        self.free = list(self.slots)
        self.waits = asyncio.Semaphore(size)
        self.spare: httpx.AsyncBaseTransport | None = None  # for a request sent without a place (not ours)

    def transports(self) -> list[httpx.AsyncBaseTransport]:
        return [t for t in [*(slot.transport for slot in self.slots), self.spare] if t is not None]


class AsyncTurns:
    """The places of an async client, per event loop: an asyncio connection (and semaphore) belongs to the loop
    that made it, so each loop gets `size` places and connections of its own, and none ever crosses to another
    loop (two `asyncio.run` calls, or threads each running a loop). A loop's places are let go (`abandon`) once
    that loop is closed, gone, or not running when another loop arrives."""

    __slots__ = ("__weakref__", "_by_loop", "_current", "_first", "_lock", "_size")

    def __init__(self, size: int) -> None:
        self._size = size
        self._first: weakref.ref[asyncio.AbstractEventLoop] | None = None
        self._by_loop: dict[int, LoopPlaces] = {}  # by id(loop): an entry leaves when its loop closes or goes
        self._current: LoopPlaces | None = None  # the last loop's places: one identity check on the common path
        self._lock = threading.RLock()  # re-entrant: a loop collected while it is held calls `gone`

    def on(self, loop: asyncio.AbstractEventLoop) -> LoopPlaces:
        """The places of this loop (made at its first use)."""
        current = self._current
        if current is not None and current.loop() is loop:
            return current
        with self._lock:
            places = self._by_loop.get(id(loop))
            if places is None:
                for key, other in list(self._by_loop.items()):
                    owner = other.loop()
                    # A loop closed, gone, or not running now: a loop that is not running has nothing in flight,
                    # and one dropped without `close()` is otherwise kept alive by its own connections (and
                    # their sockets open) as long as the client lives. Its connections are let go, never
                    # awaited; if it runs again, it starts with new ones.
                    if owner is None or owner.is_closed() or not owner.is_running():
                        abandon(self._by_loop.pop(key))
                places = self._by_loop[id(loop)] = LoopPlaces(self._size, loop, self._gone(id(loop)))
            self._current = places
        return places

    def _gone(self, key: int) -> Callable[[object], None]:
        """What runs when a loop is collected: its places leave (no reference to the turns is kept)."""
        turns = weakref.ref(self)

        def gone(_: object) -> None:
            alive = turns()
            if alive is not None:
                with alive._lock:
                    places = alive._by_loop.pop(key, None)
                    if alive._current is places:
                        alive._current = None
                if places is not None:
                    abandon(places)

        return gone

    def first_loop(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Whether `loop` is the first loop this client (and its copies) is used on: a pool of yours is
        bound to it (`AsyncFedaPay._refuse_other_loop`)."""
        first = self._first
        if first is None:
            with self._lock:
                if self._first is None:
                    self._first = weakref.ref(loop)
                first = self._first
        return first() is loop

    @property
    def slots(self) -> tuple[Slot[httpx.AsyncBaseTransport], ...]:
        """The places of the loop used last (none before a first call)."""
        current = self._current
        return () if current is None else current.slots

    def take_all(self) -> list[LoopPlaces]:
        """Every loop's places, forgotten here (`AsyncSlotTransport.aclose`)."""
        with self._lock:
            every = list(self._by_loop.values())
            self._by_loop.clear()
            self._current = None
        return every

    @staticmethod
    def give(slot: Slot[httpx.AsyncBaseTransport], places: LoopPlaces) -> None:
        places.free.append(slot)
        places.waits.release()


def abandon(places: LoopPlaces) -> None:
    """Close the sockets of a dead loop's connections without that loop (awaiting a close needs it): what
    asyncio does when a connection is lost, done here at once. Best effort, on httpcore 1.0 / anyio / asyncio's
    shapes; a connection of another shape is left to the garbage collector."""
    for transport in places.transports():
        drop_connections(transport)
    places.slots = ()
    places.spare = None


def drop_connections(transport: object) -> None:
    """Close the sockets of an async transport's connections without their loop (`abandon`)."""
    for connection in list(getattr(getattr(transport, "_pool", None), "connections", None) or ()):
        http11 = getattr(connection, "_connection", None)
        for _ in range(3):  # a proxy's forwarding connection wraps the connection to the proxy
            if http11 is None or hasattr(http11, "_network_stream"):
                break
            http11 = getattr(http11, "_connection", None)
        stream = getattr(getattr(http11, "_network_stream", None), "_stream", None)
        for _ in range(4):  # TLS (anyio's TLSStream) wraps the socket stream
            if stream is None or hasattr(stream, "_transport"):
                break
            stream = getattr(stream, "transport_stream", None)
        lost = getattr(getattr(stream, "_transport", None), "_call_connection_lost", None)
        if callable(lost) and getattr(stream._transport, "_sock", None) is not None:  # type: ignore[union-attr]
            with contextlib.suppress(Exception):
                lost(None)


def _single_limits() -> httpx.Limits:
    return httpx.Limits(max_connections=1, max_keepalive_connections=1)


class SlotTransport(httpx.BaseTransport):
    """Sends each request through the transport of its place (`SLOT` extension), made by `make` at first use."""

    def __init__(self, turns: SyncTurns, make: Callable[[], httpx.BaseTransport]) -> None:
        self._turns = turns
        self._make = make
        self._lock = threading.Lock()
        self._spare: httpx.BaseTransport | None = None  # for a request sent without a place (not ours)
        _SLOT_TRANSPORTS.add(self)

    def forget(self) -> None:
        self._lock = threading.Lock()
        self._spare = None

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
    """The asyncio twin of `SlotTransport`; every transport it makes belongs to the loop it was made on."""

    def __init__(self, turns: AsyncTurns, make: Callable[[], httpx.AsyncBaseTransport]) -> None:
        self._turns = turns
        self._make = make

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        slot: Slot[httpx.AsyncBaseTransport] | None = request.extensions.get(SLOT)
        if slot is None:
            import asyncio

            places = self._turns.on(asyncio.get_running_loop())
            if places.spare is None:
                places.spare = self._make()
            return await places.spare.handle_async_request(request)
        transport = slot.transport
        if transport is None:
            transport = slot.transport = self._make()
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        """Close this loop's connections; a running loop's are closed on that loop, a dead loop's let go."""
        import asyncio

        loop = asyncio.get_running_loop()
        for places in self._turns.take_all():
            owner = places.loop()
            if owner is None or owner.is_closed() or (owner is not loop and not owner.is_running()):
                abandon(places)  # nobody to close them on: let go at once, never awaited
                continue
            for transport in places.transports():
                if owner is loop:
                    await transport.aclose()
                elif owner.is_running():
                    asyncio.run_coroutine_threadsafe(transport.aclose(), owner)


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


# A forked child inherits its parent's sockets: a kept-alive connection both would use interleaves their requests
# and hands each the other's replies (a create answered with the other process's payout). The child forgets
# every connection of the sync clients' own pools (without closing them: they are the parent's) and opens its
# own. An `http_client` you pass in is yours to handle; an event loop does not survive a fork.
_SYNC_TURNS: weakref.WeakSet[SyncTurns] = weakref.WeakSet()
_SLOT_TRANSPORTS: weakref.WeakSet[SlotTransport] = weakref.WeakSet()
# The sync clients' own httpx clients: a proxy the environment names is one of their mounts, with a pool of its
# own that carries every request through that proxy (the places never see them).
_OWN_CLIENTS: weakref.WeakSet[httpx.Client] = weakref.WeakSet()


def track(http: httpx.Client) -> None:
    """A pool of ours (`FedaPay`'s own httpx client): its proxy mounts' connections are forgotten after a fork."""
    _OWN_CLIENTS.add(http)


def _after_fork() -> None:
    for turns in list(_SYNC_TURNS):
        turns.forget()
    for transport in list(_SLOT_TRANSPORTS):
        transport.forget()
    for http in list(_OWN_CLIENTS):
        for mount in http._mounts.values():
            _forget_pool(getattr(mount, "_pool", None))


def _forget_pool(pool: object) -> None:
    """An httpcore 1.0 pool's connections and queue forgotten (not closed: the parent's), with a new lock."""
    if isinstance(getattr(pool, "_connections", None), list) and isinstance(getattr(pool, "_requests", None), list):
        pool._connections = []  # type: ignore[attr-defined]
        pool._requests = []  # type: ignore[attr-defined]
        lock = getattr(pool, "_optional_thread_lock", None)
        if lock is not None:
            pool._optional_thread_lock = type(lock)()  # type: ignore[attr-defined]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


class PerLoopTransport(httpx.AsyncBaseTransport):
    """An async proxy mount of our own pool, one transport per event loop. httpx keeps one pool per mount, and an
    asyncio connection (with its events) belongs to the loop that made it: through `HTTP_PROXY`, a second
    `asyncio.run` wrote its create on the first loop's closed connection (the payout made, the caller told its
    outcome is unknown), and threads each running a loop got each other's connections (`bound to a different
    event loop`, calls that hung). The places keep one pool per loop (`AsyncTurns`); the proxy mounts now too.
    A loop's transport is let go once that loop is closed or gone (its connections were that loop's)."""

    def __init__(self, make: Callable[[], httpx.AsyncBaseTransport]) -> None:
        self._make = make
        self._by_loop: dict[int, tuple[weakref.ref[asyncio.AbstractEventLoop], httpx.AsyncBaseTransport]] = {}
        self._lock = threading.Lock()

    def _for(self, loop: asyncio.AbstractEventLoop) -> httpx.AsyncBaseTransport:
        with self._lock:
            entry = self._by_loop.get(id(loop))
            if entry is not None and entry[0]() is loop:
                return entry[1]
            for key, (owner, other) in list(self._by_loop.items()):
                alive = owner()
                if alive is None or alive.is_closed():
                    del self._by_loop[key]
                    drop_connections(other)  # that loop's connections: closed without it
            transport = self._make()
            self._by_loop[id(loop)] = (weakref.ref(loop), transport)
            return transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import asyncio  # (loaded by then: the package does not import it for sync users)

        return await self._for(asyncio.get_running_loop()).handle_async_request(request)

    async def aclose(self) -> None:
        """Close this loop's transport; the others' connections belong to their loops and are let go."""
        import asyncio

        loop = asyncio.get_running_loop()
        with self._lock:
            entries = list(self._by_loop.values())
            self._by_loop.clear()
        for owner, transport in entries:
            if owner() is loop:
                await transport.aclose()
            else:
                drop_connections(transport)


def per_loop_proxy_mounts(http: httpx.AsyncClient, verify: Any) -> None:
    """Give each proxy mount of our own async client a transport per event loop (`PerLoopTransport`), made as
    httpx makes the mount's (httpx 0.28: `_get_proxy_map`, `_init_proxy_transport`)."""
    proxies = http._get_proxy_map(None, True)
    for pattern, transport in list(http._mounts.items()):
        proxy = proxies.get(pattern.pattern)
        if transport is None or proxy is None:
            continue

        def make(proxy: Any = proxy) -> httpx.AsyncBaseTransport:
            return http._init_proxy_transport(proxy, verify=verify, trust_env=True)

        http._mounts[pattern] = PerLoopTransport(make)
