"""One exception class per status, over real HTTP (the mock's `Prefer: code=N` and real refusals)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest
from fedapay_payouts import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FedaPay,
    FedaPayError,
    InternalServerError,
    NotFoundError,
    PayoutOutcomeUnknownError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)

from tests.client.client_support import API_KEY, CUSTOMER, Api

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

STATUS_CLASSES = [
    (400, BadRequestError),
    (401, AuthenticationError),
    (403, PermissionDeniedError),
    (404, NotFoundError),
    (409, ConflictError),
    (422, UnprocessableEntityError),
    (429, RateLimitError),
    (500, InternalServerError),
    (502, InternalServerError),
    (503, InternalServerError),
]


@pytest.mark.parametrize(("status", "error_class"), STATUS_CLASSES)
def test_each_status_raises_its_class_with_message_status_and_raw_response(
    api: Api, status: int, error_class: type[APIStatusError]
) -> None:
    client = api.client(max_retries=0, default_headers={"Prefer": f"code={status}"})

    with pytest.raises(error_class) as caught:
        api.call(client, lambda p: p.list())

    error = caught.value
    assert type(error) is error_class
    assert isinstance(error, APIStatusError)
    assert isinstance(error, APIError)
    assert isinstance(error, FedaPayError)
    assert error.status_code == status
    assert error.message == f"Simulated HTTP {status} (test control)."
    assert error.response.status_code == status
    assert error.response.json()["message"] == error.message
    assert error.request_id == error.response.headers["x-request-id"]  # the mock sends one (issue 13)
    assert error.request_id.startswith("req_")
    assert str(error) == f"{status} GET /v1/payouts: {error.message} [request id {error.request_id}]"
    assert len(api.sent) == 1


def test_a_real_422_carries_the_field_errors(api: Api) -> None:
    client = api.client()
    payout = api.call(client, lambda p: p.create(amount=900, currency="XOF", mode="moov", customer=CUSTOMER))
    api.call(client, lambda p: p.send_now(payout.id))

    with pytest.raises(UnprocessableEntityError) as caught:
        api.call(client, lambda p: p.send_now(payout.id))

    assert caught.value.errors == {"payouts[0].id": [f"payout {payout.id} is started, only a pending payout can start"]}
    assert f"payouts[0].id: payout {payout.id} is started" in str(caught.value)


def test_a_bad_key_is_an_authentication_error(api: Api) -> None:
    client = api.client(api_key="not-a-secret-key")

    with pytest.raises(AuthenticationError) as caught:
        api.call(client, lambda p: p.retrieve(1))

    assert caught.value.errors == {"Authorization": ["a valid secret key is required"]}


def test_connection_and_timeout_errors_stand_apart_from_status_errors() -> None:
    assert issubclass(APITimeoutError, APIConnectionError)
    assert not issubclass(APIConnectionError, APIStatusError)
    assert not issubclass(PayoutOutcomeUnknownError, APIConnectionError | APIStatusError)
    assert issubclass(APIResponseValidationError, APIError)


def test_nothing_listening_is_a_connection_error_after_the_retries(api: Api) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = api.client(record=False, base_url=f"http://127.0.0.1:{port}/v1")

    with pytest.raises(APIConnectionError) as caught:
        api.call(client, lambda p: p.retrieve(1))

    assert caught.value.request_sent is False
    assert (caught.value.method, caught.value.path) == ("GET", "/v1/payouts/1")
    assert len(api.sleeps) == 2


def test_an_unreadable_create_reply_is_an_unknown_outcome_with_the_key_to_check() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(201, json={"v1/payout": {"id": 3}}))
    client = FedaPay("sk_sandbox_x", max_retries=0, http_client=httpx.Client(transport=transport))
    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        client.payouts.create(amount=900, currency="XOF", mode="moov", customer=CUSTOMER, merchant_reference="r-1")
    cause = caught.value.__cause__
    assert isinstance(cause, APIResponseValidationError)
    assert cause.status_code == 201
    assert "the server may have acted" in str(cause)
    assert caught.value.idempotency_key is not None
    assert caught.value.idempotency_key in str(caught.value)
    assert caught.value.merchant_reference == "r-1"


def test_an_http_error_body_that_is_not_json_still_maps(fedapay_mock: MockServer) -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, text="<html>Conflict</html>", headers={"X-Request-Id": "req_123"})

    c = FedaPay("sk_sandbox_x", max_retries=0, http_client=httpx.Client(transport=httpx.MockTransport(reply)))
    with pytest.raises(ConflictError) as caught:
        c.payouts.retrieve(5)
    assert (caught.value.message, caught.value.request_id, caught.value.errors) == ("Conflict", "req_123", {})
    assert str(caught.value) == "409 GET /v1/payouts/5: Conflict [request id req_123]"


@pytest.mark.parametrize(("body", "message", "errors"), [
    ({"message": "Bad thing", "errors": ["first problem", "second problem"]}, "Bad thing",
     {"": ["first problem", "second problem"]}),
    ({"error": "Amount too large for this account"}, "Amount too large for this account", {}),
    ({"message": "Invalid", "errors": {"amount": ["too large"]}}, "Invalid", {"amount": ["too large"]}),
])
def test_an_error_body_of_another_shape_keeps_its_text(
    body: dict[str, object], message: str, errors: dict[str, list[str]]
) -> None:
    """A list of problems was dropped ({}), and an `error` string gave the reason phrase ("Bad Request")."""
    reply = httpx.MockTransport(lambda request: httpx.Response(400, json=body))
    with FedaPay("sk_sandbox_errors_shape", transport=reply, max_retries=0) as client, \
            pytest.raises(BadRequestError) as caught:
        client.payouts.retrieve(5)
    assert caught.value.message.startswith(message)
    assert caught.value.errors == errors


def test_an_unknown_outcome_shows_its_key_and_reference_in_its_repr() -> None:
    """What a log reader needs to recover (the key a retry reuses, the reference to look for) was only in str()."""
    lost = httpx.MockTransport(lambda request: httpx.Response(500))
    with FedaPay("sk_sandbox_errors_repr", transport=lost, max_retries=0) as client, \
            pytest.raises(PayoutOutcomeUnknownError) as caught:
        client.payouts.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER,
                              merchant_reference="inv-77", idempotency_key="key-77")
    shown = repr(caught.value)
    assert "idempotency_key='key-77'" in shown
    assert "merchant_reference='inv-77'" in shown
    assert "sk_sandbox" not in shown


def _worker_create(base_url: str) -> None:
    """In a pool's worker process: a create whose every reply is lost (the mock stored it)."""
    from fedapay_payouts import FedaPay

    with FedaPay(API_KEY, base_url=base_url, max_retries=0) as client:
        client.payouts.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER,
                              idempotency_key="order-in-a-worker")


