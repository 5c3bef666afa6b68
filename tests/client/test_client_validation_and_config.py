"""Client-side checks (before any request, naming the argument) and configuration."""

from __future__ import annotations

import contextlib
import datetime
from typing import Any

import httpx
import pytest
from fedapay_payouts import DEFAULT_TIMEOUT, APIError, APIStatusError, FedaPay, InvalidArgumentError

from tests.client.client_support import API_KEY, CUSTOMER

FUTURE = datetime.datetime(2031, 1, 1, tzinfo=datetime.UTC)
GOOD: dict[str, Any] = {"amount": 1000, "currency": "XOF", "mode": "mtn_open", "customer": CUSTOMER}


def no_network(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"a request was sent: {request.method} {request.url}")


@pytest.fixture
def offline() -> FedaPay:
    return FedaPay(API_KEY, http_client=httpx.Client(transport=httpx.MockTransport(no_network)))


@pytest.mark.parametrize(("changes", "argument"), [
    ({"amount": 0}, "amount"),
    ({"amount": -5}, "amount"),
    ({"amount": 10.5}, "amount"),
    ({"amount": True}, "amount"),
    ({"amount": "1000"}, "amount"),
    ({"currency": "XO"}, "currency"),
    ({"currency": "X0F"}, "currency"),
    ({"currency": None}, "currency"),
    ({"currency": "EUR"}, "currency"),  # the spec: XOF or GNF only
    ({"currency": {"iso": "USD"}}, "currency.iso"),
    ({"mode": ""}, "mode"),
    ({"customer": {"lastname": "L"}}, "customer.firstname"),
    ({"customer": {"firstname": "A", "lastname": ""}}, "customer.lastname"),
    ({"customer": {"firstname": "A", "lastname": "L", "email": "nope"}}, "customer.email"),
    ({"customer": {"firstname": "A", "lastname": "L", "email": "a@"}}, "customer.email"),
    ({"customer": {"firstname": "A", "lastname": "L", "phone_number": {"number": "12", "country": "bj"}}},
     "customer.phone_number.number"),
    ({"customer": {"firstname": "A", "lastname": "L", "phone_number": {"number": "+22997808080", "country": "ben"}}},
     "customer.phone_number.country"),
    ({"customer": "Ada"}, "customer"),
    ({"customer": {"id": 0}}, "customer.id"),
    ({"customer": {"id": "12"}}, "customer.id"),
    ({"customer": {"id": 12, "firstname": "Ada", "lastname": "L"}}, "customer"),
    ({"customer": {"id": 12, "firstname": "Ada"}}, "customer"),  # the rule, not "customer.lastname: is required"
    ({"customer": {"id": 12, "email": "a@example.com"}}, "customer"),
    ({"merchant_reference": 5}, "merchant_reference"),
    ({"custom_metadata": [1]}, "custom_metadata"),
    ({"idempotency_key": "has space"}, "idempotency_key"),
])
def test_create_refuses_bad_arguments_naming_them(offline: FedaPay, changes: dict[str, Any], argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        offline.payouts.create(**{**GOOD, **changes})
    assert caught.value.argument == argument
    assert str(caught.value).startswith(f"{argument}: ")


@pytest.mark.parametrize(("call", "argument"), [
    (lambda p: p.retrieve(0), "id"),
    (lambda p: p.retrieve("7"), "id"),
    (lambda p: p.delete(-1), "id"),
    (lambda p: p.update(True, amount=5), "id"),
    (lambda p: p.update(7), "update"),
    (lambda p: p.update(7, amount=0), "amount"),
    (lambda p: p.update(7, scheduled_at=datetime.datetime(2031, 1, 1)), "scheduled_at"),  # naive
    (lambda p: p.update(7, scheduled_at="2001-01-01T00:00:00Z"), "scheduled_at"),  # past
    (lambda p: p.send_now(None), "id"),
    (lambda p: p.start([]), "payouts"),
    (lambda p: p.start([1, 1]), "payouts"),
    (lambda p: p.start([1, 0]), "payouts[1]"),
    (lambda p: p.start([{"id": 1, "when": 2}]), "payouts[0]"),
    (lambda p: p.start([1, 2], phone_number={"number": "+22997808080", "country": "bj"}), "phone_number"),
    (lambda p: p.schedule(7, datetime.datetime(2031, 1, 1)), "at"),  # naive
    (lambda p: p.schedule(7, "2001-01-01 10:00:00"), "at"),  # FedaPay's form, past in every zone
    (lambda p: p.schedule(7, "2031-01-01 10:00"), "at"),  # not the spec's pattern
    (lambda p: p.schedule(7, "tomorrow"), "at"),
    (lambda p: p.schedule(7, datetime.datetime(2001, 1, 1, tzinfo=datetime.UTC)), "at"),  # past
    (lambda p: p.start([{"id": 1, "scheduled_at": 12}]), "payouts[0].scheduled_at"),
    # A number failing two checks named the whole body ("must be a list"): the start body is an object or a list.
    (lambda p: p.send_now(1, phone_number={"number": "12", "country": "bj"}), "phone_number.number"),
    (lambda p: p.start([{"id": 1, "phone_number": {"number": "x", "country": "bj"}}]),
     "payouts[0].phone_number.number"),
    (lambda p: p.schedule(7, FUTURE, phone_number={"number": "12", "country": "bj"}), "phone_number.number"),
    (lambda p: p.list(page=0), "page"),
    (lambda p: p.list(per_page=101), "per_page"),
    (lambda p: p.list(status=5), "status"),
    (lambda p: p.auto_paging_iter(per_page=0), "per_page"),
    (lambda p: p.retrieve(7, timeout=-1), "timeout"),
])
def test_other_operations_refuse_bad_arguments_before_any_request(
    offline: FedaPay, call: Any, argument: str
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        call(offline.payouts)
    assert caught.value.argument == argument


def test_the_customer_rule_comes_before_the_specs_branches(offline: FedaPay) -> None:
    with pytest.raises(InvalidArgumentError, match="give either an existing customer's id or a description, not both"):
        offline.payouts.create(**{**GOOD, "customer": {"id": 12, "firstname": "Ada"}})


def test_call_takes_an_aware_datetime_for_a_start_items_scheduled_at() -> None:
    sent: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        return httpx.Response(200, json={"v1/payouts": [{"id": 1, "status": "scheduled"}]})

    # The reply's shape is not this test's subject: what was sent is.
    client = FedaPay(API_KEY, transport=httpx.MockTransport(answer), max_retries=0)
    with client, contextlib.suppress(APIError):
        client.payouts.call("start_payouts", body={"payouts": [{"id": 1, "scheduled_at": FUTURE}]})
    assert len(sent) == 1
    assert b'"scheduled_at":"2031-01-01T00:00:00Z"' in sent[0]


def test_scheduled_at_accepts_aware_datetimes_and_iso_strings() -> None:
    from fedapay_payouts._validation import scheduled_at

    assert scheduled_at(FUTURE) == "2031-01-01T00:00:00Z"
    assert scheduled_at("2031-01-01T01:00:00+01:00") == "2031-01-01T00:00:00Z"
    assert scheduled_at("2031-01-01 00:00:00Z") == "2031-01-01T00:00:00Z"


def test_configuration_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    live_key = "sk_live_client_tests_Secret123"  # live goes with a live key (issue 13)
    monkeypatch.setenv("FEDAPAY_API_KEY", live_key)
    monkeypatch.setenv("FEDAPAY_ENVIRONMENT", "live")
    monkeypatch.setenv("FEDAPAY_ACCOUNT_ID", "42")
    monkeypatch.setenv("FEDAPAY_MAX_RETRIES", "5")
    with FedaPay() as client:
        assert (client.environment, client.base_url, client.account_id) == ("live", "https://api.fedapay.com/v1", "42")
        assert client.retry_policy.max_retries == 5
        assert client._http.headers["fedapay-account"] == "42"
        assert client._http.headers["authorization"] == f"Bearer {live_key}"
    monkeypatch.setenv("FEDAPAY_BASE_URL", "http://127.0.0.1:4010")
    with FedaPay(API_KEY, environment="sandbox", max_retries=0) as client:
        assert (client.environment, client.base_url) == ("sandbox", "http://127.0.0.1:4010/v1")
        assert client.retry_policy.max_retries == 0


def test_arguments_win_and_defaults_are_explicit() -> None:
    with FedaPay(API_KEY) as client:
        assert client.base_url == "https://sandbox-api.fedapay.com/v1"
        assert client.timeout == DEFAULT_TIMEOUT == httpx.Timeout(30.0, connect=5.0)
        assert client._http.timeout == DEFAULT_TIMEOUT
        assert client.retry_policy.max_retries == 2
    with FedaPay(API_KEY, timeout=3) as client:
        assert client._http.timeout == httpx.Timeout(3.0)


@pytest.mark.parametrize(("kwargs", "argument"), [
    ({}, "api_key"),
    ({"api_key": "  "}, "api_key"),
    ({"api_key": API_KEY, "environment": "production"}, "environment"),
    ({"api_key": API_KEY, "base_url": "ftp://x"}, "base_url"),
    ({"api_key": API_KEY, "max_retries": -1}, "max_retries"),
    ({"api_key": API_KEY, "timeout": 0}, "timeout"),
])
def test_bad_configuration_names_the_setting(kwargs: dict[str, Any], argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        FedaPay(**kwargs)
    assert caught.value.argument == argument


def test_timeouts_per_call_override_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, float | None]] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(204)

    injected = httpx.Client(transport=httpx.MockTransport(record))
    with FedaPay(API_KEY, timeout=httpx.Timeout(10.0, connect=2.0), http_client=injected) as client:
        client.payouts.delete(1)
        client.payouts.delete(1, timeout=1.5)
        client.payouts.delete(1, timeout=None)
        client.payouts.delete(1, timeout=None, deadline=7.0)
    assert seen[:2] == [
        {"connect": 2.0, "read": 10.0, "write": 10.0, "pool": 10.0},
        {"connect": 1.5, "read": 1.5, "write": 1.5, "pool": 1.5},
    ]
    # No timeout per step still ends by the call's deadline: each step gets what is left of it.
    assert set(seen[2]) == set(seen[3]) == {"connect", "read", "write", "pool"}
    assert all(115.0 < value <= 120.0 for value in seen[2].values() if value is not None)
    assert all(6.0 < value <= 7.0 for value in seen[3].values() if value is not None)
    assert None not in [*seen[2].values(), *seen[3].values()]
    assert not injected.is_closed  # the caller's client is the caller's to close
    injected.close()


def test_what_the_spec_accepts_is_sent_as_given() -> None:
    """Values the spec allows and the hand-written checks used to refuse (issue 10): sent, not refused."""
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(422, json={"message": "refused by the test server"})

    client = FedaPay(API_KEY, max_retries=0, http_client=httpx.Client(transport=httpx.MockTransport(record)))
    customer: Any = {"firstname": " ", "lastname": "L", "nickname": "extra keys are the spec's"}
    with pytest.raises(APIStatusError, match="refused by the test server"):
        client.payouts.create(amount=5, currency={"iso": "GNF"}, mode=" ", customer=customer, merchant_reference="")
    with pytest.raises(APIStatusError, match="refused by the test server"):
        client.payouts.schedule(7, "2031-01-01 10:00:00")
    with pytest.raises(APIStatusError, match="refused by the test server"):
        client.payouts.list(status="")
    import json

    create, schedule, listed = seen
    assert json.loads(create.content) == {
        "amount": 5, "currency": {"iso": "GNF"}, "mode": " ", "customer": customer, "merchant_reference": "",
    }
    # FedaPay's own form is taken, and sent as the instant it names (no zone: UTC, as the spec says), in the
    # ISO form FedaPay's Node library sends: what was checked against the clock is what is sent.
    assert json.loads(schedule.content) == {"payouts": [{"id": 7, "scheduled_at": "2031-01-01T10:00:00Z"}]}
    assert listed.url.params["status"] == ""


@pytest.mark.parametrize(("given", "url"), [("LIVE", "https://api.fedapay.com/v1"), ("Sandbox", "https://sandbox-api.fedapay.com/v1")])
def test_the_environment_is_read_in_any_case(monkeypatch: pytest.MonkeyPatch, given: str, url: str) -> None:
    monkeypatch.delenv("FEDAPAY_BASE_URL", raising=False)
    monkeypatch.setenv("FEDAPAY_ENVIRONMENT", given)
    key = "sk_live_client_tests_Secret123" if given.lower() == "live" else API_KEY  # the key must agree (issue 13)
    with FedaPay(key) as from_variable, FedaPay(key, environment=given) as from_argument:
        assert (from_variable.environment, from_variable.base_url) == (given.lower(), url)
        assert (from_argument.environment, from_argument.base_url) == (given.lower(), url)


def test_exceptions_are_shown_under_the_package_name() -> None:
    import traceback

    import fedapay_payouts

    with pytest.raises(fedapay_payouts.InvalidArgumentError) as caught:
        FedaPay(API_KEY, environment="production")
    shown = "".join(traceback.format_exception(caught.value))
    assert "fedapay_payouts.InvalidArgumentError: " in shown
    assert "_exceptions" not in shown.splitlines()[-1]
    for name in ("NotFoundError", "APIConnectionError", "PayoutOutcomeUnknownError", "FedaPayError"):
        assert getattr(fedapay_payouts, name).__module__ == "fedapay_payouts"


class _SafeString(str):  # Django's SafeString, markupsafe's Markup, numpy's str_: a str subclass
    __slots__ = ()


class _Cents(int):
    __slots__ = ()


def test_str_and_int_subclasses_are_checked_and_sent_as_their_plain_values(fedapay_mock: Any) -> None:
    """A subclass reached the schema validator as itself: a bare ValueError ('Unsupported type'), no field named."""
    with FedaPay(API_KEY, base_url=fedapay_mock.base_url) as client:
        payout = client.payouts.create(
            amount=_Cents(1500), currency=_SafeString("XOF"), mode=_SafeString("mtn_open"),
            customer={"firstname": _SafeString("Ada"), "lastname": _SafeString("Lovelace")},
            merchant_reference=_SafeString("inv-77"),
        )
        assert (payout.amount, payout.currency_id) == (1500, 1)
        assert client.payouts.retrieve(payout.id).amount == 1500
        with pytest.raises(InvalidArgumentError) as caught:
            client.payouts.create(amount=_Cents(0), currency="XOF", mode="mtn_open", customer=CUSTOMER)
        assert caught.value.argument == "amount"
