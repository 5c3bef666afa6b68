"""The escape hatches (`extra_headers=`, `extra_body=`, `extra_query=`) carry only what the spec does not declare
and the client does not set: they cannot replace a checked value behind the client's back."""

from __future__ import annotations

from typing import Any

import pytest
from fedapay_payouts import InvalidArgumentError

from tests.client.client_support import CUSTOMER, Api

ORDER: dict[str, Any] = {"amount": 1000, "currency": "XOF", "mode": "mtn_open", "customer": CUSTOMER}
SECRET_VALUE = "Bearer sk_live_do_not_show_me"


@pytest.mark.parametrize("name", [
    "idempotency-key", "IDEMPOTENCY-KEY", "Authorization", "authorization", "Content-Length", "host",
    "FedaPay-Account", "fedapay-account", "Content-Type", "Transfer-Encoding", "Connection", "Proxy-Authorization",
    "Accept", "accept-encoding", "TE", "Expect", "Upgrade",
])
def test_extra_headers_refuse_what_the_client_sets_in_any_case(api: Api, name: str) -> None:
    """`{"idempotency-key": "order-77"}` replaced the wire key while the error reported the generated one:
    recovering with it created a second payout. Every header default_headers refuses is refused here too."""
    client = api.client()
    with pytest.raises(InvalidArgumentError) as caught:
        api.call(client, lambda p: p.create(**ORDER, extra_headers={name: SECRET_VALUE}))
    assert caught.value.argument == "extra_headers"
    assert name in caught.value.problem
    assert "sk_live" not in str(caught.value)  # the value is never quoted
    with pytest.raises(InvalidArgumentError):
        api.call(client, lambda p: p.retrieve(7, extra_headers={name: "x"}))
    assert api.sent == []


def test_extra_headers_refuse_one_name_given_twice_in_two_cases(api: Api) -> None:
    client = api.client()
    with pytest.raises(InvalidArgumentError) as caught:
        api.call(client, lambda p: p.retrieve(7, extra_headers={"X-Trace": "a", "x-trace": SECRET_VALUE}))
    assert caught.value.argument == "extra_headers"
    assert "twice" in caught.value.problem
    assert "sk_live" not in str(caught.value)
    assert api.sent == []


def test_extra_headers_still_carry_a_header_of_the_callers_own(api: Api) -> None:
    client = api.client()
    payout = api.call(client, lambda p: p.create(**ORDER, idempotency_key="order-78", extra_headers={"X-Trace": "t1"}))
    assert payout.amount == 1000
    assert [(sent.headers["x-trace"], sent.headers["idempotency-key"]) for sent in api.sent] == [("t1", "order-78")]


PAST = "2001-01-01 00:00:00"
DECLARED_IN_EXTRA_BODY: dict[str, tuple[Any, str]] = {
    "create amount": (lambda p: p.create(**ORDER, extra_body={"amount": -5}), "amount="),
    "create amount bool": (lambda p: p.create(**ORDER, extra_body={"amount": True}), "amount="),
    "create customer": (lambda p: p.create(**ORDER, extra_body={"customer": {"id": 1, "firstname": "x"}}),
                        "customer="),
    "update scheduled_at": (lambda p: p.update(7, amount=10, extra_body={"scheduled_at": PAST}), "scheduled_at="),
    "start past schedule": (lambda p: p.start(7, extra_body={"payouts": [{"id": 7, "scheduled_at": PAST}]}),
                            "payouts="),
    "start payouts str": (lambda p: p.start(7, extra_body={"payouts": "abc"}), "payouts="),
    "start payouts ints": (lambda p: p.start(7, extra_body={"payouts": [1]}), "payouts="),
    "send_now payouts": (lambda p: p.send_now(7, extra_body={"payouts": [{"id": 8}]}), "id="),
    "schedule payouts": (lambda p: p.schedule(7, "2031-01-01T00:00:00Z", extra_body={"payouts": None}), "id="),
    "call start body": (lambda p: p.call("start_payouts", body={"payouts": [{"id": 7}]}, extra_body={"payouts": 1}),
                        "body="),
}


@pytest.mark.parametrize("case", sorted(DECLARED_IN_EXTRA_BODY))
def test_extra_body_refuses_a_field_the_spec_declares_naming_the_argument_to_use(api: Api, case: str) -> None:
    """extra_body was merged after every check: a past schedule, a negative amount reached the server, and
    `{"payouts": "abc"}` raised a bare TypeError. It is for fields the spec does not declare."""
    operation, instead = DECLARED_IN_EXTRA_BODY[case]
    client = api.client()
    with pytest.raises(InvalidArgumentError) as caught:
        api.call(client, operation)
    assert caught.value.argument == "extra_body"
    assert f"pass {instead} instead" in caught.value.problem
    assert api.sent == []


