"""`client.payouts.with_raw_response.<operation>(...)`: the reply and request id of a *successful* call.

openai-python's convention: a `RawResponse` with `.headers`, `.status_code`, `.http_request`,
`.request_id` and `.parse()` for the usual result. It must be the same call (same steps, retries,
checks), and the reply it shows must be the one the result was read from, also after retries.
On the loopback mock (which now sends `X-Request-Id`), both twins.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fedapay_mock.server import MockServer
from fedapay_payouts import FedaPay, InvalidArgumentError, Payout, PayoutOutcomeUnknownError, RawResponse

from tests.client.client_support import API_KEY, CUSTOMER, Api

CREATE: dict[str, Any] = {"amount": 1000, "currency": "XOF", "mode": "mtn_open", "customer": CUSTOMER}


class ReplyLog(httpx.HTTPTransport):
    """Keeps every reply object the pool produced, to compare with the one the raw response shows."""

    def __init__(self, replies: list[httpx.Response]) -> None:
        super().__init__()
        self.replies = replies
        self.keys: list[str | None] = []  # each attempt's Idempotency-Key

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.keys.append(request.headers.get("idempotency-key"))
        response = super().handle_request(request)
        self.replies.append(response)
        return response


class AsyncReplyLog(httpx.AsyncHTTPTransport):
    def __init__(self, replies: list[httpx.Response]) -> None:
        super().__init__()
        self.replies = replies
        self.keys: list[str | None] = []  # each attempt's Idempotency-Key

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.keys.append(request.headers.get("idempotency-key"))
        response = await super().handle_async_request(request)
        self.replies.append(response)
        return response


def logged(api: Api, replies: list[httpx.Response], keys: list[str | None] | None = None, **options: Any) -> Any:
    transport = ReplyLog(replies) if api.mode == "sync" else AsyncReplyLog(replies)
    if keys is not None:
        transport.keys = keys
    return api.client(transport=transport, **options)


def test_create_gives_the_reply_its_request_id_and_the_usual_result(api: Api) -> None:
    replies: list[httpx.Response] = []
    client = logged(api, replies)
    raw = api.call(client, lambda p: p.with_raw_response.create(**CREATE, merchant_reference="raw-1"))
    assert isinstance(raw, RawResponse)
    payout = raw.parse()
    assert isinstance(payout, Payout)
    assert (payout.amount, payout.merchant_reference, payout.status) == (1000, "raw-1", "pending")
    assert raw.status_code == 201
    assert (raw.http_request.method, raw.http_request.url.path) == ("POST", "/v1/payouts")
    assert raw.http_request.headers["idempotency-key"]
    (only,) = replies
    assert raw.request_id is not None
    assert raw.request_id == only.headers["x-request-id"] == raw.headers["x-request-id"]
    assert raw.request_id.startswith("req_")
    again = api.call(client, lambda p: p.retrieve(payout.id))
    assert again.id == payout.id


def test_every_operation_has_its_raw_twin(api: Api) -> None:
    client = api.client()
    raw_ops = client.payouts.with_raw_response
    first = api.call(client, lambda p: p.with_raw_response.create(**CREATE)).parse()
    second = api.call(client, lambda p: p.create(**CREATE))
    third = api.call(client, lambda p: p.create(**CREATE))
    listed = api.run(raw_ops.list(per_page=2))
    assert (listed.status_code, len(listed.parse().items)) == (200, 2)
    assert listed.http_request.url.params["per_page"] == "2"
    retrieved = api.run(raw_ops.retrieve(first.id))
    assert (retrieved.parse().id, retrieved.http_request.url.path) == (first.id, f"/v1/payouts/{first.id}")
    updated = api.run(raw_ops.update(first.id, amount=1500))
    assert (updated.http_request.method, updated.parse().amount) == ("PUT", 1500)
    sent = api.run(raw_ops.send_now(first.id))
    assert (sent.http_request.url.path, sent.parse().status) == ("/v1/payouts/start", "started")
    scheduled = api.run(raw_ops.schedule(second.id, "2031-01-01T10:00:00Z"))
    assert scheduled.parse().status == "scheduled"
    started = api.run(raw_ops.start([third.id]))
    assert [p.id for p in started.parse()] == [third.id]
    searched = api.run(raw_ops.search(search=str(third.reference)))
    assert searched.http_request.url.path == "/v1/payouts/search"
    called = api.run(raw_ops.call("retrieve_payout", id=third.id))
    assert (called.status_code, called.http_request.url.path) == (200, f"/v1/payouts/{third.id}")
    assert called.parse() is not None  # the reply's generated model, as `call` returns it
    fourth = api.call(client, lambda p: p.create(**CREATE))
    deleted = api.run(raw_ops.delete(fourth.id))
    assert (deleted.parse(), deleted.http_request.method) == (None, "DELETE")
    ids = {raw.request_id for raw in (listed, retrieved, updated, sent, scheduled, started, searched, called, deleted)}
    assert None not in ids
    assert len(ids) == 9  # each its own reply


def test_after_retries_the_raw_response_is_the_reply_the_result_came_from(api: Api, fedapay_mock: MockServer) -> None:
    replies: list[httpx.Response] = []
    keys: list[str | None] = []
    client = logged(api, replies, keys)
    fedapay_mock.arm_fault("create_payout", "status", status=503, times=1)
    fedapay_mock.arm_fault("create_payout", "drop_after_store", times=1)
    raw = api.call(client, lambda p: p.with_raw_response.create(**CREATE, merchant_reference="raw-retry"))
    assert len(api.sleeps) == 2  # the same retries as the plain call: 503, then a lost reply
    assert replies[0].status_code == 503
    assert raw.status_code in (200, 201)
    assert raw.request_id == replies[-1].headers["x-request-id"] != replies[0].headers["x-request-id"]
    assert len(keys) == 3  # 503, lost reply, success
    assert set(keys) == {raw.http_request.headers["idempotency-key"]}  # one logical call: one key
    assert raw.parse().merchant_reference == "raw-retry"
    listed = api.call(client, lambda p: p.list(per_page=100)).items
    assert [p.merchant_reference for p in listed].count("raw-retry") == 1


def test_a_raw_call_fails_as_the_plain_call_does(api: Api, fedapay_mock: MockServer) -> None:
    client = api.client(max_retries=0)
    with pytest.raises(InvalidArgumentError) as caught:
        api.run(client.payouts.with_raw_response.create(**{**CREATE, "amount": "1000"}))
    assert caught.value.argument == "amount"
    assert api.sent == []
    fedapay_mock.arm_fault("create_payout", "drop_after_store", times=1)
    with pytest.raises(PayoutOutcomeUnknownError):
        api.run(client.payouts.with_raw_response.create(**CREATE))


def test_the_raw_response_repr_shows_no_secret(fedapay_mock: MockServer) -> None:
    with FedaPay(API_KEY, base_url=fedapay_mock.base_url) as client:
        raw = client.payouts.with_raw_response.create(**CREATE)
    text = repr(raw)
    assert text.startswith("<RawResponse [201] POST /v1/payouts request_id='req_")
    assert API_KEY not in text + repr(raw.http_request) + repr(raw.headers) + repr(raw.http_request.headers)
    assert "[secure]" in repr(raw.http_request.headers)
