"""A proxy that refuses or stalls the tunnel (HTTPS_PROXY: `CONNECT host:443`) sent nothing to FedaPay.

The client said "a payout may have been created" (PayoutOutcomeUnknownError) when the proxy closed the connection
or never answered its CONNECT: the proxy's traffic was taken for the request's. The request leaves only through
an open tunnel, so these are connection errors saying the request was not sent (and a retry is safe). A real
proxy on loopback (a raw socket server) stands in for the user's; the target is never reached.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator

import httpx
import pytest
from fedapay_payouts import APIConnectionError, APITimeoutError, AsyncFedaPay, FedaPay

from tests.client.client_support import API_KEY, CUSTOMER
from tests.client.hostile_server import HostileServer, Received, reply

TARGET = "https://sandbox-api.fedapay.com/v1"  # through the tunnel only: never reached from here


def closes(request: Received) -> Iterator[bytes | float]:
    return iter(())  # the proxy hangs up instead of opening the tunnel


def stalls(request: Received) -> Iterator[bytes | float]:
    yield 30.0  # the proxy never answers the CONNECT


def refuses(request: Received) -> Iterable[bytes | float]:
    return reply(403, b"", reason="Forbidden")(request)


def _call(twin: str, operation: str) -> object:
    """`operation` (create or start) through the proxy, with a 1.5 s deadline and no retry."""
    if twin == "sync":
        with FedaPay(API_KEY, base_url=TARGET, max_retries=0, deadline=1.5) as client:
            if operation == "create":
                return client.payouts.create(amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER)
            return client.payouts.start(1)

    async def call() -> object:
        async with AsyncFedaPay(API_KEY, base_url=TARGET, max_retries=0, deadline=1.5) as client:
            if operation == "create":
                return await client.payouts.create(amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER)
            return await client.payouts.start(1)

    return asyncio.run(call())


@pytest.mark.parametrize("twin", ["sync", "async"])
@pytest.mark.parametrize(("proxy_does", "error"), [(closes, APIConnectionError), (stalls, APITimeoutError),
                                                   (refuses, APIConnectionError)])
@pytest.mark.parametrize("operation", ["create", "start"])
def test_a_proxy_that_does_not_open_its_tunnel_is_a_request_not_sent(
    twin: str, proxy_does: object, error: type[APIConnectionError], operation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = HostileServer()
    try:
        proxy.script(proxy_does)  # type: ignore[arg-type]
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
        with pytest.raises(APIConnectionError) as caught:
            _call(twin, operation)
        assert type(caught.value) is error, repr(caught.value)
        assert caught.value.request_sent is False
        assert "the request was not sent" in caught.value.message
        assert [request.method for request in proxy.received] == ["CONNECT"]
    finally:
        proxy.close()


@pytest.mark.parametrize("twin", ["sync", "async"])
def test_a_tls_handshake_that_never_ends_says_it_timed_out_in_both_twins(twin: str) -> None:
    """anyio's timeouts carry no text: the async twin said `ConnectTimeout on GET ... ()` where the sync one
    said what timed out (fourteenth review)."""
    silent = HostileServer()  # accepts the connection, never answers the TLS hello
    silent.script(stalls)
    base_url = f"https://127.0.0.1:{silent.port}/v1"

    def retrieve() -> object:
        if twin == "sync":
            with FedaPay(API_KEY, base_url=base_url, max_retries=0, timeout=0.5) as client:
                return client.payouts.retrieve(1)

        async def aretrieve() -> object:
            async with AsyncFedaPay(API_KEY, base_url=base_url, max_retries=0, timeout=0.5) as client:
                return await client.payouts.retrieve(1)

        return asyncio.run(aretrieve())

    try:
        with pytest.raises(APITimeoutError) as caught:
            retrieve()
    finally:
        silent.close()
    assert "()" not in caught.value.message
    assert caught.value.request_sent is False


def test_an_error_without_text_is_described_by_its_cause_or_what_it_is() -> None:
    from fedapay_payouts._retry import NOT_SENT, connection_error

    request = httpx.Request("GET", "https://sandbox-api.fedapay.com/v1/payouts/1")
    closed = httpx.ConnectError("")
    closed.__cause__ = OSError("[SSL: UNEXPECTED_EOF_WHILE_READING] EOF in violation of protocol")
    assert "(" + str(closed.__cause__) + ")" in connection_error(closed, request, NOT_SENT).message
    assert "(the connection ended without a reason given)" in connection_error(
        httpx.ConnectError(""), request, NOT_SENT
    ).message
    assert "(timed out)" in connection_error(httpx.ConnectTimeout(""), request, NOT_SENT).message
