"""Helpers for the client tests: run the sync or async client through one interface, record requests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import httpx
from fedapay_payouts import AsyncFedaPay, CustomerParams, FedaPay, RetryPolicy
from fedapay_payouts._client import default_ssl_context

T = TypeVar("T")
API_KEY = "sk_sandbox_client_tests_Secret123"
CUSTOMER: CustomerParams = {
    "firstname": "Ada",
    "lastname": "Lovelace",
    "email": "ada@example.com",
    "phone_number": {"number": "+22997808080", "country": "bj"},
}


@dataclass
class Sent:
    """A request as it left the client (what the server received)."""

    method: str
    path: str
    query: dict[str, str]
    headers: httpx.Headers
    body: Any


def _sent(request: httpx.Request) -> Sent:
    content = request.read()
    return Sent(
        request.method,
        request.url.path,
        dict(request.url.params),
        request.headers,
        json.loads(content) if content else None,
    )


class _Recorder:
    """Records each request; the first `refuse` ones fail as a refused connection (never reach the server)."""

    def __init__(self, log: list[Sent], refuse: int = 0) -> None:
        self.log = log
        self.refuse = refuse

    def _record(self, request: httpx.Request) -> None:
        self.log.append(_sent(request))
        if self.refuse > 0:
            self.refuse -= 1
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


class RecordingTransport(httpx.HTTPTransport):
    def __init__(self, log: list[Sent], refuse: int = 0) -> None:
        super().__init__(verify=default_ssl_context())  # the client's own; a new one costs 17 ms of CPU per test
        self.recorder = _Recorder(log, refuse)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.recorder._record(request)
        return super().handle_request(request)


class AsyncRecordingTransport(httpx.AsyncHTTPTransport):
    def __init__(self, log: list[Sent], refuse: int = 0) -> None:
        super().__init__(verify=default_ssl_context())
        self.recorder = _Recorder(log, refuse)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.recorder._record(request)
        return await super().handle_async_request(request)


@dataclass
class Api:
    """One FedaPay or AsyncFedaPay client behind a sync facade, so each test runs against both twins.

    `call(lambda payouts: payouts.create(...))` returns the result (awaited on this test's own event
    loop for the async twin); `sleeps` records every back-off the client asked for (no real waiting).
    """

    mode: Literal["sync", "async"]
    base_url: str
    sent: list[Sent] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    clients: list[FedaPay | AsyncFedaPay] = field(default_factory=list)
    injected: list[httpx.Client | httpx.AsyncClient] = field(default_factory=list)  # ours to close
    runner: asyncio.Runner | None = None

    def client(
        self, *, record: bool = True, refuse: int = 0, transport: Any = None, injected: bool = False, **options: Any
    ) -> FedaPay | AsyncFedaPay:
        """A client on the mock; `record` its requests in `sent`; `refuse` the first n connections.

        By default the client makes its own connection pool, as most users' do, over the recording
        transport (`transport=`); `injected=True` passes an `http_client` of ours instead. Back-off
        waits go to `sleeps` through the client's `sleep=` hook.
        """
        options.setdefault("api_key", API_KEY)
        options.setdefault("base_url", self.base_url)
        if self.mode == "sync":
            sync_transport = transport or (RecordingTransport(self.sent, refuse) if record else None)
            if injected:
                options["http_client"] = httpx.Client(transport=sync_transport)
                self.injected.append(options["http_client"])
            elif sync_transport is not None:
                options["transport"] = sync_transport
            sync = FedaPay(sleep=self.sleeps.append, **options)
            self.clients.append(sync)
            return sync
        async_transport = transport or (AsyncRecordingTransport(self.sent, refuse) if record else None)
        if injected:
            options["http_client"] = httpx.AsyncClient(transport=async_transport)
            self.injected.append(options["http_client"])
        elif async_transport is not None:
            options["transport"] = async_transport

        async def record_sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        async_client = AsyncFedaPay(sleep=record_sleep, **options)
        self.clients.append(async_client)
        return async_client

    def run(self, value: Any) -> Any:
        """The value itself (sync twin), or the awaitable's result on this test's event loop (async twin)."""
        if self.mode == "sync":
            return value
        if self.runner is None:
            self.runner = asyncio.Runner()
        return self.runner.run(value)

    def call(self, client: FedaPay | AsyncFedaPay, operation: Callable[[Any], Any]) -> Any:
        return self.run(operation(client.payouts))

    def collect(self, iterator: Iterator[T] | AsyncIterator[T]) -> list[T]:
        if isinstance(iterator, Iterator):
            return list(iterator)

        async def gather() -> list[T]:
            return [item async for item in iterator]

        items: list[T] = self.run(gather())
        return items

    def close(self) -> None:
        for client in self.clients:
            if isinstance(client, FedaPay):
                client.close()
            else:
                self.run(client.close())
        for http in self.injected:
            if isinstance(http, httpx.Client):
                http.close()
            else:
                self.run(http.aclose())
        if self.runner is not None:
            self.runner.close()


def scripted(
    *replies: Callable[[httpx.Request], httpx.Response], retries: int = 0
) -> tuple[FedaPay, list[str]]:
    """A client whose transport answers each request with the next of `replies` (no wait between retries);
    the requests as `METHOD /path`, in order."""
    seen: list[str] = []
    queue = iter(replies)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        return next(queue)(request)

    client = FedaPay("sk_sandbox_x", http_client=httpx.Client(transport=httpx.MockTransport(handle)),
                     retry_policy=RetryPolicy(retries, initial_delay=0.0))
    return client, seen
