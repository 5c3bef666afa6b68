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