def test_extra_body_still_adds_a_field_the_spec_does_not_declare(api: Api) -> None:
    client = api.client()
    api.call(client, lambda p: p.create(**ORDER, extra_body={"fedapay_new_field": {"x": 1}}))
    assert [sent.body["fedapay_new_field"] for sent in api.sent] == [{"x": 1}]
    assert api.sent[0].body["amount"] == 1000


DECLARED_IN_EXTRA_QUERY: dict[str, tuple[Any, str, str]] = {
    "create amount": (lambda p: p.create(**ORDER, extra_query={"amount": 999_999}), "'amount'", "amount="),
    "create mode in another case": (lambda p: p.create(**ORDER, extra_query={"Mode": "moov"}), "'Mode'", "mode="),
    "create customer bracket": (lambda p: p.create(**ORDER, extra_query={"customer[id]": 9}), "'customer[id]'",
                                "customer="),
    "create nested email": (lambda p: p.create(**ORDER, extra_query={"email": "x@example.com"}), "'email'",
                            "customer="),
    "update past schedule": (lambda p: p.update(7, description="x", extra_query={"scheduled_at": PAST}),
                             "'scheduled_at'", "scheduled_at="),
    "update amount array": (lambda p: p.update(7, description="x", extra_query={"amount[]": -5}), "'amount[]'",
                            "amount="),
    "send_now past schedule": (lambda p: p.send_now(7, extra_query={"scheduled_at": PAST}), "'scheduled_at'", "="),
    "list status in another case": (lambda p: p.list(extra_query={"Status": "sent"}), "'Status'", "status="),
    "retrieve id": (lambda p: p.retrieve(7, extra_query={"id": 8}), "'id'", "id="),
    "retrieve include in another case": (lambda p: p.retrieve(7, extra_query={"INCLUDE": "customer"}), "'INCLUDE'",
                                         "include="),
}


@pytest.mark.parametrize("case", sorted(DECLARED_IN_EXTRA_QUERY))
def test_extra_query_refuses_a_parameter_or_field_the_spec_declares(api: Api, case: str) -> None:
    """`update(1, description="x", extra_query={"scheduled_at": PAST})` went out with the past schedule in the
    query and returned success: a server that reads a field from the query when the body lacks it (PHP
    frameworks merge the two) gets it unchecked, as extra_body once did. And a declared `status` there replaced
    the checked one. Refused before any request, in any case, up to the first `[`."""
    operation, shown, instead = DECLARED_IN_EXTRA_QUERY[case]
    client = api.client()
    with pytest.raises(InvalidArgumentError) as caught:
        api.call(client, operation)
    assert caught.value.argument == "extra_query"
    assert caught.value.problem.startswith(f"{shown} is a parameter or field of ")
    assert instead in caught.value.problem
    assert api.sent == []


def test_a_declared_query_parameter_in_extra_query_is_checked_as_declared_and_never_given_twice(api: Api) -> None:
    """retrieve has no keyword for its declared `include`: extra_query carries it, checked as the spec types it.
    list's `status` given both ways is refused (the query's silently replaced the checked keyword's)."""
    client = api.client()
    made = api.call(client, lambda p: p.create(**ORDER))
    payout = api.call(client, lambda p: p.retrieve(made.id, extra_query={"include": "customer"}))
    assert [sent.query.get("include") for sent in api.sent] == [None, "customer"]
    assert payout.customer.firstname == CUSTOMER["firstname"]
    with pytest.raises(InvalidArgumentError) as twice:
        api.call(client, lambda p: p.list(status="failed", extra_query={"status": "sent"}))
    assert (twice.value.argument, twice.value.problem) == (
        "extra_query", "'status' is a parameter of list_payouts this call sets: pass status= instead"
    )
    with pytest.raises(InvalidArgumentError) as typed:
        api.call(client, lambda p: p.retrieve(made.id, extra_query={"include": 5}))
    assert (typed.value.argument, typed.value.problem) == ("include", "must be a string, got int 5")
    assert len(api.sent) == 2


def test_extra_query_still_carries_a_parameter_the_spec_does_not_declare(api: Api) -> None:
    client = api.client()
    made = api.call(client, lambda p: p.create(**ORDER))
    api.sent.clear()
    api.call(client, lambda p: p.retrieve(made.id, extra_query={"fedapay_new_param": "x"}))
    assert [sent.query.get("fedapay_new_param") for sent in api.sent] == ["x"]
