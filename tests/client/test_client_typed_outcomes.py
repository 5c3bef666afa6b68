"""Every way a call can end outside the happy path ends typed, saying whether the server may have acted:
event loops, exceptions of a transport, deadlines on transports that report no phases, redirects, a `sleep=`
of the wrong kind, a closed client."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fedapay_payouts import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncFedaPay,
    FedaPay,
    InvalidArgumentError,
    PayoutOutcomeUnknownError,
)

from tests.client.client_support import API_KEY, CUSTOMER, Api
from tests.client.hostile_server import HostileServer, payout, reply

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

    from tests.client.twin_support import Twin

ORDER: dict[str, Any] = {"amount": 1000, "currency": "XOF", "mode": "mtn_open", "customer": CUSTOMER}


# --- one AsyncFedaPay, several event loops (finding: connections crossed loops) --------------------------------

@pytest.fixture(params=["direct", "environment proxy"])
def base_url(request: pytest.FixtureRequest, fedapay_mock: MockServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """The mock's API root, reached directly or through `HTTP_PROXY` (the mock serves a proxy's absolute-form
    request as any other): the proxy mount's pool crossed loops too (seventeenth review)."""
    if request.param == "direct":
        return fedapay_mock.base_url
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", fedapay_mock.base_url.removesuffix("/v1"))
    return "http://fedapay.test/v1"


def test_an_async_client_serves_one_asyncio_run_after_another(fedapay_mock: MockServer, base_url: str) -> None:
    client = AsyncFedaPay(API_KEY, base_url=base_url)

    async def create() -> int:
        return (await client.payouts.create(**ORDER)).id

    first, second = asyncio.run(create()), asyncio.run(create())  # the second loop gets connections of its own
    assert first != second
    assert fedapay_mock.stats()["created"] == 2

    async def close() -> None:
        await client.close()

    asyncio.run(close())


def test_an_async_client_serves_threads_each_running_its_own_loop(fedapay_mock: MockServer, base_url: str) -> None:
    client = AsyncFedaPay(API_KEY, base_url=base_url, max_in_flight=2, deadline=20)
    outcomes: list[object] = []

    def worker() -> None:
        async def many() -> list[Any]:
            creates = (client.payouts.create(**ORDER) for _ in range(6))
            return list(await asyncio.gather(*creates, return_exceptions=True))

        outcomes.extend(asyncio.run(many()))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [type(outcome).__name__ for outcome in outcomes] == ["Payout"] * 18
    assert fedapay_mock.stats()["created"] == 18

    async def close() -> None:
        await client.close()  # the threads' loops are closed: their connections are let go without them

    asyncio.run(close())


def test_an_async_client_on_your_pool_refuses_a_second_loop_before_sending(fedapay_mock: MockServer) -> None:
    """Your AsyncClient's connections belong to the loop that made them: a call from another loop is refused,
    typed, with nothing sent (it raised RuntimeError('Event loop is closed') after reaching the server)."""
    yours = httpx.AsyncClient()
    client = AsyncFedaPay(API_KEY, base_url=fedapay_mock.base_url, http_client=yours)

    async def create() -> Any:
        return await client.payouts.create(**ORDER)

    async def first() -> None:
        await create()
        await yours._transport.aclose()  # its connection, closed on its own loop (the test leaves none open)

    asyncio.run(first())
    with pytest.raises(APIConnectionError, match="another event loop") as caught:
        asyncio.run(create())
    assert caught.value.request_sent is False
    assert fedapay_mock.stats()["requests"]["create_payout"] == 1


# --- an exception of a transport that is not httpx's -----------------------------------------------------------

