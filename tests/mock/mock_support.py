"""Helpers shared by the mock's tests: request bodies and a checker of replies against the spec."""

from __future__ import annotations

import socket
from typing import Any

import httpx
from fedapay_mock.spec import Spec
from fedapay_mock.validation import SchemaValidator, response_validator

API_KEY = "sk_sandbox_mocktests"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
SETTLE = 30.0


def payout_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "amount": 1000,
        "currency": {"iso": "XOF"},
        "mode": "mtn_open",
        "customer": {
            "firstname": "Ada",
            "lastname": "Lovelace",
            "email": "ada@example.com",
            "phone_number": {"number": "+22997808080", "country": "bj"},
        },
    }
    body.update(overrides)
    return body


class ReplyChecker:
    """Asserts that a reply is one the spec documents for the operation, with a body of its schema."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._validators: dict[str, SchemaValidator] = {}

    def __call__(self, operation_id: str, reply: httpx.Response) -> Any:
        op = self.spec.operation(operation_id)
        assert op.documents(reply.status_code), f"{operation_id} does not document {reply.status_code}"
        responses = self.spec.document["paths"][op.path][op.method.lower()]["responses"]
        declared = responses.get(str(reply.status_code)) or responses[f"{str(reply.status_code)[0]}XX"]
        if "$ref" in declared:
            declared = self.spec.document["components"]["responses"][declared["$ref"].rsplit("/", 1)[1]]
        content = declared.get("content")
        if content is None:
            assert reply.content == b""
            return None
        assert reply.headers["content-type"] == "application/json"
        ref = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        if ref not in self._validators:
            self._validators[ref] = response_validator(self.spec, ref)
        body = reply.json()
        outcome = self._validators[ref].validate(body)
        assert not outcome.errors, outcome.errors
        return body


def create(api: httpx.Client, check: ReplyChecker, **overrides: Any) -> dict[str, Any]:
    reply = api.post("/payouts", json=payout_body(**overrides))
    assert reply.status_code == 201, reply.text
    payout: dict[str, Any] = check("create_payout", reply)["v1/payout"]
    return payout


def read_reply(client: socket.socket) -> tuple[bytes, bytes]:
    """One whole reply (head, body) from a raw connection to the mock, by its content-length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        assert chunk, f"the connection closed after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))[15:])
    while len(body) < length:
        chunk = client.recv(65536)
        assert chunk, "the connection closed inside the body"
        body += chunk
    return head, body


def read_until_closed(client: socket.socket, bound: float) -> bytes:
    """Everything the server sends until it closes the connection (a reset after a reply counts as a close),
    waiting at most `bound` seconds for each read ("does not hang")."""
    data = b""
    client.settimeout(bound)
    while True:
        try:
            chunk = client.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk
