"""The FedaPay checks' rules on concrete replies (`fedapay_contract.create_reply`, `checks`), beside the teeth runs.

The teeth runs (`test_teeth.py`) prove each check catches a broken server in a real run; these pin what a check
compares, so a correct server that writes a value another way (a number with its country code, a tidied name,
an omitted field) is not failed, and one that pays someone else is.
"""

from __future__ import annotations

from typing import Any

import pytest
from fedapay_contract.checks import NOT_STARTABLE, STARTED_OR_LATER, start_items
from fedapay_contract.create_reply import create_reply_problem

BODY: dict[str, Any] = {
    "amount": 2000,
    "currency": {"iso": "XOF"},
    "mode": "mtn_open",
    "merchant_reference": "order-17",
    "customer": {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "email": "ada@example.com",
        "phone_number": {"number": "97808080", "country": "bj"},
    },
}
PAYOUT: dict[str, Any] = {
    "klass": "v1/payout",
    "id": 17,
    "amount": 2000,
    "mode": "mtn_open",
    "status": "pending",
    "customer_id": 4,
    "currency_id": 1,
    "merchant_reference": "order-17",
    "currency": {"klass": "v1/currency", "id": 1, "iso": "XOF"},
    "customer": {
        "klass": "v1/customer",
        "id": 4,
        "firstname": "Ada",
        "lastname": "Lovelace",
        "email": "ada@example.com",
        "phone_number": {"number": "+22997808080", "country": "BJ"},
    },
}


OTHER_WALLET = "to a customer of another phone number"


def _payout(**changes: Any) -> dict[str, Any]:
    return {**PAYOUT, **changes}


def _customer(**changes: Any) -> dict[str, Any]:
    return {**PAYOUT["customer"], **changes}


def test_a_reply_describing_the_payout_asked_has_no_problem() -> None:
    assert create_reply_problem(BODY, PAYOUT) is None
    # What a correct server may write another way: the wallet with its country code, a name tidied, the ISO
    # code's case, and fields left out (a reply states only what it states: no `include`, no reference).
    tidied = _customer(firstname="  ADA ", phone_number={"number": "0022997808080", "country": "bj"})
    assert create_reply_problem(BODY, _payout(customer=tidied, currency={"iso": "xof"})) is None
    bare = {key: value for key, value in PAYOUT.items() if key not in ("customer", "currency")}
    assert create_reply_problem(BODY, {**bare, "merchant_reference": None}) is None


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (_payout(amount=20000), "of amount 20000, not 2000 as asked"),
        (_payout(mode="moov"), "in mode 'moov', not 'mtn_open' as asked"),
        (_payout(currency={"iso": "GNF"}), "in currency 'GNF', not 'XOF' as asked"),
        (_payout(merchant_reference="order-18"), "of merchant_reference 'order-18', not 'order-17' as asked"),
        (_payout(customer=_customer(lastname="Byron")), "to a customer of another lastname ('Byron', not 'Lovelace'"),
        (_payout(customer=_customer(email="eve@example.com")), "to a customer of another email"),
        # The same national digits in Togo, and one digit more in Benin, are other wallets.
        (_payout(customer=_customer(phone_number={"number": "97808080", "country": "tg"})), OTHER_WALLET),
        (_payout(customer=_customer(phone_number={"number": "+229978080801"})), OTHER_WALLET),
    ],
)
def test_a_reply_for_another_payout_is_a_problem(reply: dict[str, Any], problem: str) -> None:
    found = create_reply_problem(BODY, reply)
    assert found is not None
    assert found.startswith(problem), found


def test_a_customer_named_by_id_is_compared_by_id_and_one_described_in_full_by_its_details() -> None:
    by_id = {**BODY, "customer": {"id": 4}}
    assert create_reply_problem(by_id, PAYOUT) is None
    assert create_reply_problem(by_id, _payout(customer_id=5)) == "to customer 5 (customer_id), not customer 4 as asked"
    assert create_reply_problem(by_id, _payout(customer=_customer(id=6))) == (
        "to customer 6 (customer.id), not customer 4 as asked"
    )
    # With names beside it, `id` is no `CustomerRef` (which allows no other field): a new customer, its own id.
    described = {**BODY, "customer": {**BODY["customer"], "id": 99}}
    assert create_reply_problem(described, PAYOUT) is None


def test_values_of_no_comparable_type_are_left_to_the_schema_checks() -> None:
    assert create_reply_problem({**BODY, "amount": True}, _payout(amount=1)) is None
    assert create_reply_problem(BODY, _payout(amount="2000")) is None
    assert create_reply_problem([BODY], PAYOUT) is None
    assert create_reply_problem(BODY, None) is None


def test_the_start_checks_judge_only_known_states() -> None:
    # `scheduled` and statuses the spec's open set may add are never judged; `pending` is startable.
    assert "scheduled" not in NOT_STARTABLE
    assert "pending" not in NOT_STARTABLE
    assert {"started", "sent", "failed", "deleted"} <= NOT_STARTABLE
    assert {"started", "processing", "sent", "failed"} == STARTED_OR_LATER
    body = {"payouts": [{"id": 3}, {"id": 4, "scheduled_at": "2030-01-01 10:00:00"}, {"id": 3}, {"id": "5"}]}
    assert start_items(body) == {3: False, 4: True}
    assert start_items([{"id": 7, "scheduled_at": None}]) == {7: False}


def test_start_items_of_any_json_type_are_read_without_failing_the_check() -> None:
    """A negative case's item id may be an object or a list: looking it up raised TypeError (unhashable), and the
    check was lost as a runtime error for that case (eleventh review)."""
    body = {"payouts": [{"id": {"x": 1}}, {"id": [1]}, {"id": 5, "scheduled_at": "2030-01-01T00:00:00Z"}, {"id": 6}]}
    assert start_items(body) == {5: True, 6: False}