class ActThenFail(httpx.HTTPTransport):
    """Sends the request for real (the server acts), then raises what no httpx transport would."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        super().handle_request(request).close()
        raise RuntimeError("Event loop is closed")


class AsyncActThenFail(httpx.AsyncHTTPTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await (await super().handle_async_request(request)).aclose()
        raise RuntimeError("Event loop is closed")


def test_an_exception_after_the_request_left_is_a_create_that_may_have_acted(
    api: Api, fedapay_mock: MockServer
) -> None:
    client = api.client(transport=ActThenFail() if api.mode == "sync" else AsyncActThenFail())
    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        api.call(client, lambda p: p.create(**ORDER, idempotency_key="order-91"))
    assert caught.value.idempotency_key == "order-91"
    assert "RuntimeError" in str(caught.value)
    assert fedapay_mock.stats()["created"] == 1  # the server acted, once: the call was not retried blindly
    again = api.client()
    assert api.call(again, lambda p: p.create(**ORDER, idempotency_key="order-91")).amount == 1000
    assert fedapay_mock.stats()["created"] == 1  # the key it reported finds that payout


def test_an_exception_before_anything_left_says_nothing_was_sent(api: Api, fedapay_mock: MockServer) -> None:
    """A hook of your client raising before the request leaves: typed, request_sent=False (was a bare ValueError)."""

    def hook(request: httpx.Request) -> None:
        raise ValueError("a hook of yours")

    async def ahook(request: httpx.Request) -> None:
        raise ValueError("a hook of yours")

    yours: httpx.Client | httpx.AsyncClient = (
        httpx.Client(event_hooks={"request": [hook]}) if api.mode == "sync"
        else httpx.AsyncClient(event_hooks={"request": [ahook]})
    )
    api.injected.append(yours)
    client = api.client(record=False, http_client=yours)
    with pytest.raises(APIConnectionError, match="ValueError") as caught:
        api.call(client, lambda p: p.create(**ORDER))
    assert caught.value.request_sent is False
    assert fedapay_mock.stats()["requests"].get("create_payout", 0) == 0


# --- a deadline on a transport that reports no phases (MockTransport, ASGI, yours) ------------------------------

PAYOUT_REPLY = {"v1/payout": payout(17)}


def test_a_deadline_passing_on_a_transport_without_phases_may_have_acted(twin: Twin) -> None:
    """The server had the request and acted; the reply came too slowly. It was reported as a connect timeout,
    'not sent: nothing happened on the server'."""
    acted: list[str] = []
    body = httpx.Response(201, json=PAYOUT_REPLY).content

    def chunks() -> Iterator[bytes]:
        yield body[:5]
        time.sleep(1.5)
        yield body[5:]

    async def achunks() -> AsyncIterator[bytes]:
        yield body[:5]
        await asyncio.sleep(1.5)
        yield body[5:]

    def handler(request: httpx.Request) -> httpx.Response:
        acted.append(request.url.path)
        stream: Any = chunks() if twin.mode == "sync" else achunks()
        return httpx.Response(201, content=stream, headers={"Content-Type": "application/json"})

    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        twin.call(lambda p: p.create(**ORDER, idempotency_key="order-92"), transport=httpx.MockTransport(handler),
                  deadline=0.5)
    assert caught.value.idempotency_key == "order-92"
    assert acted == ["/v1/payouts"]
    with pytest.raises(APITimeoutError) as timed_out:
        twin.call(lambda p: p.retrieve(17), transport=httpx.MockTransport(handler), deadline=0.5, max_retries=0)
    assert timed_out.value.request_sent is True


def test_an_async_deadline_inside_a_phaseless_handler_may_have_acted() -> None:
    acted: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        acted.append(request.url.path)  # the server has it and acts, then is slow to answer
        await asyncio.sleep(3)
        return httpx.Response(201, json=PAYOUT_REPLY)

    async def main() -> Any:
        async with AsyncFedaPay(API_KEY, base_url="http://fedapay.test/v1", transport=httpx.MockTransport(handler),
                                deadline=0.5) as client:
            return await client.payouts.create(**ORDER)

    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        asyncio.run(main())
    assert caught.value.idempotency_key
    assert acted == ["/v1/payouts"]


# --- a redirect answering a call that changes state ----------------------------------------------------------

SEE_OTHER = reply(303, b"", reason="See Other", headers={"Location": "/v1/payouts/17"})


@pytest.mark.parametrize("operation", ["create", "send_now", "schedule", "update", "delete"])
def test_a_redirect_answering_a_change_is_an_outcome_that_may_have_acted(
    twin: Twin, hostile_server: HostileServer, operation: str
) -> None:
    calls: dict[str, Any] = {
        "create": lambda p: p.create(**ORDER, idempotency_key="order-93"),
        "send_now": lambda p: p.send_now(17),
        "schedule": lambda p: p.schedule(17, "2031-01-01T00:00:00Z"),
        "update": lambda p: p.update(17, amount=10),
        "delete": lambda p: p.delete(17),
    }
    hostile_server.script(SEE_OTHER)
    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        twin.call(calls[operation])
    assert len(hostile_server.received) == 1  # never retried, never followed
    if operation == "create":
        assert caught.value.idempotency_key == "order-93"
    else:
        assert caught.value.payout_ids == [17]


def test_a_redirect_answering_a_read_stays_final(twin: Twin, hostile_server: HostileServer) -> None:
    hostile_server.script(SEE_OTHER)
    with pytest.raises(APIStatusError) as caught:
        twin.call(lambda p: p.retrieve(17))
    assert caught.value.status_code == 303
    assert len(hostile_server.received) == 1


# --- sleep= of the wrong kind ------------------------------------------------------------------------------------

async def _async_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


_wrong_sync_sleep: Any = lambda seconds: _async_sleep(seconds)  # noqa: E731 - a plain function returning a coroutine
_wrong_async_sleep: Any = lambda seconds: None  # noqa: E731 - a plain function that cannot be awaited


@pytest.mark.parametrize("sleep", [asyncio.sleep, _async_sleep, 5])
def test_a_sync_client_refuses_an_async_sleep(sleep: Any) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        FedaPay(API_KEY, sleep=sleep)
    assert caught.value.argument == "sleep"


@pytest.mark.parametrize("sleep", [time.sleep, [].append, 5])
def test_an_async_client_refuses_a_sleep_that_cannot_be_awaited(sleep: Any) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        AsyncFedaPay(API_KEY, sleep=sleep)
    assert caught.value.argument == "sleep"


def test_a_sleep_returning_the_wrong_kind_after_a_lost_reply_ends_with_the_key(fedapay_mock: MockServer) -> None:
    """Not refusable when made (a plain function may return an awaitable): guarded where it is called. After
    an attempt that may have acted, the create ends as PayoutOutcomeUnknownError with its key."""
    fedapay_mock.arm_fault("create_payout", "drop_after_store", times=1)
    with FedaPay(API_KEY, base_url=fedapay_mock.base_url, sleep=_wrong_sync_sleep) as client, \
            pytest.raises(PayoutOutcomeUnknownError) as caught:
        client.payouts.create(**ORDER, idempotency_key="order-94")
    assert caught.value.idempotency_key == "order-94"
    assert isinstance(caught.value.__cause__, InvalidArgumentError)

    fedapay_mock.arm_fault("create_payout", "drop_after_store", times=1)

    async def main() -> Any:
        async with AsyncFedaPay(API_KEY, base_url=fedapay_mock.base_url, sleep=_wrong_async_sleep) as client:
            return await client.payouts.create(**ORDER, idempotency_key="order-95")

    with pytest.raises(PayoutOutcomeUnknownError) as acaught:
        asyncio.run(main())
    assert acaught.value.idempotency_key == "order-95"


def test_a_sleep_returning_the_wrong_kind_when_nothing_happened_is_an_argument_error(
    fedapay_mock: MockServer
) -> None:
    fedapay_mock.arm_fault("create_payout", "status", times=1, status=503)
    with FedaPay(API_KEY, base_url=fedapay_mock.base_url, sleep=_wrong_sync_sleep) as client, \
            pytest.raises(InvalidArgumentError) as caught:
        client.payouts.create(**ORDER)
    assert caught.value.argument == "sleep"
    assert fedapay_mock.stats()["created"] == 0


@pytest.mark.parametrize("operation", ["start_payouts", "delete_payout"])
def test_a_sleep_that_fails_between_the_look_ups_after_a_lost_reply_is_an_unknown_outcome(
    fedapay_mock: MockServer, operation: str
) -> None:
    """The start (or delete) is applied and its reply lost; the look-up after it is refused once (503) and the
    caller's sleep before the look-up's retry fails: the payout may well have been started (deleted), so the
    call ends in PayoutOutcomeUnknownError, not in InvalidArgumentError ("refused before any request")."""
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:  # the first is the call's own wait before its look-up; the second, the look-up's
            raise RuntimeError("the sleep broke")

    with FedaPay(API_KEY, base_url=fedapay_mock.base_url, sleep=sleep) as client:
        payout = client.payouts.create(**ORDER)
        fedapay_mock.arm_fault(operation, "drop_after_store", times=1)
        fedapay_mock.arm_fault("retrieve_payout", "status", times=1, status=503)
        act = client.payouts.send_now if operation == "start_payouts" else client.payouts.delete
        with pytest.raises(PayoutOutcomeUnknownError) as caught:
            act(payout.id)
    assert caught.value.payout_ids == [payout.id]
    assert isinstance(caught.value.__cause__, InvalidArgumentError)
    assert len(waits) == 2
    assert fedapay_mock.stats()["by_status"] == ({"started": 1} if operation == "start_payouts" else {})


# --- a closed client, bad arguments of `call` and `extra_query` ----------------------------------------------------

def test_a_closed_client_and_its_copies_refuse_typed_before_sending(api: Api, fedapay_mock: MockServer) -> None:
    client = api.client()
    copy = client.with_options(account_id=5)
    api.run(client.close()) if api.mode == "async" else client.close()
    for closed in (client, copy):
        with pytest.raises(APIConnectionError, match="has been closed") as caught:
            api.call(closed, lambda p: p.create(**ORDER))
        assert caught.value.request_sent is False
    assert api.sent == []


def test_call_with_an_unhashable_operation_and_extra_query_with_a_bad_key_are_argument_errors(api: Api) -> None:
    client = api.client()
    with pytest.raises(InvalidArgumentError) as caught:
        api.call(client, lambda p: p.call([1, 2]))
    assert caught.value.argument == "operation"
    with pytest.raises(InvalidArgumentError) as bad_key:
        api.call(client, lambda p: p.retrieve(1, extra_query={"\ud800": 1}))
    assert bad_key.value.argument == "extra_query['\\ud800']"
    str(bad_key.value).encode("utf-8")  # shown safely: the message itself is valid text
    assert api.sent == []


# --- second review: loops dropped without close(), a close from another loop, a sleep= that raises ----------

def test_loops_dropped_without_close_are_not_kept_alive_by_the_client(fedapay_mock: MockServer) -> None:
    """A worker's loop dropped without `close()` (a common shortcut) used to be kept, with its sockets open, for
    as long as the client lived: its own connections held it. A loop that is not running when another loop
    arrives is let go."""
    import gc
    import warnings
    import weakref

    client = AsyncFedaPay(API_KEY, base_url=fedapay_mock.base_url, max_in_flight=2)
    loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []

    async def two_calls() -> None:
        await asyncio.gather(client.payouts.list(), client.payouts.list())

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # the loops' own "unclosed event loop"
        for _ in range(12):
            loop = asyncio.new_event_loop()
            loops.append(weakref.ref(loop))
            loop.run_until_complete(two_calls())
            del loop
        gc.collect()
        kept = sum(ref() is not None for ref in loops)
        last = loops[-1]()
        if last is not None:
            last.run_until_complete(client.close())
            last.close()
    assert kept <= 1  # at most the last one, whose places the client still holds


def test_closing_from_another_loop_closes_an_idle_loops_connections(fedapay_mock: MockServer) -> None:
    import gc
    import warnings

    client = AsyncFedaPay(API_KEY, base_url=fedapay_mock.base_url, max_in_flight=4)
    idle = asyncio.new_event_loop()

    async def four_calls() -> None:
        await asyncio.gather(*(client.payouts.list() for _ in range(4)))

    idle.run_until_complete(four_calls())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        asyncio.run(client.close())  # another loop; `idle` is neither closed nor running
        idle.close()
        del idle
        gc.collect()
    unclosed = [str(w.message) for w in caught if "unclosed" in str(w.message) and "event loop" not in str(w.message)]
    assert unclosed == []


def _sleep_of_no_arguments() -> None:
    return None


async def _async_sleep_of_no_arguments() -> None:
    return None


def test_a_sleep_that_raises_after_a_lost_reply_ends_with_the_key(fedapay_mock: MockServer) -> None:
    """A `sleep=` of the wrong signature raises TypeError when called: that used to escape bare, after a create
    that may have acted, with no key. It is handed to the operation like a sleep of the wrong kind."""
    fedapay_mock.arm_fault("create_payout", "drop_after_store", times=1)
    with FedaPay(
        API_KEY, base_url=fedapay_mock.base_url, sleep=_sleep_of_no_arguments  # type: ignore[arg-type]
    ) as client, pytest.raises(PayoutOutcomeUnknownError) as caught:
        client.payouts.create(**ORDER, idempotency_key="order-96")
    assert caught.value.idempotency_key == "order-96"
    assert isinstance(caught.value.__cause__, InvalidArgumentError)
    assert "raised TypeError" in str(caught.value.__cause__)

    fedapay_mock.arm_fault("create_payout", "drop_after_store", times=1)

    async def main() -> Any:
        async with AsyncFedaPay(
            API_KEY, base_url=fedapay_mock.base_url, sleep=_async_sleep_of_no_arguments  # type: ignore[arg-type]
        ) as client:
            return await client.payouts.create(**ORDER, idempotency_key="order-97")

    with pytest.raises(PayoutOutcomeUnknownError) as acaught:
        asyncio.run(main())
    assert acaught.value.idempotency_key == "order-97"
    assert fedapay_mock.stats()["created"] == 2


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise ValueError("no text")


def test_a_transport_exception_whose_text_fails_still_ends_typed(fedapay_mock: MockServer) -> None:
    class Raising(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            raise _Unprintable

    with FedaPay(API_KEY, base_url=fedapay_mock.base_url, transport=Raising()) as client, \
            pytest.raises(PayoutOutcomeUnknownError) as caught:
        client.payouts.create(**ORDER, idempotency_key="order-98")
    assert caught.value.idempotency_key == "order-98"
    assert "_Unprintable" in str(caught.value)
