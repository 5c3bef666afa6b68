"""Issue 9, class 7: a call ends by its deadline, whatever the server does, sync and async.

A raw loopback server drips its reply one byte at a time (status line and headers, or the body), or
asks for a long `Retry-After`. The call must end by its `deadline=` (all attempts and waits included)
and each attempt by its read timeout, with an error that says which bound it hit and, for a create,
that the payout may exist. Time bounds here are generous "does not hang" bounds only: the drips
would hold today's client for 30 s per attempt.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from fedapay_payouts import (
    APITimeoutError,
    AsyncFedaPay,
    FedaPay,
    FedaPayError,
    InternalServerError,
    InvalidArgumentError,
    PayoutOutcomeUnknownError,
)

from tests.client.client_support import API_KEY, CUSTOMER
from tests.client.hostile_server import HostileServer, drip, head, payout, reply
from tests.client.twin_support import Twin

pytestmark = pytest.mark.timeout(120)

# A byte every 50 ms (for 30 s): each gap far below the 0.25 s timeouts and deadlines below, so only a bound on the
# whole reply or call stops the read, never httpx's per-read timeout, even when a busy machine delays a byte.
DRIP_EVERY = 0.05
HEADERS_SLOWLY = drip(b"", b"HTTP/1.1 200 OK\r\n" + b"X-Padding: " + b"a" * 1000 + b"\r\n\r\n", every=DRIP_EVERY)
BODY_SLOWLY = drip(head(200, "OK", {"Content-Type": "application/json"}, 1000), b" " * 1000, every=DRIP_EVERY)


@pytest.mark.parametrize("script", [HEADERS_SLOWLY, BODY_SLOWLY], ids=["headers drip", "body drip"])
def test_a_dripping_server_cannot_hold_a_read_past_its_deadline(
    twin: Twin, hostile_server: HostileServer, script: Any
) -> None:
    hostile_server.script(script)

    with pytest.raises(APITimeoutError) as caught:
        twin.call(lambda p: p.retrieve(5, timeout=5.0, deadline=0.25))

    assert "the call's deadline of 0.25 s passed" in str(caught.value)
    assert caught.value.request_sent is True
    assert twin.elapsed < 3.0  # 0.25 s deadline; generous bound for a busy machine
    assert len(hostile_server.received) == 1  # no retry started past the deadline


@pytest.mark.parametrize("script", [HEADERS_SLOWLY, BODY_SLOWLY], ids=["headers drip", "body drip"])
def test_the_read_timeout_bounds_the_whole_reply_not_each_byte(
    twin: Twin, hostile_server: HostileServer, script: Any
) -> None:
    hostile_server.script(script)

    with pytest.raises(APITimeoutError) as caught:
        twin.call(lambda p: p.retrieve(5, timeout=0.25), max_retries=0)

    assert "no complete reply within the read timeout of 0.25 s" in str(caught.value)
    assert twin.elapsed < 3.0


def test_retries_of_a_dripping_read_all_fit_in_the_deadline(twin: Twin, hostile_server: HostileServer) -> None:
    hostile_server.script(BODY_SLOWLY)

    with pytest.raises(APITimeoutError):
        twin.call(lambda p: p.retrieve(5, timeout=0.25, deadline=1.5), max_retries=10)

    assert twin.elapsed < 4.0
    assert 2 <= len(hostile_server.received) <= 4  # attempts of 0.25 s, back-off 0.5 s then 1 s between them


def test_a_create_stopped_by_its_deadline_may_have_created_the_payout(
    twin: Twin, hostile_server: HostileServer
) -> None:
    hostile_server.script(HEADERS_SLOWLY)

    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        twin.call(lambda p: p.create(amount=900, currency="XOF", mode="moov", customer=CUSTOMER,
                                     idempotency_key="key-1", deadline=0.25))

    assert caught.value.idempotency_key == "key-1"
    assert "the call's deadline of 0.25 s passed" in str(caught.value)
    assert twin.elapsed < 3.0


def test_a_start_stopped_by_its_deadline_names_the_payouts(twin: Twin, hostile_server: HostileServer) -> None:
    hostile_server.script(BODY_SLOWLY)

    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        twin.call(lambda p: p.start([5, 6], deadline=0.25))

    assert caught.value.payout_ids == [5, 6]
    assert twin.elapsed < 3.0


def test_no_retry_waits_past_the_deadline(twin: Twin, hostile_server: HostileServer) -> None:
    # Retry-After: 5 is obeyed normally (at most 60 s); with 1 s left the call fails now instead.
    hostile_server.script(reply(503, {"message": "busy"}, headers={"Retry-After": "5"}))

    with pytest.raises(InternalServerError) as caught:
        twin.call(lambda p: p.retrieve(5, deadline=1.0))

    assert caught.value.retry_after == 5.0
    assert len(hostile_server.received) == 1
    assert twin.elapsed < 3.0


def test_the_client_deadline_applies_to_every_call(twin: Twin, hostile_server: HostileServer) -> None:
    hostile_server.script(HEADERS_SLOWLY)

    with pytest.raises(APITimeoutError) as caught:
        twin.call(lambda p: p.retrieve(5, timeout=None), deadline=0.25)

    assert "the call's deadline of 0.25 s passed" in str(caught.value)
    assert twin.elapsed < 3.0


def test_a_deadline_long_enough_changes_nothing(twin: Twin, hostile_server: HostileServer) -> None:
    hostile_server.script(reply(500, {"message": "oops"}), reply(200, {"v1/payout": payout(5)}))

    result = twin.call(lambda p: p.retrieve(5, deadline=30.0))

    assert result.id == 5
    assert len(hostile_server.received) == 2


BAD_DEADLINES = [0, -1, math.nan, math.inf, 1e9, "5", True, None]


@pytest.mark.parametrize("value", BAD_DEADLINES, ids=repr)
def test_a_bad_deadline_is_refused_before_any_request(hostile_server: HostileServer, value: Any) -> None:
    with pytest.raises(InvalidArgumentError) as at_construction:
        FedaPay(API_KEY, base_url=hostile_server.base_url, deadline=value)
    assert at_construction.value.argument == "deadline"
    with pytest.raises(InvalidArgumentError) as async_construction:
        AsyncFedaPay(API_KEY, base_url=hostile_server.base_url, deadline=value)
    assert async_construction.value.argument == "deadline"

    with FedaPay(API_KEY, base_url=hostile_server.base_url) as client:
        for operation in (
            lambda: client.payouts.retrieve(5, deadline=value),
            lambda: client.payouts.start(5, deadline=value),
            lambda: client.payouts.create(amount=900, currency="XOF", mode="moov", customer=CUSTOMER, deadline=value),
            lambda: client.payouts.auto_paging_iter(deadline=value),
        ):
            with pytest.raises(InvalidArgumentError) as per_call:
                operation()
            assert per_call.value.argument == "deadline"
    assert hostile_server.received == []


def test_the_deadline_settings_are_visible() -> None:
    with FedaPay(API_KEY, deadline=30) as client:
        assert client.deadline == 30.0
    with FedaPay(API_KEY) as client:
        assert client.deadline == 120.0


def test_every_operation_takes_a_deadline() -> None:
    import inspect

    from fedapay_payouts import AsyncPayouts, Payouts

    for twin_class in (Payouts, AsyncPayouts):
        for name in ("create", "start", "send_now", "schedule", "retrieve", "list", "update", "delete",
                     "auto_paging_iter"):
            parameter = inspect.signature(getattr(twin_class, name)).parameters["deadline"]
            assert parameter.kind is inspect.Parameter.KEYWORD_ONLY


def test_an_error_is_always_typed_when_the_deadline_cuts_a_call(twin: Twin, hostile_server: HostileServer) -> None:
    # Drip the status line of every attempt, including the checks a start makes after an ambiguous failure.
    hostile_server.script(reply(502, {"message": "bad gateway"}), HEADERS_SLOWLY)

    with pytest.raises(FedaPayError) as caught:
        twin.call(lambda p: p.send_now(5, deadline=0.5))

    assert isinstance(caught.value, PayoutOutcomeUnknownError)
    assert twin.elapsed < 3.5
