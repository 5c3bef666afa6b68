"""`client.with_options(...)`: a configured copy sharing the pool and the in-flight limit (issue 13).

Platforms paying for several sub-accounts need the account per request; openai-python and
stripe-python users reach for `with_options`. Every test runs on the loopback mock, with both twins.
The transport under the client's own pool records, for each request, its headers, its timeouts and
the local port of the connection it went out on: one pool means one connection reused.
"""

from __future__ import annotations

import asyncio
import threading
import types
from typing import Any

import httpx
import pytest
from fedapay_payouts import (
    APITimeoutError,
    AsyncFedaPay,
    FedaPay,
    FedaPayError,
    InternalServerError,
    InvalidArgumentError,
    RetryPolicy,
    _deadline,
    _socket_deadline,
)

from tests.client.client_support import API_KEY, CUSTOMER, Api

Seen = list[tuple[httpx.Headers, dict[str, Any], int]]


def _port(response: httpx.Response) -> int:
    stream = response.extensions["network_stream"]
    port: int = stream.get_extra_info("client_addr")[1]
    return port


class PortTransport(httpx.HTTPTransport):
    def __init__(self, seen: Seen, gate: threading.Event | None = None) -> None:
        super().__init__()
        self.seen = seen
        self.gate = gate
        self.entered = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(30), "the test never opened the gate"
        response = super().handle_request(request)
        self.seen.append((request.headers, dict(request.extensions["timeout"]), _port(response)))
        return response


class AsyncPortTransport(httpx.AsyncHTTPTransport):
    def __init__(self, seen: Seen, gate: asyncio.Event | None = None) -> None:
        super().__init__()
        self.seen = seen
        self.gate = gate
        self.entered: asyncio.Event | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.entered is not None:
            self.entered.set()
        if self.gate is not None:
            await asyncio.wait_for(self.gate.wait(), 30)
        response = await super().handle_async_request(request)
        self.seen.append((request.headers, dict(request.extensions["timeout"]), _port(response)))
        return response


def recorded(api: Api, seen: Seen, **options: Any) -> FedaPay | AsyncFedaPay:
    transport = PortTransport(seen) if api.mode == "sync" else AsyncPortTransport(seen)
    return api.client(transport=transport, **options)


def close(api: Api, client: FedaPay | AsyncFedaPay) -> None:
    if isinstance(client, FedaPay):
        client.close()
    else:
        api.run(client.close())


def test_the_copy_sends_its_account_timeout_and_headers_and_the_original_does_not(api: Api) -> None:
    seen: Seen = []
    client = recorded(api, seen)
    copy = client.with_options(account_id=77, timeout=7.5, default_headers={"X-Team": "ops"})
    assert type(copy) is type(client)
    payout = api.call(copy, lambda p: p.create(amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER))
    assert api.call(client, lambda p: p.retrieve(payout.id)).id == payout.id
    (copy_headers, copy_timeout, copy_port), (own_headers, own_timeout, own_port) = seen
    assert (copy_headers["fedapay-account"], copy_headers["x-team"]) == ("77", "ops")
    assert copy_timeout == {"connect": 7.5, "read": 7.5, "write": 7.5, "pool": 7.5}
    assert "fedapay-account" not in own_headers
    assert "x-team" not in own_headers
    assert own_timeout == {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 30.0}
    assert copy_headers["authorization"] == own_headers["authorization"] == f"Bearer {API_KEY}"
    assert copy_port == own_port  # one pool: the copy's connection was reused by the original
    assert (copy.account_id, client.account_id) == ("77", None)
    assert "api_key='[secure]'" in repr(copy)
    assert API_KEY not in repr(copy)


