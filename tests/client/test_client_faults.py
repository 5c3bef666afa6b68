"""Fault injection: creating and starting a payout ends with exactly one payout created or started
on the server, or a typed error that says what may have happened. Counted on the server.

Faults come from the mock (`arm_fault`) except "connection refused", which a client transport
raises before anything is sent (the mock cannot refuse its own connections).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fedapay_payouts import (
    APIConnectionError,
    APITimeoutError,
    InternalServerError,
    PayoutOutcomeUnknownError,
    RateLimitError,
)

from tests.client.client_support import CUSTOMER, Api

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

SHORT_READ = httpx.Timeout(5.0, read=0.2)
SLOW_REPLY = 0.6  # seconds the mock waits before replying: longer than SHORT_READ's read timeout


@dataclass(frozen=True)
class Fault:
    name: str
    arm: dict[str, Any]  # arm_fault arguments; empty for a refused connection
    refuse: int = 0
    read_timeout: bool = False
    maybe_acted: bool = False  # after this failure the server may have done the work
    stored: bool = False  # the mock did the work before failing
    sleeps: tuple[float, ...] | None = None  # exact back-off expected, when the server set it


FAULTS = [
    Fault("connection refused", {}, refuse=1),
    Fault("dropped before store", {"fault": "drop_before_store"}, maybe_acted=True),
    Fault("dropped after store", {"fault": "drop_after_store"}, maybe_acted=True, stored=True),
    Fault("read timeout", {"fault": "delay_before_reply", "delay": SLOW_REPLY}, read_timeout=True, maybe_acted=True,
          stored=True),
    Fault("429 Retry-After", {"fault": "status", "status": 429, "retry_after": 1}, sleeps=(1.0,)),
    Fault("503 Retry-After", {"fault": "status", "status": 503, "retry_after": 2}, sleeps=(2.0,)),
    Fault("500", {"fault": "status", "status": 500}, maybe_acted=True),
]


def faulty_client(api: Api, fedapay_mock: MockServer, operation: str, fault: Fault) -> Any:
    if fault.arm:
        fedapay_mock.arm_fault(operation, **fault.arm)
    if fault.read_timeout:
        return api.client(refuse=fault.refuse, timeout=SHORT_READ)
    return api.client(refuse=fault.refuse)


def check_backoff(api: Api, fault: Fault) -> None:
    if fault.sleeps is not None:
        assert tuple(api.sleeps) == fault.sleeps  # Retry-After obeyed exactly
    else:
        assert len(api.sleeps) == 1
        assert 0.375 <= api.sleeps[0] <= 0.5


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_create_under_a_fault_creates_exactly_one_payout(api: Api, fedapay_mock: MockServer, fault: Fault) -> None:
    client = faulty_client(api, fedapay_mock, "create_payout", fault)

    payout = api.call(client, lambda p: p.create(amount=2500, currency="XOF", mode="moov", customer=CUSTOMER))

    stats = fedapay_mock.stats()
    assert (stats["created"], stats["payouts_total"]) == (1, 1)
    assert stats["requests"]["create_payout"] == (1 if fault.refuse else 2)
    assert stats["idempotent_replays"] == (1 if fault.stored else 0)
    [stored] = api.call(client, lambda p: p.list()).items
    assert (stored.id, stored.amount) == (payout.id, 2500)
    keys = {s.headers["idempotency-key"] for s in api.sent if s.method == "POST"}
    assert len(keys) == 1  # every attempt carried the same key
    check_backoff(api, fault)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_start_under_a_fault_starts_the_payout_exactly_once(api: Api, fedapay_mock: MockServer, fault: Fault) -> None:
    setup = api.client(record=False)
    payout = api.call(setup, lambda p: p.create(amount=2500, currency="XOF", mode="moov", customer=CUSTOMER))
    client = faulty_client(api, fedapay_mock, "start_payouts", fault)

    started: Any
    try:
        started = api.call(client, lambda p: p.send_now(payout.id))
    except PayoutOutcomeUnknownError as unknown:
        started = unknown
    if isinstance(started, PayoutOutcomeUnknownError):
        # The server acted and the reply was lost: on loopback the payout's started_at falls within a
        # millisecond of the call's start, which proves nothing, so the call says what it found.
        assert fault.stored
        assert started.payout_ids == [payout.id]
        assert "as this call began" in started.found[payout.id]
    else:
        # "sent" when the mock's settle time (0.2 s of real time) passed during a read timeout.
        assert started.id == payout.id
        assert started.status in ("started", "sent")
    stats = fedapay_mock.stats()
    assert stats["started"] == 1
    assert stats["by_status"] in ({"started": 1}, {"sent": 1})
    # After a failure where the server may have acted, the client looks before starting again,
    # and does not send the start again when the payout already left `pending`.
    assert stats["requests"].get("retrieve_payout", 0) == (1 if fault.maybe_acted else 0)
    expected_starts = 1 if fault.refuse or fault.stored else 2
    assert stats["requests"]["start_payouts"] == expected_starts
    check_backoff(api, fault)


def test_create_out_of_retries_after_the_payout_was_stored_says_how_to_find_it(
    api: Api, fedapay_mock: MockServer
) -> None:
    fedapay_mock.arm_fault("create_payout", "drop_after_store", times=3)
    client = api.client()

    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        api.call(client, lambda p: p.create(amount=900, currency="XOF", mode="moov", customer=CUSTOMER,
                                           merchant_reference="inv-42"))

    error = caught.value
    key = api.sent[0].headers["idempotency-key"]
    assert (error.operation, error.idempotency_key, error.merchant_reference) == ("create_payout", key, "inv-42")
    assert "may have been created" in str(error)
    assert key in str(error)
    assert "inv-42" in str(error)
    assert isinstance(error.__cause__, APIConnectionError)
    assert error.__cause__.request_sent
    assert fedapay_mock.stats()["created"] == 1
    # The advice works: the same key returns the payout that exists, and creates nothing.
    again = api.call(client, lambda p: p.create(amount=900, currency="XOF", mode="moov", customer=CUSTOMER,
                                               merchant_reference="inv-42", idempotency_key=key))
    assert again.merchant_reference == "inv-42"
    assert fedapay_mock.stats()["created"] == 1


def test_create_that_never_reached_the_server_says_nothing_happened(api: Api, fedapay_mock: MockServer) -> None:
    client = api.client(refuse=3)

    with pytest.raises(APIConnectionError) as caught:
        api.call(client, lambda p: p.create(amount=900, currency="XOF", mode="moov", customer=CUSTOMER))

    assert not isinstance(caught.value, PayoutOutcomeUnknownError)
    assert caught.value.request_sent is False
    assert "not sent: nothing happened" in str(caught.value)
    assert len(api.sent) == 3
    assert len(api.sleeps) == 2
    assert fedapay_mock.stats()["requests"].get("create_payout", 0) == 0


def test_create_refused_every_time_raises_the_status_error(api: Api, fedapay_mock: MockServer) -> None:
    fedapay_mock.arm_fault("create_payout", "status", times=3, status=503, retry_after=0)
    client = api.client()

    with pytest.raises(InternalServerError) as caught:
        api.call(client, lambda p: p.create(amount=900, currency="XOF", mode="moov", customer=CUSTOMER))

    assert (caught.value.status_code, caught.value.retry_after) == (503, 0.0)
    assert fedapay_mock.stats()["created"] == 0


def test_retry_after_beyond_the_cap_is_not_waited_for(api: Api, fedapay_mock: MockServer) -> None:
    fedapay_mock.arm_fault("start_payouts", "status", status=429, retry_after=120)
    client = api.client()
    payout = api.call(client, lambda p: p.create(amount=900, currency="XOF", mode="moov", customer=CUSTOMER))

    with pytest.raises(RateLimitError) as caught:
        api.call(client, lambda p: p.send_now(payout.id))

    assert (caught.value.retry_after, api.sleeps) == (120.0, [])
    assert fedapay_mock.stats()["by_status"] == {"pending": 1}


def test_start_out_of_retries_names_the_payouts_and_how_to_check(api: Api, fedapay_mock: MockServer) -> None:
    client = api.client()
    payout = api.call(client, lambda p: p.create(amount=900, currency="XOF", mode="moov", customer=CUSTOMER))
    fedapay_mock.arm_fault("start_payouts", "drop_before_store", times=3)

    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        api.call(client, lambda p: p.send_now(payout.id))

    assert (caught.value.operation, caught.value.payout_ids) == ("start_payouts", [payout.id])
    assert "retrieve" in str(caught.value)
    assert "'pending' means not started" in str(caught.value)
    stats = fedapay_mock.stats()
    assert (stats["requests"]["start_payouts"], stats["by_status"]) == (3, {"pending": 1})


def test_delete_dropped_before_deleting_looks_then_deletes(api: Api, fedapay_mock: MockServer) -> None:
    client = api.client()
    payout = api.call(client, lambda p: p.create(amount=900, currency="XOF", mode="moov", customer=CUSTOMER))
    fedapay_mock.arm_fault("delete_payout", "drop_before_store")

    assert api.call(client, lambda p: p.delete(payout.id)) is None

    stats = fedapay_mock.stats()
    assert (stats["deleted"], stats["requests"]["delete_payout"], stats["requests"]["retrieve_payout"]) == (1, 2, 1)


@pytest.mark.parametrize("exists", [True, False], ids=["deleted by the lost attempt", "never existed"])
def test_delete_whose_reply_was_lost_never_claims_a_404_as_its_own(
    api: Api, fedapay_mock: MockServer, exists: bool
) -> None:
    # Before the fix any 404 after a lost reply counted as "deleted by this call", even for an id that
    # never existed. The two cases look the same from here: the call says it cannot tell.
    client = api.client()
    payout_id = 999_999
    if exists:
        payout_id = api.call(client, lambda p: p.create(amount=900, currency="XOF", mode="moov",
                                                        customer=CUSTOMER)).id
    fedapay_mock.arm_fault("delete_payout", "drop_after_store" if exists else "drop_before_store")

    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        api.call(client, lambda p: p.delete(payout_id))

    assert caught.value.payout_ids == [payout_id]
    assert caught.value.found[payout_id].startswith("not found")
    assert fedapay_mock.stats()["deleted"] == (1 if exists else 0)


def test_update_dropped_after_storing_is_retried_with_the_same_values(api: Api, fedapay_mock: MockServer) -> None:
    client = api.client()
    payout = api.call(client, lambda p: p.create(amount=900, currency="XOF", mode="moov", customer=CUSTOMER))
    fedapay_mock.arm_fault("update_payout", "drop_after_store")

    updated = api.call(client, lambda p: p.update(payout.id, amount=950))

    assert updated.amount == 950
    puts = [s.body for s in api.sent if s.method == "PUT"]
    assert puts == [{"amount": 950}, {"amount": 950}]


def test_a_read_that_keeps_timing_out_raises_a_timeout_error(api: Api, fedapay_mock: MockServer) -> None:
    client = api.client(timeout=SHORT_READ, max_retries=1)
    payout = api.call(client, lambda p: p.create(amount=900, currency="XOF", mode="moov", customer=CUSTOMER))
    fedapay_mock.arm_fault("retrieve_payout", "delay_before_reply", times=2, delay=SLOW_REPLY)

    with pytest.raises(APITimeoutError) as caught:
        api.call(client, lambda p: p.retrieve(payout.id))

    assert caught.value.request_sent is True
    assert fedapay_mock.stats()["requests"]["retrieve_payout"] == 2
