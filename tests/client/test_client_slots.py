"""Issue 15, item 4: each of the `max_in_flight` places owns one connection (`_slots.py`).

Against a real keep-alive server on loopback (`keepalive_server.py`) and the client's own pool (real
httpx/httpcore transports): many more callers than places share the places without exceeding the
limit, without opening more connections than places, and without httpcore ever turning a request
away from a connection another request had been handed (the pool loop that halved throughput at 32
and 64 callers); a broken connection is replaced in its place; `close()` closes every place's
connection. The server's barrier (`together=`) releases replies at the same moment, which is when
several waiting callers get their turn at once: the case where a shared pool went wrong.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpcore
import pytest
from fedapay_payouts import APIConnectionError, AsyncFedaPay, CustomerParams, FedaPay

from tests.client.keepalive_server import WAIT, KeepAliveServer

API_KEY = "sk_sandbox_slots"
CUSTOMER: CustomerParams = {"firstname": "Ada", "lastname": "Lovelace"}


@pytest.fixture
def refusals(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every time httpcore's pool hands a request a connection that is not free (`ConnectionNotAvailable`)."""
    seen: list[str] = []

    def spy(cls: Any, name: str) -> None:
        original: Callable[..., Any] = getattr(cls, name)

        if asyncio.iscoroutinefunction(original):
            async def wrapped_async(self: Any, request: Any) -> Any:
                try:
                    return await original(self, request)
                except httpcore.ConnectionNotAvailable:
                    seen.append(str(request.url))
                    raise

            monkeypatch.setattr(cls, name, wrapped_async)
        else:
            def wrapped(self: Any, request: Any) -> Any:
                try:
                    return original(self, request)
                except httpcore.ConnectionNotAvailable:
                    seen.append(str(request.url))
                    raise

            monkeypatch.setattr(cls, name, wrapped)

    spy(httpcore.HTTPConnection, "handle_request")
    spy(httpcore.AsyncHTTPConnection, "handle_async_request")
    return seen


@pytest.fixture
def server_factory() -> Iterator[Callable[..., KeepAliveServer]]:
    made: list[KeepAliveServer] = []

    def make(**options: Any) -> KeepAliveServer:
        made.append(KeepAliveServer(**options))
        return made[-1]

    yield make
    for server in made:
        server.close()


CALLERS = 48
PLACES = 4


def test_many_threads_share_the_places_one_connection_each(
    server_factory: Callable[..., KeepAliveServer], refusals: list[str]
) -> None:
    server = server_factory(together=PLACES)
    ids: list[int] = []
    errors: list[BaseException] = []
    with FedaPay(API_KEY, base_url=server.base_url, max_in_flight=PLACES, max_retries=0) as client:
        def caller() -> None:
            try:
                ids.append(client.payouts.create(amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER).id)
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=caller) for _ in range(CALLERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT * 2)
    assert errors == []
    assert server.problems == []
    assert sorted(ids) == list(range(1, CALLERS + 1))  # each caller got its own reply
    assert server.most_inside == PLACES  # the limit held, and was used in full
    assert server.opened == PLACES  # one connection per place, each reused
    assert refusals == []  # no request was handed a busy connection
    assert server.wait_closed(PLACES)  # leaving the `with` block closed every place's connection


def test_many_tasks_share_the_places_one_connection_each(
    server_factory: Callable[..., KeepAliveServer], refusals: list[str]
) -> None:
    server = server_factory(together=PLACES)

    async def scenario() -> list[int]:
        async with AsyncFedaPay(API_KEY, base_url=server.base_url, max_in_flight=PLACES, max_retries=0) as client:
            payouts = await asyncio.gather(*(
                client.payouts.create(amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER)
                for _ in range(CALLERS)
            ))
            copy = client.with_options(account_id=3)  # a copy sends through the same places and connections
            payouts.extend(await asyncio.gather(*(copy.payouts.retrieve(1000 + n) for n in range(PLACES))))
        return [payout.id for payout in payouts]

    ids = asyncio.run(scenario())
    assert server.problems == []
    assert sorted(ids) == [*range(1, CALLERS + 1), *range(1000, 1000 + PLACES)]
    assert server.most_inside == PLACES
    assert server.opened == PLACES
    assert refusals == []
    assert server.wait_closed(PLACES)


@pytest.mark.parametrize("twin", ["sync", "async"])
def test_a_broken_connection_is_replaced_in_its_place(
    twin: str, server_factory: Callable[..., KeepAliveServer]
) -> None:
    """One place; the server drops the connection of the 3rd request: that call fails as a typed error, and
    the place opens a new connection for the next calls instead of being lost or keeping the dead one."""
    server = server_factory(drop=frozenset({2}))
    outcomes: list[object] = []

    if twin == "sync":
        with FedaPay(API_KEY, base_url=server.base_url, max_in_flight=1, max_retries=0) as client:
            for _ in range(6):
                try:
                    outcomes.append(client.payouts.retrieve(7).id)
                except APIConnectionError as exc:
                    outcomes.append(type(exc).__name__)
    else:
        async def scenario() -> None:
            async with AsyncFedaPay(API_KEY, base_url=server.base_url, max_in_flight=1, max_retries=0) as client:
                for _ in range(6):
                    try:
                        outcomes.append((await client.payouts.retrieve(7)).id)
                    except APIConnectionError as exc:
                        outcomes.append(type(exc).__name__)

        asyncio.run(scenario())
    assert outcomes == [7, 7, "APIConnectionError", 7, 7, 7]
    assert server.opened == 2
    assert [number for number, _ in server.requests] == [0, 0, 0, 1, 1, 1]
    assert server.wait_closed(1)  # the replacement, closed with the client (the dropped one closed itself)
