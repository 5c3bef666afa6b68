"""`client.payouts.call(...)` keeps the operations' safety, and a `with_options` copy never changes its parent
(sixth review):

- `call("start_payouts", body=[...])` (the spec's bare-array form) skipped the start rules: a past
  `scheduled_at` was sent and the payout started now, repeated ids went out, a time without zone went as given;
- `call("create_payout", ...)` sent no Idempotency-Key, so its PayoutOutcomeUnknownError had none, and the
  README's recovery (create again with the key) created a second payout;
- a copy shared its parent's RetryPolicy: `copy.retry_policy.max_retries = 0` turned the parent's retries off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fedapay_payouts import APIResponseValidationError, FedaPay, InvalidArgumentError, PayoutOutcomeUnknownError

from tests.client.client_support import API_KEY, CUSTOMER, scripted

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

ORDER: dict[str, Any] = {"amount": 1000, "currency": "XOF", "mode": "moov", "customer": CUSTOMER}


def test_a_start_through_call_with_a_bare_array_gets_the_start_rules(fedapay_mock: MockServer) -> None:
    with FedaPay(API_KEY, base_url=fedapay_mock.base_url) as client:
        first, second = (client.payouts.create(**ORDER) for _ in range(2))
        before = fedapay_mock.stats()["requests"].get("start_payouts", 0)
        with pytest.raises(InvalidArgumentError, match="is not in the future") as past:
            client.payouts.call("start_payouts", body=[{"id": first.id, "scheduled_at": "2001-01-01 00:00:00"}])
        assert past.value.argument == "payouts[0].scheduled_at"
        with pytest.raises(InvalidArgumentError, match="more than once"):
            client.payouts.call("start_payouts", body=[{"id": first.id}, {"id": first.id}])
        assert fedapay_mock.stats()["requests"].get("start_payouts", 0) == before  # nothing went out
        raw = client.payouts.with_raw_response.call(
            "start_payouts", body=[{"id": second.id, "scheduled_at": "2030-01-02 10:30:00"}]
        )
        assert raw.http_request.content == b'[{"id":%d,"scheduled_at":"2030-01-02T10:30:00Z"}]' % second.id
        assert client.payouts.retrieve(first.id).status == "pending"


def test_a_create_through_call_carries_a_key_and_its_unknown_outcome_names_it(fedapay_mock: MockServer) -> None:
    with FedaPay(API_KEY, base_url=fedapay_mock.base_url) as client:
        raw = client.payouts.with_raw_response.call("create_payout", **ORDER)
        assert raw.http_request.headers.get("Idempotency-Key")
        before = fedapay_mock.stats()["created"]
        fedapay_mock.arm_fault("create_payout", "drop_after_store", times=1)
        with pytest.raises(PayoutOutcomeUnknownError) as caught:
            client.payouts.call("create_payout", **ORDER)
        key = caught.value.idempotency_key
        assert key is not None
        assert key in caught.value.message
        client.payouts.call("create_payout", **ORDER, idempotency_key=key)  # the recovery the error gives
        assert fedapay_mock.stats()["created"] == before + 1  # one payout for one logical create


def test_changing_a_copys_retry_policy_leaves_its_parent_as_it_was() -> None:
    client = FedaPay(API_KEY)
    shop = client.with_options(account_id=4242)
    shop.retry_policy.max_retries = 0
    assert shop.retry_policy.max_retries == 0
    assert client.retry_policy.max_retries == 2
    assert client.retry_policy is not shop.retry_policy


def _reply(body: Any, status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, json=body)


def _payout(**changes: Any) -> dict[str, Any]:
    return {
        "klass": "v1/payout", "id": 1, "reference": "r", "amount": 1000, "status": "pending", "customer_id": 7,
        "currency_id": 1, "mode": "moov", "created_at": "2024-10-24T17:27:45.677Z",
        "updated_at": "2024-10-24T17:27:45.677Z", **changes,
    }


@pytest.mark.parametrize(("operation", "params", "reply", "error"), [
    ("create_payout", ORDER, _reply({"v1/payout": _payout(amount=5000)}, 201), PayoutOutcomeUnknownError),
    ("start_payouts", {"body": [{"id": 1}]}, _reply({"v1/payouts": [_payout(id=2, status="started")]}),
     PayoutOutcomeUnknownError),
    ("start_payouts", {"body": [{"id": 1}]}, _reply({"v1/payouts": [_payout()]}), PayoutOutcomeUnknownError),
    ("update_payout", {"id": 1, "amount": 900}, _reply({"v1/payout": _payout(amount=1000)}),
     PayoutOutcomeUnknownError),
    ("delete_payout", {"id": 1}, _reply({"v1/payout": _payout(id=2, status="sent")}), PayoutOutcomeUnknownError),
    ("retrieve_payout", {"id": 1}, _reply({"v1/payout": _payout(id=2)}), APIResponseValidationError),
    ("list_payouts", {"status": "sent"}, _reply({"v1/payouts": [_payout()], "meta": {
        "current_page": 1, "next_page": None, "prev_page": None, "total_pages": 1, "total_count": 1, "per_page": 25,
    }}), APIResponseValidationError),
], ids=["create: another amount", "start: another payout", "start: still pending", "update: another amount",
        "delete: another payout sent", "retrieve: another payout", "list: another status than filtered"])
def test_call_checks_a_reply_as_the_named_method_does(
    operation: str, params: dict[str, Any], reply: Callable[[httpx.Request], httpx.Response],
    error: type[Exception],
) -> None:
    """The reply checks of create, start, update, delete, retrieve and list: `call()` returned these as success."""
    client, seen = scripted(reply)
    with pytest.raises(error):
        client.payouts.call(operation, **params)
    assert len(seen) == 1  # not sent again: the server may have acted


@pytest.mark.parametrize(("operation", "params", "reply", "returned"), [
    ("delete_payout", {"id": 1}, lambda request: httpx.Response(204), None),
    ("delete_payout", {"id": 1}, _reply([]), None),
    ("delete_payout", {"id": 1}, _reply({"deleted": True}), None),
    ("create_payout", ORDER, _reply(_payout(), 201), "Payout"),
    ("retrieve_payout", {"id": 1}, _reply(_payout()), "Payout"),
    ("search_payouts", {"search": "r"}, _reply([_payout()]), "PayoutPage"),
    ("start_payouts", {"body": [{"id": 1}]}, _reply([_payout(status="started")]), "list"),
], ids=["delete: 204", "delete: []", "delete: deleted flag", "create: bare payout", "retrieve: bare payout",
        "search: bare list", "start: bare array"])
def test_call_takes_for_success_what_the_named_method_does(
    operation: str, params: dict[str, Any], reply: Callable[[httpx.Request], httpx.Response], returned: str | None,
) -> None:
    """Replies of a shape the method reads but the spec's envelope model does not (FedaPay's documented 204,
    the bare objects of its docs): `call()` raised PayoutOutcomeUnknownError for a success (tenth review)."""
    client, seen = scripted(reply)
    result = client.payouts.call(operation, **params)
    assert (type(result).__name__ if result is not None else None) == returned
    assert len(seen) == 1


def test_call_returns_a_reply_that_answers_the_request(fedapay_mock: MockServer) -> None:
    with FedaPay(API_KEY, base_url=fedapay_mock.base_url) as client:
        payout_id = client.payouts.call("create_payout", **ORDER).v1payout.id
        client.payouts.call("update_payout", id=payout_id, amount=900)
        client.payouts.call("start_payouts", body=[{"id": payout_id}])
        assert client.payouts.call("retrieve_payout", id=payout_id).v1payout.amount == 900
        assert client.payouts.retrieve(payout_id).status in ("started", "sent")
        client.payouts.call("delete_payout", id=client.payouts.create(**ORDER).id)


def test_an_operation_without_a_body_points_undeclared_parameters_to_extra_query_and_refuses_extra_body() -> None:
    """The hint said "send it with extra_body=" for a GET, and following it sent a GET with a JSON body."""
    client, seen = scripted()
    with pytest.raises(InvalidArgumentError) as unknown:
        client.payouts.call("search_payouts", q="Ada")
    assert unknown.value.argument == "q"
    assert "extra_query=" in str(unknown.value)
    assert "extra_body=" not in str(unknown.value)
    with pytest.raises(InvalidArgumentError) as body:
        client.payouts.call("search_payouts", search="Ada", extra_body={"q": "Ada"})
    assert body.value.argument == "extra_body"
    assert "takes no body" in str(body.value)
    assert seen == []  # nothing sent
