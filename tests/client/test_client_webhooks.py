"""Webhook signatures: valid, several `s`, stale, tampered, malformed; and real deliveries from the mock."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fedapay_payouts import (
    FedaPay,
    WebhookVerificationError,
    WebhookVerifier,
    construct_webhook_event,
    verify_webhook_signature,
)

SECRET = "whsec_test_secret"
NOW = 1_700_000_000
BODY = json.dumps({"name": "payout.sent", "object": "payout", "entity": {
    "klass": "v1/payout", "id": 9, "reference": "r", "amount": 1000, "status": "sent", "customer_id": 1,
    "currency_id": 1, "mode": "moov", "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
}, "account": {"id": 3}}).encode()


def sign(body: bytes, timestamp: int = NOW, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_a_valid_signature_gives_the_parsed_event() -> None:
    event = construct_webhook_event(BODY, f"t={NOW},s={sign(BODY)}", SECRET, now=NOW + 10)
    assert (event.name, event.object, event.account) == ("payout.sent", "payout", {"id": 3})
    assert event.payout is not None
    assert (event.payout.id, event.payout.status) == (9, "sent")


def _event_with(entity: dict[str, Any]) -> bytes:
    return json.dumps({"name": "payout.sent", "object": "payout", "entity": entity}).encode()


def test_a_payout_entity_without_klass_is_read_by_the_events_object() -> None:
    """FedaPay's event shape is a guess (fedapay-wire.md): `object: payout` says what the entity is; the payout
    was None, and the README's handler skipped a signed payout.sent."""
    entity = {name: value for name, value in json.loads(BODY)["entity"].items() if name != "klass"}
    body = _event_with(entity)
    event = construct_webhook_event(body, f"t={NOW},s={sign(body)}", SECRET, now=NOW)
    assert event.payout is not None
    assert (event.payout.id, event.payout.status, event.payout.klass) == (9, "sent", "v1/payout")


def test_a_payout_entity_the_client_cannot_read_is_an_error_not_none() -> None:
    entity = {name: value for name, value in json.loads(BODY)["entity"].items() if name != "amount"}
    body = _event_with(entity)
    event = construct_webhook_event(body, f"t={NOW},s={sign(body)}", SECRET, now=NOW)
    with pytest.raises(WebhookVerificationError, match=r"a payout this client cannot read \(no 'amount'\)"):
        _ = event.payout
    other = json.dumps({"name": "customer.created", "object": "customer", "entity": {"id": 1}}).encode()
    assert construct_webhook_event(other, f"t={NOW},s={sign(other)}", SECRET, now=NOW).payout is None


def test_any_of_several_signatures_may_match() -> None:
    header = f"t={NOW},s={sign(BODY, secret='old')},s={sign(BODY)}"
    verify_webhook_signature(BODY.decode(), header, SECRET, now=NOW)


@pytest.mark.parametrize(("header", "body", "now", "problem"), [
    (None, BODY, NOW, "no X-FEDAPAY-SIGNATURE header"),
    ("s=abc", BODY, NOW, "no timestamp"),
    (f"t={NOW}", BODY, NOW, "no signature"),
    ("t=soon,s=abc", BODY, NOW, "not a number"),
    (f"t={NOW},s={sign(BODY)}", BODY + b" ", NOW, "no signature matches"),
    (f"t={NOW},s={sign(BODY, secret='other')}", BODY, NOW, "no signature matches"),
    (f"t={NOW},s={sign(BODY)}", BODY, NOW + 301, "outside the 300 s tolerance"),
    (f"t={NOW},s={sign(BODY)}", BODY, NOW - 301, "outside the 300 s tolerance"),
    (f"t={NOW},s={sign(b'[1]')}", b"[1]", NOW, "not a JSON object"),
    (f"t={NOW},s={sign(b'nope')}", b"nope", NOW, "not JSON"),
])
def test_every_failure_is_a_clear_verification_error(header: str | None, body: bytes, now: int, problem: str) -> None:
    with pytest.raises(WebhookVerificationError, match=problem):
        construct_webhook_event(body, header, SECRET, now=now)


