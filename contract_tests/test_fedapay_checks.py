"""The FedaPay checks' rules on concrete replies (`fedapay_contract.create_reply`, `checks`), beside the teeth runs.

The teeth runs (`test_teeth.py`) prove each check catches a broken server in a real run; these pin what a check
compares, so a correct server that writes a value another way (a number with its country code, a tidied name,
an omitted field) is not failed, and one that pays someone else is.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from fedapay_contract.checks import (
    NOT_STARTABLE,
    SCHEDULED_START_EXAMPLE,
    STARTED_OR_LATER,
    add_scheduled_start_example,
    start_dates,
    start_items,
)
from fedapay_contract.create_reply import create_reply_problem
from fedapay_contract.server_time import FUTURE_MARGIN, http_date, instant, latest_now, stamps_of, surely_future
from fedapay_contract.stored import created_read_back_problem, new_payout_problem, update_read_back_problem

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
    assert start_dates(body) == {5: "2030-01-01T00:00:00Z", 6: None}


# --- what the read-back checks compare (`stored`, `server_time`) ----------------------------------------------------


def test_a_payout_read_back_after_a_create_is_compared_like_the_reply_and_must_be_new() -> None:
    assert created_read_back_problem(BODY, PAYOUT) is None
    assert created_read_back_problem(BODY, _payout(amount=20000)) == "of amount 20000, not 2000 as asked"
    assert created_read_back_problem(BODY, _payout(status="sent")) == "`sent`, not `pending` as a new payout is"
    assert new_payout_problem(_payout(status="started")) == "`started`"
    assert new_payout_problem(_payout(deleted_at="2024-01-01T00:00:00Z")) == "deleted (`deleted_at` is set)"
    # A status the spec's open set may add, or of no comparable type, is not judged.
    assert new_payout_problem(_payout(status="awaiting_review")) is None
    assert new_payout_problem(_payout(status=["sent"])) is None


def test_an_update_read_back_is_compared_with_the_reply_for_the_fields_sent() -> None:
    reply = _payout(amount=3000, description="rent", scheduled_at="2030-01-01T10:00:00.000Z")
    assert update_read_back_problem({"amount": 3000}, reply, reply) is None
    assert update_read_back_problem({"amount": 3000}, reply, PAYOUT) == (
        "`amount` 2000, not 3000 as the update's reply says"
    )
    # Only the fields sent: the description differs, but this update did not send it.
    assert update_read_back_problem({"amount": 3000}, reply, {**reply, "description": "old"}) is None
    assert update_read_back_problem({"description": "rent"}, reply, {**reply, "description": "old"}) == (
        "`description` 'old', not 'rent' as the update's reply says"
    )
    # A date is the same instant whatever form each reply writes it in; a field a side leaves out says nothing.
    same_instant = {**reply, "scheduled_at": "2030-01-01 11:00:00 +0100"}
    assert update_read_back_problem({"scheduled_at": "2030-01-01T10:00:00Z"}, reply, same_instant) is None
    later = {**reply, "scheduled_at": "2030-01-01T10:00:01Z"}
    assert update_read_back_problem({"scheduled_at": "2030-01-01T10:00:00Z"}, reply, later) is not None
    assert update_read_back_problem({"amount": 3000}, reply, {"id": 17}) is None
    # `true` is no amount of 1 (JSON types differ), and an undeclared field is not compared.
    assert update_read_back_problem({"amount": 1}, _payout(amount=1), _payout(amount=True)) is not None
    assert update_read_back_problem({"status": "x"}, _payout(status="x"), _payout(status="y")) is None


@pytest.mark.parametrize(
    "text",
    [
        "2030-01-01T10:00:00Z",
        "2030-01-01T10:00:00.000Z",
        "2030-01-01 10:00:00",  # PHP's form, no zone: UTC
        "2030-01-01 10:00:00 UTC",  # Ruby's Time#to_s
        "2030-01-01 11:00:00 +0100",
        "2030-01-01T11:30:00+01:30",
        "2029-12-31T22:00:00-12:00",
    ],
)
def test_a_date_is_read_in_each_form_of_the_spec_and_its_zone(text: str) -> None:
    assert instant(text) == 1_893_492_000.0


def test_what_is_no_date_is_not_judged() -> None:
    assert instant("2024-02-30T10:00:00Z") is None  # matches the pattern, no such day
    assert instant("tomorrow") is None
    assert instant(1_893_492_000) is None
    # Years at the pattern's ends, moved by their offset, stay numbers (no datetime overflow).
    assert instant("9999-12-31T23:59:59-14:00") == instant("9999-12-31T23:59:59Z") + 14 * 3600  # type: ignore[operator]
    assert instant("1000-01-01T00:00:00+14:00") is not None


def test_the_servers_now_is_the_latest_of_its_readings_and_this_machines_clock() -> None:
    assert http_date({"Date": ["Tue, 01 Jan 2030 10:00:00 GMT"]}) == 1_893_492_000.0
    assert http_date({"date": "Tue, 01 Jan 2030 10:00:00 GMT"}) == 1_893_492_000.0
    assert http_date({"Date": ["yesterday"]}) is None
    assert http_date({}) is None
    assert stamps_of({"created_at": "2030-01-01T10:00:00Z", "updated_at": None, "scheduled_at": "2099-01-01"}) == [
        1_893_492_000.0
    ]
    assert latest_now([None, 5.0, 9.0], local=7.0) == 9.0
    assert latest_now([5.0], local=7.0) == 7.0
    # Future only past the margin: a date due within it may have been sent by the read-back.
    assert not surely_future(iso_at(1000.0 + FUTURE_MARGIN), 1000.0)
    assert surely_future(iso_at(1000.0 + FUTURE_MARGIN + 1), 1000.0)
    assert not surely_future(None, 1000.0)


def iso_at(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def test_the_suite_adds_a_start_example_with_a_future_date_and_keeps_the_specs_own() -> None:
    raw: dict[str, Any] = {"paths": {"/payouts/start": {"put": {"requestBody": {"content": {"application/json": {}}}}}}}
    assert add_scheduled_start_example(raw) is True
    media = raw["paths"]["/payouts/start"]["put"]["requestBody"]["content"]["application/json"]
    assert media["examples"]["scheduled"]["value"] == SCHEDULED_START_EXAMPLE
    (item,) = SCHEDULED_START_EXAMPLE["payouts"]
    assert surely_future(item["scheduled_at"], time.time())
    content: dict[str, Any] = {"application/json": {"example": []}}
    own = {"paths": {"/payouts/start": {"put": {"requestBody": {"content": content}}}}}
    assert add_scheduled_start_example(own) is False
    assert add_scheduled_start_example({"paths": {}}) is False
