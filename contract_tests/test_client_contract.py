"""Client contract: for every operation, the hand-written client against the mock.

What reached the server is read off the wire by an httpx event hook on the `httpx.Client` injected
into `FedaPay` (no mock of our own code): exact method, path, query, body, and the headers that
matter. The typed result is checked against what the server holds (a raw GET, not the client).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from fedapay_mock import MockServer
    from fedapay_payouts import FedaPay

KEY = "sk_sandbox_contract_client"
CUSTOMER = {
    "firstname": "Awa",
    "lastname": "Kouamé",
    "email": "awa@example.com",
    "phone_number": {"number": "+22997808080", "country": "bj"},
}
WHEN = datetime.datetime(2099, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class Sent:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: httpx.Headers


class Wire:
    """Everything the injected httpx.Client put on the wire, in order."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []

    def hook(self, request: httpx.Request) -> None:
        content = request.read()
        self.sent.append(
            Sent(
                method=request.method,
                path=request.url.path,
                query={k: request.url.params.get_list(k) for k in request.url.params},
                body=json.loads(content) if content else None,
                headers=request.headers,
            )
        )

    def only(self) -> Sent:
        assert len(self.sent) == 1, [(s.method, s.path) for s in self.sent]
        return self.sent[0]


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def client(fedapay_mock: MockServer, wire: Wire) -> Iterator[FedaPay]:
    from fedapay_payouts import FedaPay

    http = httpx.Client(event_hooks={"request": [wire.hook]})
    with FedaPay(api_key=KEY, base_url=fedapay_mock.base_url, http_client=http, max_retries=0) as fedapay:
        yield fedapay
    http.close()


@pytest.fixture
def raw(fedapay_mock: MockServer) -> Iterator[httpx.Client]:
    """A plain client to set up and read server state, independent of the code under test."""
    with httpx.Client(base_url=fedapay_mock.base_url, headers={"Authorization": f"Bearer {KEY}"}) as http:
        yield http


def server_payout(raw: httpx.Client, payout_id: int) -> dict[str, Any]:
    reply = raw.get(f"/payouts/{payout_id}")
    assert reply.status_code == 200, reply.text
    payout: dict[str, Any] = reply.json()["v1/payout"]
    return payout


def new_payout(raw: httpx.Client, amount: int = 1500) -> int:
    body = {"amount": amount, "currency": {"iso": "XOF"}, "mode": "mtn_open", "customer": CUSTOMER}
    reply = raw.post("/payouts", json=body)
    assert reply.status_code == 201, reply.text
    payout_id: int = reply.json()["v1/payout"]["id"]
    return payout_id


def assert_matches_server(payout: Any, raw: httpx.Client) -> None:
    from fedapay_payouts import Payout

    assert isinstance(payout, Payout)
    held = server_payout(raw, payout.id)
    assert (payout.id, payout.amount, payout.status, payout.mode, payout.reference) == (
        held["id"],
        held["amount"],
        held["status"],
        held["mode"],
        held["reference"],
    )


def test_create(client: FedaPay, wire: Wire, raw: httpx.Client) -> None:
    payout = client.payouts.create(
        amount=2000,
        currency="XOF",
        mode="mtn_open",
        customer=CUSTOMER,  # type: ignore[arg-type]
        description="June salary",
        merchant_reference="inv-42",
        custom_metadata={"batch": 7},
        idempotency_key="contract-create-1",
    )
    sent = wire.only()
    assert (sent.method, sent.path, sent.query) == ("POST", "/v1/payouts", {})
    assert sent.body == {
        "amount": 2000,
        "currency": {"iso": "XOF"},
        "mode": "mtn_open",
        "customer": CUSTOMER,
        "description": "June salary",
        "merchant_reference": "inv-42",
        "custom_metadata": {"batch": 7},
    }
    assert sent.headers["Idempotency-Key"] == "contract-create-1"
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert sent.headers["Content-Type"].startswith("application/json")
    assert_matches_server(payout, raw)
    assert (payout.status, payout.amount, payout.merchant_reference) == ("pending", 2000, "inv-42")


def test_create_sends_a_fresh_idempotency_key_per_call(client: FedaPay, wire: Wire) -> None:
    for _ in range(2):
        client.payouts.create(amount=100, currency="XOF", mode="moov", customer={"firstname": "A", "lastname": "B"})
    keys = [sent.headers["Idempotency-Key"] for sent in wire.sent]
    assert len(keys) == 2
    assert keys[0] != keys[1]
    assert all(keys)
    assert wire.sent[0].body == {
        "amount": 100,
        "currency": {"iso": "XOF"},
        "mode": "moov",
        "customer": {"firstname": "A", "lastname": "B"},
    }


