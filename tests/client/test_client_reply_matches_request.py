"""A success reply must answer the request that was sent (round-3 review findings).

- A create answered with a payout to another existing customer, or in another mode (the network paid
  through), is not success: with an Idempotency-Key the server may answer with the payout the key first
  created, and it must be the one this call describes.
- An update answered with another `merchant_reference`, `scheduled_at` or mode than asked is not success.
- A delete's 2xx is the server's yes (any JSON: FedaPay's PHP library reads any, its Ruby library a `deleted`
  flag, its PHP tests answer `[]`) unless what it shows of a payout says otherwise: another payout, `deleted:
  false`, or the payout sent and not marked deleted; or it is not JSON at all. Those end in
  `PayoutOutcomeUnknownError` after the look-up finds the payout still there.
After a mutating call each mismatch is `PayoutOutcomeUnknownError` (the server said yes to something).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from fedapay_payouts import PayoutOutcomeUnknownError

from tests.client.client_support import CUSTOMER, scripted

Handler = Callable[[httpx.Request], httpx.Response]
PAYOUT: dict[str, Any] = {
    "klass": "v1/payout", "id": 5, "reference": "ref", "amount": 1000, "status": "pending", "customer_id": 7,
    "currency_id": 1, "mode": "moov", "created_at": "2024-10-24T17:27:45.677Z",
    "updated_at": "2024-10-24T17:27:45.677Z", "merchant_reference": "inv-1", "scheduled_at": None, "deleted_at": None,
}


def payout(**changes: Any) -> dict[str, Any]:
    return {**PAYOUT, **changes}



def one(body: Any, status: int = 200) -> Handler:
    """A reply with `body`: a mapping in the payout envelope, anything else as it is."""
    return lambda request: httpx.Response(
        status, content=orjson.dumps({"v1/payout": body} if isinstance(body, dict) else body),
        headers={"Content-Type": "application/json"},
    )


# The customer with the number written without its dialling code, as FedaPay's create page writes it.
NATIONAL = {**CUSTOMER, "phone_number": {"number": "97808080", "country": "bj"}}


def _customer(**changes: Any) -> dict[str, Any]:
    return {"klass": "v1/customer", "id": 7, "firstname": "Ada", "lastname": "Lovelace", "email": None, **changes}


@pytest.mark.parametrize(("asked", "answered", "problem"), [
    ({"customer": {"id": 7}}, payout(customer_id=9), "to customer 9, not customer 7 as asked"),
    ({"customer": {"id": 7}}, payout(customer=_customer(id=9)), "to customer 9, not customer 7 as asked"),
    ({"mode": "moov"}, payout(mode="mtn_open"), "in mode 'mtn_open', not 'moov' as asked"),
    ({}, payout(currency={"klass": "v1/currency", "id": 2, "iso": "GNF"}), "in 'GNF', not 'XOF' as asked"),
    ({"customer": CUSTOMER}, payout(customer=_customer(firstname="Eve")), "another firstname"),
    ({"customer": CUSTOMER}, payout(customer=_customer(lastname="Mallory")), "another lastname"),
    ({"customer": CUSTOMER}, payout(customer=_customer(email="eve@example.com")), "another email"),
    ({"customer": CUSTOMER}, payout(customer=_customer(phone_number={"number": "+22966000000", "country": "bj"})),
     "another phone number"),
    # The same digits in another country, or one digit more or less: another wallet (the review-9 findings).
    ({"customer": CUSTOMER}, payout(customer=_customer(phone_number={"number": "97808080", "country": "tg"})),
     "another phone number"),
    ({"customer": CUSTOMER}, payout(customer=_customer(phone_number={"number": "+22897808080", "country": "tg"})),
     "another phone number"),
    ({"customer": CUSTOMER}, payout(customer=_customer(phone_number="+22897808080")), "another phone number"),
    ({"customer": CUSTOMER}, payout(customer=_customer(phone_number={"number": "197808080", "country": "bj"})),
     "another phone number"),
    ({"customer": CUSTOMER}, payout(customer=_customer(phone_number={"number": "7808080", "country": "bj"})),
     "another phone number"),
    ({"customer": NATIONAL}, payout(customer=_customer(phone_number="+22897808080")), "another phone number"),
    ({"customer": NATIONAL}, payout(customer=_customer(phone_number={"number": "197808080", "country": "bj"})),
     "another phone number"),
], ids=["another customer", "another customer, stated in full", "another mode", "another currency",
        "another firstname", "another lastname", "another email", "another phone number",
        "same digits in Togo", "Togo's dialling code", "Togo's dialling code, no country", "a digit more",
        "a digit less", "asked national, Togo's code", "asked national, a digit more"])
def test_a_create_answered_for_another_beneficiary_is_an_unknown_outcome_with_the_key(
    asked: dict[str, Any], answered: dict[str, Any], problem: str
) -> None:
    client, _ = scripted(one(answered, status=201))
    order: dict[str, Any] = {"amount": 1000, "currency": "XOF", "mode": "moov", "customer": CUSTOMER, **asked}
    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        client.payouts.create(**order, idempotency_key="key-42")
    assert problem in caught.value.message
    assert caught.value.idempotency_key == "key-42"


def test_a_create_reply_that_matches_is_success() -> None:
    # The same customer id and mode as asked; a customer given by description gets whatever id the server gives.
    client, _ = scripted(one(payout(), status=201), one(payout(customer_id=123), status=201))
    assert client.payouts.create(amount=1000, currency="XOF", mode="moov", customer={"id": 7}).customer_id == 7
    assert client.payouts.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER).customer_id == 123


@pytest.mark.parametrize("number", [
    {"number": "97808080", "country": "bj"}, {"number": "+22997808080", "country": "bj"},
    {"number": "0022997808080", "country": "BJ"}, {"number": "22997808080", "country": "bj"},
    {"number": "97 80 80 80", "country": "bj"}, {"number": "97808080"}, "+22997808080",
    # Benin's 10-digit plan (November 2024): 01 before the same 8 digits, one wallet (a create refused it).
    "+2290197808080", {"number": "0197808080", "country": "BJ"}, {"number": "+229 01 97 80 80 80", "country": "bj"},
])
def test_a_create_reply_stating_the_same_currency_and_customer_tidied_is_success(number: object) -> None:
    # A server may tidy what it stores (case, spaces, the number with or without Benin's dialling code): still
    # the same customer and the same wallet.
    tidied = _customer(firstname="ADA ", lastname="lovelace", email="Ada@Example.com", phone_number=number)
    client, _ = scripted(one(payout(currency={"klass": "v1/currency", "id": 1, "iso": "XOF"}, customer=tidied),
                             status=201))
    created = client.payouts.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER,
                                    include="currency,customer")
    assert created.id == 5


@pytest.mark.parametrize(("changes", "answered", "problem"), [
    ({"merchant_reference": "inv-2"}, payout(merchant_reference="inv-1"), "another merchant_reference"),
    ({"scheduled_at": "2030-01-01T00:00:00Z"}, payout(status="scheduled", scheduled_at="2031-05-05T00:00:00Z"),
     "not at 2030-01-01T00:00:00Z as asked"),
    ({"mode": "mtn_open"}, payout(mode="moov"), "in mode 'moov', not 'mtn_open' as asked"),
], ids=["merchant_reference", "scheduled_at", "mode"])
def test_an_update_answered_with_other_values_than_asked_is_an_unknown_outcome(
    changes: dict[str, Any], answered: dict[str, Any], problem: str
) -> None:
    client, _ = scripted(one(answered))
    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        client.payouts.update(5, **changes)
    assert problem in caught.value.message
    assert caught.value.payout_ids == [5]


def test_an_update_whose_reply_leaves_out_what_was_asked_is_success() -> None:
    # FedaPay's payouts (fedapay-wire.md, the PHP library's fixtures) carry no merchant_reference: a field the
    # reply leaves out says nothing against the update.
    bare = {name: value for name, value in payout().items() if name not in ("merchant_reference", "scheduled_at")}
    client, _ = scripted(one(bare), one(bare))
    assert client.payouts.update(5, merchant_reference="inv-2").id == 5
    assert client.payouts.update(5, scheduled_at="2030-01-01T00:00:00Z").id == 5


def test_a_create_whose_reply_leaves_out_the_merchant_reference_is_success() -> None:
    bare = {name: value for name, value in payout().items() if name != "merchant_reference"}
    client, _ = scripted(one(bare, status=201))
    created = client.payouts.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER, merchant_reference="x")
    assert created.id == 5


def test_an_update_whose_reply_names_the_same_instant_in_another_form_is_success() -> None:
    client, _ = scripted(one(payout(status="scheduled", scheduled_at="2030-01-01T01:00:00+01:00")))
    assert client.payouts.update(5, scheduled_at="2030-01-01 00:00:00 UTC").status == "scheduled"


SENT_WITHOUT_DELETED_AT = {name: value for name, value in payout(status="sent").items() if name != "deleted_at"}


@pytest.mark.parametrize("reply", [
    one(payout(id=99, deleted_at="2024-10-24T17:30:00.000Z")),
    one(payout(status="sent")),
    one(SENT_WITHOUT_DELETED_AT),
    one({"id": 5, "deleted": False}),
    lambda request: httpx.Response(200, content=b"<html>deleted</html>"),
    lambda request: httpx.Response(200, json={"v1/payout": payout(), "deleted": False}),
    lambda request: httpx.Response(200, json=[payout(id=99, status="sent")]),
    lambda request: httpx.Response(200, json={"v1/payouts": [payout(status="sent")]}),
    lambda request: httpx.Response(200, json={"v1/payouts": [payout(id=99)]}),
    one(payout(status="scheduled")),
    one({name: value for name, value in payout(status="scheduled").items() if name != "deleted_at"}),
    one(payout(status="pending")),
    one(False),
    lambda request: httpx.Response(200, json=[{"v1/payout": payout(id=99)}]),
    lambda request: httpx.Response(200, json={"v1/payouts": payout(id=99)}),
    lambda request: httpx.Response(200, json={"v1/payout": [payout(id=99)]}),
    lambda request: httpx.Response(200, json={"v1/payout": {"id": 5, "deleted": 0}}),
    lambda request: httpx.Response(200, json={"deleted": "false"}),
    lambda request: httpx.Response(200, json={"v1/payout": "deleted"}),
    lambda request: httpx.Response(200, json={"v1/payout": {"id": 5, "status": []}}),
    lambda request: httpx.Response(200, json={"v1/payout": {"id": 5, "status": {"x": 1}}}),
    lambda request: httpx.Response(200, json={"success": False}),
    lambda request: httpx.Response(200, json={"ok": False, "message": "Payout deleted"}),
    lambda request: httpx.Response(200, json={"status": "error", "message": "cannot delete"}),
    lambda request: httpx.Response(200, json={"error": "Payout already sent"}),
    lambda request: httpx.Response(200, json={"v1/payout": payout(), "errors": {"id": ["is sent"]}}),
], ids=["another payout", "the payout sent", "the payout sent, no deleted_at", "deleted: false", "HTML",
        "deleted: false beside the envelope", "a list with another payout", "v1/payouts with it sent",
        "v1/payouts with another payout", "the payout still scheduled (it would be paid)",
        "the payout still scheduled, no deleted_at", "the payout pending, deleted_at null", "false",
        "a list of envelopes with another payout", "v1/payouts holding another payout as an object",
        "v1/payout holding a list with another payout", "deleted: 0", "deleted: 'false'",
        "an envelope holding no payout", "a status that is a list", "a status that is an object",
        "success: false", "ok: false beside a message", "status: error", "an error", "errors beside the envelope"])
def test_a_delete_reply_that_does_not_say_deleted_is_checked_then_an_unknown_outcome(reply: Handler) -> None:
    # The reply is "maybe acted": the payout is looked up; still there, the delete goes again, gets the same
    # answer, and the retries end in PayoutOutcomeUnknownError: never a silent success.
    client, seen = scripted(reply, one(payout()), reply, retries=1)
    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        client.payouts.delete(5)
    assert caught.value.payout_ids == [5]
    assert seen == ["DELETE /v1/payouts/5", "GET /v1/payouts/5", "DELETE /v1/payouts/5"]


@pytest.mark.parametrize("reply", [
    lambda request: httpx.Response(204),
    lambda request: httpx.Response(200, content=b""),
    one([]),
    lambda request: httpx.Response(200, json={}),
    one(payout(deleted_at="2024-10-24T17:30:00.000Z")),
    one({name: value for name, value in payout().items() if name != "deleted_at"}),
    one({"id": 5, "deleted": True}),
    one({"message": "Payout deleted successfully"}),
    one(None),
    one(True),
    lambda request: httpx.Response(200, json={"success": True, "errors": []}),
], ids=["204", "200 empty", "[] (PHP library's tests)", "{}", "the payout deleted", "the payout pending, no deleted_at",
        "deleted: true (Ruby's deleted?)", "a message", "null", "true", "success: true, no errors"])
def test_a_delete_reply_that_says_deleted_is_success(reply: Handler) -> None:
    client, seen = scripted(reply)
    assert client.payouts.delete(5) is None
    assert seen == ["DELETE /v1/payouts/5"]


@pytest.mark.parametrize(("asked", "stated"), [
    ({"number": "+22376123456", "country": "ml"}, {"number": "76123456", "country": "ml"}),
    ({"number": "+22670123456", "country": "bf"}, {"number": "70123456", "country": "bf"}),
], ids=["Mali", "Burkina Faso"])
def test_a_wallet_of_mali_or_burkina_faso_written_nationally_is_the_one_asked(
    asked: dict[str, str], stated: dict[str, str]
) -> None:
    """The bulk command pays Malian and Burkinabe numbers; their dialling codes were missing from the wallet table,
    so a reply writing the number nationally was "another phone number" (thirteenth review)."""
    customer: Any = {**CUSTOMER, "phone_number": asked}
    client, _ = scripted(one(payout(customer=_customer(phone_number=stated)), status=201))
    assert client.payouts.create(amount=1000, currency="XOF", mode="moov", customer=customer).id == 5
