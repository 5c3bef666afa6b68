"""Ids are exactly ints, and every reply must answer what was asked.

- `start(b"42")` used to send `{"payouts": [{"id": 52}, {"id": 50}]}`: bytes, strings, sets,
  generators, mappings that are no StartItem... are refused before any request.
- A reply naming other payouts than asked (a stale reply on a pooled connection, a broken server),
  or a state a start does not produce, is never returned as success: after a mutating request it is
  `PayoutOutcomeUnknownError`, otherwise `APIResponseValidationError`.
"""

from __future__ import annotations

import datetime
import functools
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fedapay_mock.server import MockServer
from fedapay_payouts import (
    APIError,
    APIResponseValidationError,
    FedaPay,
    InvalidArgumentError,
    PayoutOutcomeUnknownError,
    UnprocessableEntityError,
)

from tests.client.client_support import CUSTOMER, Api, scripted


def _generator() -> Iterator[int]:
    yield 42


HOSTILE_IDS: list[Any] = [
    b"42", bytearray(b"42"), memoryview(b"42"), "42", " 42", {42}, frozenset({42}), _generator(), True, False,
    42.0, None, -1, 0, 2**63, [b"42"], {"42": 1}, {42: 1}, {"id": b"42"}, {"id": "42"}, {"id": True},
    {"idx": 42}, range(42, 43), (i for i in [42]),
]

ID_TAKERS: dict[str, Callable[[Any, Any], Any]] = {
    "start": lambda p, v: p.start(v),  # each taker is called as taker(payouts, v=value)
    "start([...])": lambda p, v: p.start([1, v]),
    "send_now": lambda p, v: p.send_now(v),
    "schedule": lambda p, v: p.schedule(v, datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)),
    "retrieve": lambda p, v: p.retrieve(v),
    "update": lambda p, v: p.update(v, amount=1000),
    "delete": lambda p, v: p.delete(v),
    "customer id": lambda p, v: p.create(amount=1000, currency="XOF", mode="moov", customer={"id": v}),
}


@pytest.mark.parametrize("operation", list(ID_TAKERS), ids=str)
def test_every_id_argument_refuses_anything_but_an_int_before_any_request(
    api: Api, fedapay_mock: MockServer, operation: str
) -> None:
    client = api.client()
    accepted_by_start = {"start"}  # a {"id": 42} mapping *is* a StartItem; those are valid for start
    for value in HOSTILE_IDS:
        if operation in accepted_by_start and isinstance(value, dict) and value == {"id": 42}:
            continue
        taker: Callable[[Any], Any] = functools.partial(ID_TAKERS[operation], v=value)  # type: ignore[call-arg]
        with pytest.raises(InvalidArgumentError) as caught:
            api.call(client, taker)
        assert caught.value.argument in ("id", "payouts", "payouts.id", "payouts[1]", "payouts[1].id",
                                         "customer.id", "customer", "payouts[0]"), caught.value.argument
    assert api.sent == []
    assert sum(fedapay_mock.stats()["requests"].values()) == 0


def test_bytes_id_from_redis_is_refused_not_read_as_two_ids(api: Api, fedapay_mock: MockServer) -> None:
    client = api.client()
    with pytest.raises(InvalidArgumentError, match="payouts: must be a payout id"):
        api.call(client, lambda p: p.start(b"42"))
    assert api.sent == []


def test_a_list_and_a_tuple_of_ids_are_sent_in_order(api: Api, fedapay_mock: MockServer) -> None:
    client = api.client()
    ids = [api.call(client, lambda p: p.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER)).id
           for _ in range(3)]
    started = api.call(client, lambda p: p.start((ids[2], ids[0], ids[1])))
    assert [p.id for p in started] == [ids[2], ids[0], ids[1]]
    assert api.sent[-1].body == {"payouts": [{"id": ids[2]}, {"id": ids[0]}, {"id": ids[1]}]}


# --- replies that do not answer the request -------------------------------------------------------

PAYOUT: dict[str, Any] = {
    "klass": "v1/payout", "id": 5, "reference": "ref", "amount": 1000, "status": "pending", "customer_id": 1,
    "currency_id": 1, "mode": "moov", "created_at": "2024-10-24T17:27:45.677Z",
    "updated_at": "2024-10-24T17:27:45.677Z",
}


def payout(**changes: Any) -> dict[str, Any]:
    return {**PAYOUT, **changes}


