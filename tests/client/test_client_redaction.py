"""The API key and webhook secrets appear nowhere: logs (DEBUG, every logger), reprs, exception text."""

from __future__ import annotations

import logging
import traceback
from typing import TYPE_CHECKING

import httpx
import pytest
from fedapay_payouts import (
    AuthenticationError,
    FedaPayError,
    PayoutOutcomeUnknownError,
    WebhookVerificationError,
    WebhookVerifier,
)

from tests.client.client_support import API_KEY, CUSTOMER, Api

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

WEBHOOK_SECRET = "whsec_Sup3rS3cretValue"


def exception_texts(error: BaseException) -> list[str]:
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    response = getattr(error, "response", None)
    if isinstance(response, httpx.Response):
        texts += [repr(response), repr(response.request), repr(response.request.headers)]
    return texts


def test_the_key_is_never_shown_through_error_paths_with_debug_logging(
    api: Api, fedapay_mock: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: ours, httpx's and httpcore's records
    client = api.client(record=False)
    errors: list[FedaPayError] = []

    fedapay_mock.arm_fault("create_payout", "drop_after_store", times=3)
    with pytest.raises(PayoutOutcomeUnknownError) as unknown:
        api.call(client, lambda p: p.create(amount=900, currency="XOF", mode="moov", customer=CUSTOMER))
    errors.append(unknown.value)
    fedapay_mock.arm_fault("list_payouts", "status", status=500, times=3)
    with pytest.raises(FedaPayError) as server_error:
        api.call(client, lambda p: p.list())
    errors.append(server_error.value)

    assert "retrying POST /v1/payouts" in caplog.text  # the logs did record the error path
    assert "POST /v1/payouts -> RemoteProtocolError" in caplog.text or "POST /v1/payouts -> ReadError" in caplog.text
    for text in [caplog.text, repr(client), str(client), repr(client._config), repr(client.payouts)]:
        assert API_KEY not in text
    for error in errors:
        for text in exception_texts(error):
            assert API_KEY not in text


def test_a_server_echoing_the_key_in_an_error_is_redacted() -> None:
    from fedapay_payouts import FedaPay

    def echo(request: httpx.Request) -> httpx.Response:
        key = request.headers["authorization"].removeprefix("Bearer ")
        return httpx.Response(401, json={"message": f"Invalid key {key}", "errors": {key: [f"bad {key}"]}})

    client = FedaPay(API_KEY, http_client=httpx.Client(transport=httpx.MockTransport(echo)))
    with pytest.raises(AuthenticationError) as caught:
        client.payouts.retrieve(1)
    assert caught.value.message == "Invalid key [secure]"
    for text in [*exception_texts(caught.value), repr(caught.value.errors)]:
        assert API_KEY not in text


def test_the_webhook_secret_is_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    verifier = WebhookVerifier(WEBHOOK_SECRET)
    with pytest.raises(WebhookVerificationError) as caught:
        verifier.construct_event(b'{"name": "payout.sent"}', "t=1,s=deadbeef")
    for text in [*exception_texts(caught.value), repr(verifier), str(verifier), caplog.text]:
        assert WEBHOOK_SECRET not in text


def test_a_key_echoed_in_json_escapes_is_masked_in_the_reply_the_error_carries() -> None:
    """A body writing the key as `\\u0073\\u006b...` shows it once decoded: `.response` (its text and its JSON)
    is written again with the key masked, as the error's own text is."""
    from fedapay_payouts import FedaPay

    escaped = "".join(f"\\u{ord(character):04x}" for character in API_KEY)

    def echo(request: httpx.Request) -> httpx.Response:
        body = '{"message": "bad key ' + escaped + '", "errors": {"key": ["' + escaped[:60] + API_KEY[10:] + '"]}}'
        return httpx.Response(422, content=body.encode(), headers={"content-type": "application/json"})

    client = FedaPay(API_KEY, http_client=httpx.Client(transport=httpx.MockTransport(echo)))
    with pytest.raises(FedaPayError) as caught:
        client.payouts.retrieve(1)
    response = caught.value.response  # type: ignore[attr-defined]
    assert isinstance(response, httpx.Response)
    assert response.json()["message"] == "bad key [secure]"
    for text in [*exception_texts(caught.value), response.text, repr(response.json()), str(caught.value)]:
        assert API_KEY not in text
        assert API_KEY[10:] not in text
