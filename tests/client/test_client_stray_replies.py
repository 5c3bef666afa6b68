"""A reply nobody asked for is never taken for the next request's reply.

A server (or anything on the path) that sent one reply and then a second, unasked: httpcore kept the second
and handed it to the connection's next request, so `retrieve(6)` returned the stray payout 999 and a create
for another beneficiary returned it too (on the sync client the create never left). The connection that
carried bytes past its reply must not be used again, whether the stray bytes came in the same write as the
reply or a moment later (then an idle connection whose socket is readable is dropped before reuse).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest
from fedapay_payouts import AsyncFedaPay, FedaPay

from tests.client.client_support import API_KEY
from tests.client.keepalive_server import WAIT, KeepAliveServer

CUSTOMER: Any = {"firstname": "Ama", "lastname": "Koffi", "phone_number": {"number": "+22997808080", "country": "bj"}}


def _three_calls(mode: str, server: KeepAliveServer, pool: str) -> list[Any]:
    """retrieve(5), then (once the stray reply has left the server) retrieve(6) and a create, on one client
    with one place, so every call would go over the same kept-alive connection; `pool`: the client's own
    connections, or an httpx client of yours."""
    options: dict[str, Any] = {"api_key": API_KEY, "base_url": server.base_url, "max_in_flight": 1, "max_retries": 0}

    def wait_for_stray() -> None:
        assert server.stray_sent.wait(WAIT)

    if mode == "sync":
        with httpx.Client() as yours:
            if pool == "yours":
                options["http_client"] = yours
            with FedaPay(**options) as client:
                first = client.payouts.retrieve(5)
                wait_for_stray()
                return [first, client.payouts.retrieve(6),
                        client.payouts.create(amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER)]

    async def main() -> list[Any]:
        async with httpx.AsyncClient() as yours:
            if pool == "yours":
                options["http_client"] = yours
            async with AsyncFedaPay(**options) as client:
                first = await client.payouts.retrieve(5)
                await asyncio.to_thread(wait_for_stray)
                return [first, await client.payouts.retrieve(6),
                        await client.payouts.create(amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER)]

    return asyncio.run(main())


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("pool", ["own", "yours"])
@pytest.mark.parametrize("delay", [0.0, 0.05], ids=["in-the-same-write", "a-moment-later"])
def test_a_stray_reply_after_a_reply_is_never_the_next_requests_reply(mode: str, pool: str, delay: float) -> None:
    server = KeepAliveServer(stray={0: delay})
    try:
        first, second, created = _three_calls(mode, server, pool)
    finally:
        server.close()
    assert (first.id, second.id, second.amount) == (5, 6, 1000)
    # The create reached the server and its own reply came back (the server numbers a new payout by its request).
    assert [what for _, what in server.requests] == ["GET /v1/payouts/5", "GET /v1/payouts/6", "POST /v1/payouts"]
    assert created.id == 3
    # The connection that carried the stray reply was dropped: the later calls went over a new one.
    assert [number for number, _ in server.requests] == [0, 1, 1]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_stray_reply_behind_a_reply_of_exactly_64_kib_is_never_the_next_requests_reply(mode: str) -> None:
    """On asyncio, anyio reads all the socket holds and hands httpcore 64 KiB at a time, queueing the rest: a reply
    ending exactly at 64 KiB left the stray reply behind it in that queue, where neither the parser's leftover
    nor the idle check (the socket) sees it, and the next create returned payout 999, which the server never
    made for it (seventeenth review)."""
    server = KeepAliveServer(stray={0: 0.0}, size=65536)
    try:
        first, second, created = _three_calls(mode, server, "own")
    finally:
        server.close()
    assert (first.id, second.id, created.id) == (5, 6, 3)
    assert [number for number, _ in server.requests] == [0, 1, 1]


@pytest.mark.parametrize("pool", ["yours", "transport", "proxy"])
def test_threads_sharing_a_pool_never_get_a_stray_copy_of_another_reply(
    pool: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pool several threads share (a proxy's, an `http_client` or `transport` of yours): the connection was
    handed back to the pool before the stray bytes were looked for, and another thread's create got them as its
    reply: 480 creates returned 376 payouts, and some were never sent (sixteenth review)."""
    server = KeepAliveServer(double=True)
    options: dict[str, Any] = {"api_key": API_KEY, "base_url": server.base_url, "max_retries": 0, "max_in_flight": 8}
    yours = httpx.Client(limits=httpx.Limits(max_connections=2))
    if pool == "yours":
        options["http_client"] = yours
    elif pool == "transport":
        options["transport"] = httpx.HTTPTransport()
    else:  # the environment's proxy: a plain-HTTP proxy gets the whole URL, and the server answers it all the same
        monkeypatch.setenv("HTTP_PROXY", server.base_url.rsplit("/", 1)[0])
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        options["base_url"] = "http://fedapay.test/v1"
    ids: list[int] = []
    errors: list[str] = []

    def work(client: FedaPay) -> None:
        for _ in range(30):
            try:
                ids.append(client.payouts.create(amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER).id)
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(f"{type(exc).__name__}: {exc}")

    try:
        with FedaPay(**options) as client:
            workers = [threading.Thread(target=work, args=(client,)) for _ in range(8)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(60)
    finally:
        yours.close()
        server.close()
    assert errors == []
    assert len(ids) == 240
    assert len(set(ids)) == 240  # every create its own payout
    assert len(server.requests) == 240  # every create sent