def now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()



def started(*payouts: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, json={"v1/payouts": list(payouts)})


def one(body: dict[str, Any], status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, json={"v1/payout": body})


def test_a_start_answered_for_fewer_payouts_than_asked_is_not_success() -> None:
    client, _ = scripted(started(payout(id=5, status="started", started_at=now_iso()),
                                 payout(id=6, status="started", started_at=now_iso())))
    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        client.payouts.start([5, 6, 7])
    assert caught.value.payout_ids == [5, 6, 7]
    assert "without payouts [7]" in str(caught.value)


def test_a_start_answered_with_another_payout_is_not_success() -> None:
    client, _ = scripted(started(payout(id=9, status="started", started_at=now_iso())))
    with pytest.raises(PayoutOutcomeUnknownError, match="payout 9, which was not asked"):
        client.payouts.start(5)


@pytest.mark.parametrize("status", ["pending", "PENDING", None, "scheduled", "brand_new"])
def test_a_start_reply_in_a_state_a_start_does_not_produce_is_not_success(status: Any) -> None:
    client, _ = scripted(started(payout(id=5, status=status)))
    with pytest.raises(PayoutOutcomeUnknownError):
        client.payouts.send_now(5)


def test_a_mismatched_start_reply_is_settled_by_a_check_when_the_check_shows_this_call_did_it() -> None:
    def slow_partial_reply(request: httpx.Request) -> httpx.Response:
        time.sleep(0.005)  # the server works a few ms, so its timestamps fall clearly inside the call
        return started(payout(id=5, status="started", started_at=now_iso()))(request)  # 7 missing

    client, seen = scripted(
        slow_partial_reply,
        lambda r: one(payout(id=5, status="started", started_at=now_iso()))(r),
        lambda r: one(payout(id=7, status="started", started_at=now_iso()))(r),
        retries=1,
    )
    result = client.payouts.start([5, 7])
    assert [(p.id, p.status) for p in result] == [(5, "started"), (7, "started")]
    assert seen == ["PUT /v1/payouts/start", "GET /v1/payouts/5", "GET /v1/payouts/7"]


def test_a_check_whose_reply_has_no_status_is_an_unknown_outcome() -> None:
    client, seen = scripted(
        lambda r: (_ for _ in ()).throw(httpx.ReadError("reset", request=r)),
        one(payout(id=5, status=None, started_at=now_iso())),
        one(payout(id=5, status=None, started_at=now_iso())),
        retries=1,
    )
    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        client.payouts.send_now(5)
    assert isinstance(caught.value.__cause__, APIResponseValidationError)
    assert seen == ["PUT /v1/payouts/start", "GET /v1/payouts/5", "GET /v1/payouts/5"]


def test_a_transport_raising_stop_iteration_never_passes_for_a_result() -> None:
    # Before the fix the driver caught a StopIteration from the transport as the operation's end
    # and returned None: a start that never got a reply looked like one that returned.
    # Since any exception of a transport ends typed, it is a start that may have acted (chained to its cause).
    client, _ = scripted(retries=0)
    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        client.payouts.send_now(5)
    assert "StopIteration" in caught.value.message


@pytest.mark.parametrize("status", ["PENDING", "brand_new", "Started"])
def test_a_check_that_finds_an_unknown_status_never_counts_as_started(status: Any) -> None:
    client, seen = scripted(
        lambda r: (_ for _ in ()).throw(httpx.ReadError("reset", request=r)),
        one(payout(id=5, status=status, started_at=now_iso())),
        retries=1,
    )
    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        client.payouts.send_now(5)
    assert repr(status) in caught.value.found[5]
    assert seen == ["PUT /v1/payouts/start", "GET /v1/payouts/5"]


def test_retrieve_answered_with_another_payout_is_a_validation_error() -> None:
    client, _ = scripted(one(payout(id=6)))
    with pytest.raises(APIResponseValidationError, match="payout 6, not payout 5"):
        client.payouts.retrieve(5)


def test_update_answered_with_another_payout_is_an_unknown_outcome() -> None:
    client, _ = scripted(one(payout(id=6, amount=1200)))
    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        client.payouts.update(5, amount=1200)
    assert caught.value.payout_ids == [5]


def test_create_answered_with_another_amount_is_an_unknown_outcome_with_the_key() -> None:
    client, _ = scripted(one(payout(id=6, amount=5), status=201))
    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        client.payouts.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER)
    assert caught.value.idempotency_key


