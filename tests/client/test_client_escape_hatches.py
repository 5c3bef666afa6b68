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