def test_retrieve(client: FedaPay, wire: Wire, raw: httpx.Client) -> None:
    payout_id = new_payout(raw)
    payout = client.payouts.retrieve(payout_id)
    sent = wire.only()
    assert (sent.method, sent.path, sent.query, sent.body) == ("GET", f"/v1/payouts/{payout_id}", {}, None)
    assert_matches_server(payout, raw)


def test_list(client: FedaPay, wire: Wire, raw: httpx.Client) -> None:
    from fedapay_payouts import Payout

    ids = [new_payout(raw, amount) for amount in (100, 200, 300)]
    page = client.payouts.list(page=1, per_page=2, status="pending")
    sent = wire.only()
    assert (sent.method, sent.path, sent.body) == ("GET", "/v1/payouts", None)
    assert sent.query == {"page": ["1"], "per_page": ["2"], "status": ["pending"]}
    assert all(isinstance(item, Payout) for item in page.items)
    assert [item.id for item in page.items] == sorted(ids, reverse=True)[:2]  # newest first
    assert page.meta is not None
    assert (page.meta.total_count, page.meta.per_page, page.next_page) == (3, 2, 2)


def test_update(client: FedaPay, wire: Wire, raw: httpx.Client) -> None:
    payout_id = new_payout(raw)
    payout = client.payouts.update(payout_id, amount=2500, description="corrected")
    sent = wire.only()
    assert (sent.method, sent.path, sent.query) == ("PUT", f"/v1/payouts/{payout_id}", {})
    assert sent.body == {"amount": 2500, "description": "corrected"}
    assert_matches_server(payout, raw)
    assert payout.amount == 2500


def test_delete(client: FedaPay, wire: Wire, raw: httpx.Client) -> None:
    payout_id = new_payout(raw)
    result = client.payouts.delete(payout_id)
    sent = wire.only()
    assert (sent.method, sent.path, sent.query, sent.body) == ("DELETE", f"/v1/payouts/{payout_id}", {}, None)
    assert result is None
    assert raw.get(f"/payouts/{payout_id}").status_code == 404


def test_start_many(client: FedaPay, wire: Wire, raw: httpx.Client) -> None:
    first, second = new_payout(raw), new_payout(raw)
    started = client.payouts.start([first, {"id": second, "scheduled_at": WHEN}])
    sent = wire.only()
    assert (sent.method, sent.path, sent.query) == ("PUT", "/v1/payouts/start", {})
    assert sent.body == {"payouts": [{"id": first}, {"id": second, "scheduled_at": "2099-01-02T03:04:05Z"}]}
    assert [payout.id for payout in started] == [first, second]
    for payout in started:
        assert_matches_server(payout, raw)
    assert [payout.status for payout in started] == ["started", "scheduled"]


def test_send_now(client: FedaPay, wire: Wire, raw: httpx.Client) -> None:
    payout_id = new_payout(raw)
    phone = {"number": "+22997000001", "country": "BJ"}
    payout = client.payouts.send_now(payout_id, phone_number=phone)  # type: ignore[arg-type]
    sent = wire.only()
    assert (sent.method, sent.path, sent.query) == ("PUT", "/v1/payouts/start", {})
    # The spec takes the country in either case; the client sends it as given.
    assert sent.body == {"payouts": [{"id": payout_id, "phone_number": {"number": "+22997000001", "country": "BJ"}}]}
    assert_matches_server(payout, raw)
    assert payout.status == "started"


def test_schedule(client: FedaPay, wire: Wire, raw: httpx.Client) -> None:
    payout_id = new_payout(raw)
    payout = client.payouts.schedule(payout_id, "2099-01-02T04:04:05+01:00")
    sent = wire.only()
    assert (sent.method, sent.path, sent.query) == ("PUT", "/v1/payouts/start", {})
    assert sent.body == {"payouts": [{"id": payout_id, "scheduled_at": "2099-01-02T03:04:05Z"}]}
    assert_matches_server(payout, raw)
    assert payout.status == "scheduled"


def test_error_reply_is_typed(client: FedaPay, wire: Wire, raw: httpx.Client) -> None:
    from fedapay_payouts import NotFoundError, UnprocessableEntityError

    with pytest.raises(NotFoundError):
        client.payouts.retrieve(987654)
    payout_id = new_payout(raw)
    client.payouts.send_now(payout_id)
    with pytest.raises(UnprocessableEntityError):
        client.payouts.send_now(payout_id)  # not pending any more
    assert [(s.method, s.path) for s in wire.sent] == [
        ("GET", "/v1/payouts/987654"),
        ("PUT", "/v1/payouts/start"),
        ("PUT", "/v1/payouts/start"),
    ]
    assert server_payout(raw, payout_id)["status"] == "started"