def test_errors_pickle_and_copy_with_their_fields_and_never_the_key(fedapay_mock: MockServer) -> None:
    """The errors' constructors take keyword-only arguments, so copying or unpickling one raised TypeError: a
    `ProcessPoolExecutor` reported `BrokenProcessPool`, and the idempotency key needed to retry safely was lost
    (sixteenth review). A pickle may be stored (a task queue's results): it never holds the API key."""
    import concurrent.futures
    import copy
    import multiprocessing
    import pickle

    from fedapay_payouts import FedaPay, NotFoundError

    with FedaPay(API_KEY, base_url=fedapay_mock.base_url, max_retries=0) as client, pytest.raises(
        NotFoundError
    ) as missing:
        client.payouts.retrieve(987654)
    fedapay_mock.arm_fault("create_payout", "drop_after_store")
    pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
    with pool, pytest.raises(PayoutOutcomeUnknownError) as unknown:
        pool.submit(_worker_create, fedapay_mock.base_url).result(timeout=60)
    assert unknown.value.idempotency_key == "order-in-a-worker"
    assert unknown.value.operation == "create_payout"
    assert "idempotency_key='order-in-a-worker'" in str(unknown.value)
    for error in (missing.value, unknown.value):
        data = pickle.dumps(error)
        assert API_KEY.encode() not in data
        for again in (pickle.loads(data), copy.copy(error), copy.deepcopy(error)):
            assert type(again) is type(error)
            assert str(again) == str(error)
            assert again.method == error.method
            assert again.path == error.path
    assert pickle.loads(pickle.dumps(missing.value)).status_code == 404