def test_the_read_timeout_sent_is_exactly_the_one_set_whatever_the_clock_reads(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read timeout is not `(now + read) - now`: just below a power of two (about 4.55 hours after boot
    for 2**14 s) float rounding made 7.5 into 7.499999999998181 or 7.500000000001819."""
    just_below_a_binade = 2.0**14 - 3 + 2.0**-39  # `now + 7.5` crosses 2**14: rounded to the next ulp
    assert (just_below_a_binade + 7.5) - just_below_a_binade != 7.5  # the arithmetic the test is about
    frozen_clock = types.SimpleNamespace(monotonic=lambda: just_below_a_binade)
    monkeypatch.setattr(_deadline, "time", frozen_clock)
    monkeypatch.setattr(_socket_deadline, "time", frozen_clock)  # the sync client's sockets read it too
    seen: Seen = []
    client = recorded(api, seen, timeout=7.5)
    api.call(client, lambda p: p.create(amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER))
    ((_headers, timeout, _port),) = seen
    assert timeout == {"connect": 7.5, "read": 7.5, "write": 7.5, "pool": 7.5}
    close(api, client)


def test_a_copy_can_drop_or_change_the_account_and_keeps_everything_else(api: Api) -> None:
    seen: Seen = []
    client = recorded(api, seen, account_id="acc_1", default_headers={"X-Team": "ops"}, deadline=30)
    no_account = client.with_options(account_id=None)
    other = client.with_options(account_id="acc_2", default_headers={"x-team": "pay"})
    for each in (client, no_account, other):
        api.call(each, lambda p: p.list(per_page=1))
    accounts = [headers.get("fedapay-account") for headers, _, _ in seen]
    assert accounts == ["acc_1", None, "acc_2"]
    assert [headers.get_list("x-team") for headers, _, _ in seen] == [["ops"], ["ops"], ["pay"]]
    assert len({port for _, _, port in seen}) == 1
    assert (other.deadline, other.timeout, other.base_url) == (30.0, client.timeout, client.base_url)


def test_max_retries_and_headers_of_the_copy_apply_to_its_calls_only(api: Api) -> None:
    client = api.client(max_retries=2)
    payout = api.call(client, lambda p: p.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER))
    failing = client.with_options(max_retries=1, default_headers={"Prefer": "code=503"})
    with pytest.raises(InternalServerError):
        api.call(failing, lambda p: p.retrieve(payout.id))
    assert len(api.sleeps) == 1  # one retry: the copy's max_retries, with the original's delays
    assert [sent.headers.get("prefer") for sent in api.sent] == [None, "code=503", "code=503"]
    assert api.call(client, lambda p: p.retrieve(payout.id)).id == payout.id
    assert (client.retry_policy.max_retries, failing.retry_policy.max_retries) == (2, 1)
    assert failing.retry_policy.initial_delay == client.retry_policy.initial_delay


def test_closing_the_copy_leaves_the_shared_pool_open(api: Api) -> None:
    seen: Seen = []
    client = recorded(api, seen)
    copy = client.with_options(account_id=5)
    api.call(copy, lambda p: p.list(per_page=1))
    close(api, copy)
    api.call(client, lambda p: p.list(per_page=1))
    api.call(copy, lambda p: p.list(per_page=1))  # still usable: the pool is the original's
    assert len({port for _, _, port in seen}) == 1


def test_the_copy_never_reads_the_environment_again(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: Seen = []
    client = recorded(api, seen)
    monkeypatch.setenv("FEDAPAY_ACCOUNT_ID", "999")
    monkeypatch.setenv("FEDAPAY_MAX_RETRIES", "9")
    monkeypatch.setenv("FEDAPAY_ENVIRONMENT", "live")
    copy = client.with_options(timeout=3)
    api.call(copy, lambda p: p.list(per_page=1))
    assert "fedapay-account" not in seen[0][0]
    assert (copy.account_id, copy.retry_policy.max_retries, copy.environment) == (None, 2, "sandbox")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("timeout", float("nan")), ("timeout", -1), ("timeout", float("inf")), ("timeout", "5"),
        ("timeout", httpx.Timeout(5.0, read=float("nan"))),
        ("max_retries", "3"), ("max_retries", -1), ("max_retries", True), ("max_retries", 10**6), ("max_retries", None),
        ("account_id", "4\r\n2"), ("account_id", 0), ("account_id", True), ("account_id", "x" * 65),
        ("account_id", "acc\x00"),
        ("deadline", 0), ("deadline", float("inf")), ("deadline", "10"),
        ("default_headers", {"Authorization": "Bearer sk_sandbox_someone_else"}),
        ("default_headers", {"FedaPay-Account": "9"}), ("default_headers", {"X-A": "1\r\nX-B: 2"}),
        ("default_headers", ["X-A"]),
        ("retry_policy", 3), ("retry_policy", {"max_retries": 1}), ("retry_policy", None),
        ("max_response_bytes", 0), ("max_response_bytes", -5), ("max_response_bytes", "10"),
        ("max_response_bytes", True), ("max_response_bytes", 2.5),
    ],
)
def test_hostile_values_are_refused_naming_the_option(api: Api, option: str, value: Any) -> None:
    client = api.client()
    with pytest.raises(InvalidArgumentError) as caught:
        client.with_options(**{option: value})
    assert caught.value.argument.split("[")[0].split(".")[0] == option
    assert "sk_sandbox_someone_else" not in str(caught.value)
    api.call(client, lambda p: p.list(per_page=1))  # the original is untouched
    assert "fedapay-account" not in api.sent[0].headers


def test_a_whole_retry_policy_and_a_reply_size_limit_apply_to_the_copy_only(api: Api) -> None:
    client = api.client(max_retries=2)
    payout = api.call(client, lambda p: p.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER))
    policy = RetryPolicy(max_retries=3, initial_delay=0.25, max_delay=0.25)
    failing = client.with_options(retry_policy=policy, default_headers={"Prefer": "code=503"})
    with pytest.raises(InternalServerError):
        api.call(failing, lambda p: p.retrieve(payout.id))
    assert len(api.sleeps) == 3  # the copy's own policy: three retries (the original's allows two)
    assert max(api.sleeps) <= 0.25  # within its max_delay (jittered)
    assert failing.retry_policy is policy
    assert client.retry_policy.max_retries == 2
    for _ in range(2):  # three payouts: a page of them is about 2 KB, each payout several hundred bytes
        api.call(client, lambda p: p.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER))
    small = client.with_options(max_response_bytes=1024)
    with pytest.raises(FedaPayError) as caught:
        api.call(small, lambda p: p.list(per_page=3))
    assert "1024" in str(caught.value)
    assert (small.max_response_bytes, client.max_response_bytes) == (1024, 10 * 1024 * 1024)
    assert len(api.call(client, lambda p: p.list(per_page=3)).items) == 3
    with pytest.raises(InvalidArgumentError) as both:
        client.with_options(max_retries=1, retry_policy=policy)
    assert both.value.argument == "max_retries"


def test_unknown_options_are_refused() -> None:
    with FedaPay(API_KEY) as client, pytest.raises(TypeError):
        client.with_options(api_key="sk_sandbox_other")  # type: ignore[call-arg]


# The copy's waiting call is retried as usual (a place that never frees is not sent), 10 ms apart instead of 0.5 s.
QUICK_RETRIES = RetryPolicy(2, initial_delay=0.01)


def test_the_copy_shares_the_in_flight_limit_sync(fedapay_mock: Any) -> None:
    seen: Seen = []
    gate = threading.Event()
    transport = PortTransport(seen, gate)
    with FedaPay(API_KEY, base_url=fedapay_mock.base_url, transport=transport, max_in_flight=1) as client:
        copy = client.with_options(account_id=3, retry_policy=QUICK_RETRIES)
        results: list[object] = []
        holder = threading.Thread(target=lambda: results.append(client.payouts.list(per_page=1)))
        holder.start()
        assert transport.entered.wait(30)
        try:
            with pytest.raises(APITimeoutError) as caught:
                copy.payouts.list(per_page=1, timeout=httpx.Timeout(10.0, pool=0.05))
        finally:
            gate.set()
            holder.join(30)
        assert caught.value.request_sent is False
        assert "no free place among max_in_flight=1" in str(caught.value)
        assert len(results) == 1
        assert len(seen) == 1


def test_the_copy_shares_the_in_flight_limit_async(fedapay_mock: Any) -> None:
    async def scenario() -> None:
        seen: Seen = []
        gate = asyncio.Event()
        transport = AsyncPortTransport(seen, gate)
        transport.entered = asyncio.Event()
        async with AsyncFedaPay(API_KEY, base_url=fedapay_mock.base_url, transport=transport,
                                max_in_flight=1) as client:
            copy = client.with_options(account_id=3, retry_policy=QUICK_RETRIES)
            holder = asyncio.create_task(client.payouts.list(per_page=1))
            await asyncio.wait_for(transport.entered.wait(), 30)
            try:
                with pytest.raises(APITimeoutError) as caught:
                    await copy.payouts.list(per_page=1, timeout=httpx.Timeout(10.0, pool=0.05))
            finally:
                gate.set()
            await asyncio.wait_for(holder, 30)
            assert caught.value.request_sent is False
            assert "no free place among max_in_flight=1" in str(caught.value)
            assert len(seen) == 1

    asyncio.run(scenario())


def test_a_copy_of_a_client_over_your_http_client_sends_its_account_through_it(api: Api) -> None:
    client = api.client(injected=True, account_id="acc_1")
    copy = client.with_options(account_id="acc_2", default_headers={"X-Team": "ops"})
    api.call(copy, lambda p: p.list(per_page=1))
    api.call(client, lambda p: p.list(per_page=1))
    assert [(s.headers.get("fedapay-account"), s.headers.get("x-team")) for s in api.sent] == [
        ("acc_2", "ops"), ("acc_1", None)
    ]
    close(api, copy)
    api.call(client, lambda p: p.list(per_page=1))  # your http_client stays open: it is yours