def test_the_verifier_reads_the_header_from_request_headers_in_any_case() -> None:
    verifier = WebhookVerifier(SECRET, tolerance=None)
    event = verifier.construct_event(BODY, {"x-fedapay-signature": f"t=1,s={sign(BODY, 1)}"})
    assert event.name == "payout.sent"


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[bytes, str]]]]:
    received: list[tuple[bytes, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers["X-FEDAPAY-SIGNATURE"]))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", received
    finally:
        server.shutdown()
        server.server_close()


def test_webhooks_signed_by_the_mock_verify(receiver: tuple[str, list[tuple[bytes, str]]]) -> None:
    from fedapay_mock import run_mock

    url, received = receiver
    with run_mock(webhook_url=url, webhook_secret=SECRET, settle_seconds=0) as server, \
            FedaPay("sk_sandbox_hooks", base_url=server.base_url) as client:
        payout = client.payouts.create(amount=700, currency="XOF", mode="moov",
                                       customer={"firstname": "A", "lastname": "B"})
        client.payouts.send_now(payout.id)
        deadline = time.monotonic() + 5
        while len(received) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    verifier = WebhookVerifier(SECRET)
    events = [verifier.construct_event(body, header) for body, header in received]
    assert [e.name for e in events] == ["payout.created", "payout.started", "payout.sent"]
    assert [e.payout.id if e.payout else None for e in events] == [payout.id] * 3


class _FrameworkHeaders:
    """Headers as Flask/Werkzeug hand them (`request.headers`): not a Mapping, but `items()` and `get()`."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def items(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def get(self, name: str) -> str | None:
        return next((value for key, value in self._pairs if key.lower() == name.lower()), None)


def test_headers_of_flask_or_http_server_are_read_not_taken_for_a_missing_signature() -> None:
    import email.message

    header = f"t={NOW},s={sign(BODY)}"
    message = email.message.Message()  # what http.server's self.headers is
    message["X-Fedapay-Signature"] = header
    verifier = WebhookVerifier(SECRET)
    flask = _FrameworkHeaders([("Content-Type", "application/json"), ("X-FEDAPAY-SIGNATURE", header)])
    for headers in (message, flask):
        assert verifier.construct_event(BODY, headers, now=NOW).name == "payout.sent"
    message["x-fedapay-signature"] = f"t={NOW},s={'0' * 64}"  # given twice: ambiguous, refused
    with pytest.raises(WebhookVerificationError, match="2 times"):
        verifier.construct_event(BODY, message, now=NOW)


@pytest.mark.parametrize("headers", [42, [("X-FEDAPAY-SIGNATURE", "t=1,s=0")], object()])
def test_something_that_is_neither_headers_nor_a_header_value_is_refused_saying_what_to_pass(headers: Any) -> None:
    with pytest.raises(WebhookVerificationError, match=r"pass the request's headers \(a mapping, or an object with"):
        WebhookVerifier(SECRET).construct_event(BODY, headers, now=NOW)


def test_a_zero_tolerance_accepts_a_webhook_signed_in_the_same_second() -> None:
    # The timestamp is whole seconds, the clock is not: compared as they were, 0.7 s of age was over 0.
    verify_webhook_signature(BODY, f"t={NOW},s={sign(BODY)}", SECRET, now=NOW + 0.7, tolerance=0)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_webhook_signature(BODY, f"t={NOW},s={sign(BODY)}", SECRET, now=NOW + 1.2, tolerance=0)


@pytest.mark.parametrize("field", [{"amount": "lots"}, {"status": 5}, {"merchant_reference": 12}])
def test_a_payout_entity_of_the_wrong_types_is_an_error_as_a_reply_would_be(field: dict[str, Any]) -> None:
    """A webhook's payout was read without the type checks a reply's gets: `amount` "lots" reached the handler
    (thirteenth review)."""
    entity = {**json.loads(BODY)["entity"], **field}
    body = _event_with(entity)
    event = construct_webhook_event(body, f"t={NOW},s={sign(body)}", SECRET, now=NOW)
    with pytest.raises(WebhookVerificationError, match=f"a {next(iter(field))} of the wrong type"):
        _ = event.payout