def test_a_filtered_list_answered_with_other_statuses_is_a_validation_error() -> None:
    client, _ = scripted(lambda r: httpx.Response(200, json={"v1/payouts": [payout(status="sent")]}))
    with pytest.raises(APIResponseValidationError, match="not 'pending' as asked"):
        client.payouts.list(status="pending")


@pytest.mark.parametrize("body", [b"not json", b'{"v1/payout": ', b"\x1f\x8b\x08garbage"])
def test_an_unreadable_start_or_update_reply_is_an_unknown_outcome(body: bytes) -> None:
    acts: list[Callable[[Any], Any]] = [
        lambda p: p.send_now(5), lambda p: p.update(5, amount=1000), lambda p: p.start([5, 6]),
    ]
    for act in acts:
        client, _ = scripted(lambda r: httpx.Response(200, content=body))
        with pytest.raises(PayoutOutcomeUnknownError) as caught:
            act(client.payouts)
        assert 5 in caught.value.payout_ids
        assert isinstance(caught.value.__cause__, APIResponseValidationError)


@pytest.mark.parametrize(("value", "kind"), [("42", "str"), (True, "bool"), (42.0, "float"), ([42], "list")])
def test_send_now_and_schedule_name_the_type_they_were_given(value: Any, kind: str) -> None:
    client = FedaPay("sk_sandbox_x")  # refused before any request: no server needed
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    acts: list[Callable[[], object]] = [
        lambda: client.payouts.send_now(value), lambda: client.payouts.schedule(value, later),
    ]
    for act in acts:
        with pytest.raises(InvalidArgumentError) as caught:
            act()
        assert caught.value.argument == "id"
        assert caught.value.problem == f"must be a payout id (int), got {kind}"  # it said NoneType


def _reset(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadError("connection reset", request=request)


def test_an_unknown_start_never_quotes_a_check_made_before_its_last_attempt() -> None:
    """Attempt 1 may have acted; the check finds the payout pending; attempt 2 goes out and its reply is lost
    too. The payout may well be started now: `.found` said 'pending (safe to start again)' from before it."""
    client, seen = scripted(_reset, one(payout(id=5, status="pending")), _reset, retries=1)
    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        client.payouts.send_now(5)
    assert seen == ["PUT /v1/payouts/start", "GET /v1/payouts/5", "PUT /v1/payouts/start"]
    assert caught.value.payout_ids == [5]
    assert not caught.value.found
    assert "Found:" not in str(caught.value)


def test_a_delete_refused_after_a_lost_reply_is_the_refusal_when_the_payout_is_still_there() -> None:
    """The first delete's reply is lost; the check finds the payout; the second is refused (another worker
    started it meanwhile): the payout is still there, so nothing was deleted and the 422 is the answer, not
    'may have been deleted'."""
    def refused(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"message": "Payout 5 is started and can no longer be deleted."})

    client, seen = scripted(_reset, one(payout(id=5)), refused, one(payout(id=5, status="started")), retries=1)
    with pytest.raises(UnprocessableEntityError, match="can no longer be deleted"):
        client.payouts.delete(5)
    assert seen == ["DELETE /v1/payouts/5", "GET /v1/payouts/5", "DELETE /v1/payouts/5", "GET /v1/payouts/5"]


@pytest.mark.parametrize("started_at", [
    "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59.999999Z",
], ids=["year 0 in UTC", "year 10000 in UTC", "the last microsecond of 9999"])
def test_a_start_check_finding_a_date_at_the_edge_of_the_calendar_ends_typed(started_at: str) -> None:
    """The check's verdict wrote the date it found in UTC, and a date whose UTC form falls outside years 1-9999
    raised a bare ValueError out of send_now: a start that may have gone out, with no PayoutOutcomeUnknownError
    (fifteenth review)."""
    client, seen = scripted(
        lambda r: (_ for _ in ()).throw(httpx.ReadError("reset", request=r)),
        one(payout(id=5, status="started", started_at=started_at)),
        one(payout(id=5, status="started", started_at=started_at)),
        retries=1,
    )
    with pytest.raises(APIError) as caught:
        client.payouts.send_now(5)
    assert isinstance(caught.value, PayoutOutcomeUnknownError), repr(caught.value)
    assert seen[:2] == ["PUT /v1/payouts/start", "GET /v1/payouts/5"]
