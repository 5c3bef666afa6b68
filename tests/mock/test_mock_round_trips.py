"""What FedaPay's libraries send and read back: search, a whole payout saved back, every date form, include."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fedapay_mock import MockServer

from tests.mock.mock_support import ReplyChecker, create

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _start(api: httpx.Client, payout_id: int, scheduled_at: str | None = None) -> httpx.Response:
    item: dict[str, Any] = {"id": payout_id}
    if scheduled_at is not None:
        item["scheduled_at"] = scheduled_at
    return api.put("/payouts/start", json={"payouts": [item]})


# -- search -------------------------------------------------------------------------------------


def test_search_finds_a_payout_by_merchant_reference_or_reference(api: httpx.Client, check: ReplyChecker) -> None:
    june = create(api, check, merchant_reference="salary-2026-06-ada", description="June salary")
    july = create(api, check, merchant_reference="salary-2026-07-ada")
    create(api, check, merchant_reference="rent-2026-07")

    def ids(term: str, **extra: Any) -> list[int]:
        body = check("search_payouts", api.get("/payouts/search", params={"search": term, **extra}))
        return [p["id"] for p in body["v1/payouts"]]

    assert ids("salary-2026-06-ada") == [june["id"]]
    assert ids(june["reference"]) == [june["id"]]
    assert ids("SALARY") == [july["id"], june["id"]]  # part of it, ignoring case, newest first
    assert ids("june") == [june["id"]]  # the description
    assert ids("*") == [3, 2, 1]  # the PHP library's default term
    assert ids("nothing-like-it") == []
    assert ids("salary", per_page=1, page=2) == [june["id"]]


def test_search_is_routed_before_the_id_route(api: httpx.Client, check: ReplyChecker) -> None:
    """`/payouts/search` was answered by retrieve (404 for id `search`) before step 12."""
    create(api, check)
    reply = api.get("/payouts/search")
    assert reply.status_code == 200
    body = check("search_payouts", reply)
    assert body["meta"]["total_count"] == 1
    assert [p["id"] for p in body["v1/payouts"]] == [1]


def test_search_refuses_a_bad_page_like_the_list(api: httpx.Client, check: ReplyChecker) -> None:
    reply = api.get("/payouts/search", params={"search": "x", "page": "0"})
    assert reply.status_code == 400
    assert "page" in check("search_payouts", reply)["errors"]


# -- a whole payout saved back (PHP and Node save()) ---------------------------------------------


def test_an_unchanged_payout_saved_back_as_json_changes_nothing(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    """Node's save(): every field of the payout, nulls and read-only fields included."""
    created = create(api, check)
    mock.advance_clock(5)
    reply = api.put(f"/payouts/{created['id']}", json={k: v for k, v in created.items() if k != "id"})
    assert reply.status_code == 200, reply.text
    assert check("update_payout", reply)["v1/payout"] == created  # updated_at kept too


def test_an_unchanged_payout_saved_back_as_a_php_form_changes_nothing(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    """PHP's save(): form-encoded, every null as an empty string."""
    created = create(api, check, merchant_reference="ref-1")
    form = {k: "" if v is None else str(v) for k, v in created.items() if k != "id"}
    reply = api.put(f"/payouts/{created['id']}", content=urlencode(form), headers=FORM)
    assert reply.status_code == 200, reply.text
    assert check("update_payout", reply)["v1/payout"] == created


def test_an_unchanged_sent_payout_saved_back_succeeds_but_a_change_is_refused(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    created = create(api, check)
    assert _start(api, created["id"]).status_code == 200
    mock.advance_clock(60)
    sent = check("retrieve_payout", api.get(f"/payouts/{created['id']}"))["v1/payout"]
    assert sent["status"] == "sent"
    same = api.put(f"/payouts/{created['id']}", json=sent)
    assert (same.status_code, same.json()["v1/payout"]) == (200, sent)
    changed = api.put(f"/payouts/{created['id']}", json={**sent, "amount": 5000})
    assert changed.status_code == 422
    assert "status" in changed.json()["errors"]


# What FedaPay's PHP library sends for `custom_metadata` {"employee": 42, "approved": true, "rejected": false,
# "rate": 1.0, "ratio": 0.25, "nothing": null, "note": "x", "tags": ["a", "b"], "empty": {}} when its save() PUTs
# the payout back (`Util::encodeParameters`, run with php 8.2): text only, true "1", false and null "", 1.0 "1",
# the empty object left out.
PHP_METADATA_FORM = (
    "custom_metadata[employee]=42&custom_metadata[approved]=1&custom_metadata[rejected]=&custom_metadata[rate]=1"
    "&custom_metadata[ratio]=0.25&custom_metadata[nothing]=&custom_metadata[note]=x"
    "&custom_metadata[tags][]=a&custom_metadata[tags][]=b"
)
TYPED_METADATA: dict[str, Any] = {
    "employee": 42,
    "approved": True,
    "rejected": False,
    "rate": 1.0,
    "ratio": 0.25,
    "nothing": None,
    "note": "x",
    "tags": ["a", "b"],
    "empty": {},
}


def _php_save_form(payout: dict[str, Any], metadata_form: str) -> str:
    """The body of PHP's save() of `payout`: every other field as text (null as ""), the metadata as given."""
    rest = {k: "" if v is None else str(v) for k, v in payout.items() if k not in ("id", "custom_metadata")}
    return urlencode(rest) + "&" + metadata_form


def test_typed_metadata_saved_back_by_php_as_text_changes_nothing(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    """A form carries only text: 42 comes back as "42", true as "1". An unchanged payout saved back by PHP answers
    200 and changes nothing, pending or sent (a change would be refused on a sent payout)."""
    pending = create(api, check, custom_metadata=TYPED_METADATA)
    sent = create(api, check, custom_metadata=TYPED_METADATA, merchant_reference="sent-1")
    assert _start(api, sent["id"]).status_code == 200
    mock.advance_clock(60)
    sent = check("retrieve_payout", api.get(f"/payouts/{sent['id']}"))["v1/payout"]
    assert sent["status"] == "sent"
    for payout in (pending, sent):
        reply = api.put(f"/payouts/{payout['id']}", content=_php_save_form(payout, PHP_METADATA_FORM), headers=FORM)
        assert reply.status_code == 200, reply.text
        assert check("update_payout", reply)["v1/payout"] == payout  # typed metadata and updated_at kept
        assert check("retrieve_payout", api.get(f"/payouts/{payout['id']}"))["v1/payout"] == payout


def test_a_php_form_that_changes_metadata_is_still_a_change(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    pending = create(api, check, custom_metadata=TYPED_METADATA)
    sent = create(api, check, custom_metadata=TYPED_METADATA, merchant_reference="sent-1")
    assert _start(api, sent["id"]).status_code == 200
    mock.advance_clock(60)
    sent = check("retrieve_payout", api.get(f"/payouts/{sent['id']}"))["v1/payout"]
    changed = PHP_METADATA_FORM.replace("[employee]=42", "[employee]=43")
    updated = api.put(f"/payouts/{pending['id']}", content=_php_save_form(pending, changed), headers=FORM)
    assert check("update_payout", updated)["v1/payout"]["custom_metadata"]["employee"] == "43"
    refused = api.put(f"/payouts/{sent['id']}", content=_php_save_form(sent, changed), headers=FORM)
    assert refused.status_code == 422
    assert list(check("update_payout", refused)["errors"]) == ["status"]
    as_json = api.put(f"/payouts/{sent['id']}", json={"custom_metadata": {**TYPED_METADATA, "employee": "42"}})
    assert as_json.status_code == 422  # in JSON "42" is not 42: only a form's text is read as PHP wrote it


# A payout made by PHP's create with `'description' => null` (or ''): the form says `description=`, which create
# (description not nullable) stores as "". Saved back, the form says `description=` again, which update (nullable)
# reads as null: that was a change from "" (a pending payout lost its description and its updated_at moved, a sent
# one answered 422; fifteenth review).
PHP_CREATE_FORM = (
    "amount=2000&currency[iso]=XOF&mode=mtn_open&description=&customer[firstname]=Ada&customer[lastname]=Lovelace"
    "&customer[phone_number][number]=%2B22997808080&customer[phone_number][country]=bj"
)


def _sent(mock: MockServer, api: httpx.Client, check: ReplyChecker, payout_id: int) -> dict[str, Any]:
    assert _start(api, payout_id).status_code == 200
    mock.advance_clock(60)
    sent: dict[str, Any] = check("retrieve_payout", api.get(f"/payouts/{payout_id}"))["v1/payout"]
    assert sent["status"] == "sent"
    return sent


def test_an_empty_description_saved_back_by_php_changes_nothing(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    """Pending and sent: 200, the description still "", updated_at kept (the clock has moved)."""
    made = [check("create_payout", api.post("/payouts", content=PHP_CREATE_FORM, headers=FORM)) for _ in range(2)]
    pending, to_send = (body["v1/payout"] for body in made)
    assert pending["description"] == ""
    sent = _sent(mock, api, check, to_send["id"])
    mock.advance_clock(5)
    for payout in (pending, sent):
        form = urlencode({k: "" if v is None else str(v) for k, v in payout.items() if k != "id"})
        reply = api.put(f"/payouts/{payout['id']}", content=form, headers=FORM)
        assert reply.status_code == 200, reply.text
        assert check("update_payout", reply)["v1/payout"] == payout
        assert check("retrieve_payout", api.get(f"/payouts/{payout['id']}"))["v1/payout"] == payout


def test_a_form_still_clears_a_description_that_has_text(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    """Only "" (or null) read back as "" is no change: a form's `description=` clears a description with text,
    and is refused on a sent payout."""
    pending = create(api, check, description="text")
    sent = _sent(mock, api, check, create(api, check, description="text", merchant_reference="s")["id"])
    cleared = api.put(f"/payouts/{pending['id']}", content="description=", headers=FORM)
    assert check("update_payout", cleared)["v1/payout"]["description"] is None
    refused = api.put(f"/payouts/{sent['id']}", content="description=", headers=FORM)
    assert refused.status_code == 422
    assert list(check("update_payout", refused)["errors"]) == ["status"]


# What FedaPay's Ruby library sends when a payout with description "" and the metadata below (made in JSON) is
# saved with both set again to what they are (`payout.custom_metadata = {...}; payout.description = nil` (it
# refuses ""); `payout.save`: `Util.encode_parameters` of `serialize_params`, run with ruby 3.1): `to_s` of each
# value, true "true", false "false", nil "", 1.0 "1.0", 1e15 "1.0e+15" (PHP writes "1", "", "1", "1.0E+15").
RUBY_METADATA: dict[str, Any] = {
    "employee": 42,
    "approved": True,
    "rejected": False,
    "rate": 1.0,
    "ratio": 0.25,
    "big": 1.0e15,
    "nothing": None,
    "note": "x",
    "blank": "",
}
RUBY_SAVE_FORM = (
    "description=&custom_metadata[employee]=42&custom_metadata[approved]=true&custom_metadata[rejected]=false"
    "&custom_metadata[rate]=1.0&custom_metadata[ratio]=0.25&custom_metadata[big]=1.0e%2B15"
    "&custom_metadata[nothing]=&custom_metadata[note]=x&custom_metadata[blank]="
)


def test_typed_metadata_and_an_empty_description_saved_back_by_ruby_change_nothing(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    """Ruby writes true as "true" (PHP: "1"): the metadata became text and a sent payout answered 422."""
    pending = create(api, check, description="", custom_metadata=RUBY_METADATA)
    sent = _sent(mock, api, check, create(api, check, description="", custom_metadata=RUBY_METADATA)["id"])
    mock.advance_clock(5)
    for payout in (pending, sent):
        reply = api.put(f"/payouts/{payout['id']}", content=RUBY_SAVE_FORM, headers=FORM)
        assert reply.status_code == 200, reply.text
        assert check("update_payout", reply)["v1/payout"] == payout  # typed metadata and updated_at kept
    changed = RUBY_SAVE_FORM.replace("[approved]=true", "[approved]=false")
    updated = api.put(f"/payouts/{pending['id']}", content=changed, headers=FORM)
    assert check("update_payout", updated)["v1/payout"]["custom_metadata"]["approved"] == "false"
    refused = api.put(f"/payouts/{sent['id']}", content=changed, headers=FORM)
    assert refused.status_code == 422


def test_a_schedule_with_microseconds_saved_back_changes_nothing(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    """Replies show milliseconds: the schedule is kept to the millisecond, so the payout read back and PUT back
    whole (Node and PHP save()) names the same instant, while scheduled and once sent."""
    created = create(api, check)
    when = "2099-01-01T10:00:00.123456Z"
    started = check("start_payouts", _start(api, created["id"], when))["v1/payouts"][0]
    assert started["scheduled_at"] == "2099-01-01T10:00:00.123Z"
    scheduled = check("retrieve_payout", api.get(f"/payouts/{created['id']}"))["v1/payout"]
    mock.advance_clock(5)
    for body in ({k: v for k, v in scheduled.items() if k != "id"}, {"scheduled_at": when}):
        reply = api.put(f"/payouts/{created['id']}", json=body)
        assert reply.status_code == 200, reply.text
        assert check("update_payout", reply)["v1/payout"] == scheduled  # updated_at kept: no change
    due = datetime(2099, 1, 1, 10, 0, 0, 123_500, tzinfo=UTC).timestamp()
    mock.advance_clock(due - mock.app.clock.now())  # half a millisecond past the schedule: sent at it
    sent = check("retrieve_payout", api.get(f"/payouts/{created['id']}"))["v1/payout"]
    assert (sent["status"], sent["sent_at"]) == ("sent", "2099-01-01T10:00:00.123Z")
    again = api.put(f"/payouts/{created['id']}", json=sent)
    assert again.status_code == 200, again.text
    assert check("update_payout", again)["v1/payout"] == sent


def test_a_value_of_another_json_type_is_a_change_though_python_finds_it_equal(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    """1, 1.0 and true are one value for Python's ==, three for JSON (and for whoever reads the metadata)."""
    created = create(api, check, custom_metadata={"approved": 1, "n": 2})
    mock.advance_clock(5)
    reordered = check(
        "update_payout", api.put(f"/payouts/{created['id']}", json={"custom_metadata": {"n": 2, "approved": 1}})
    )
    assert reordered["v1/payout"] == created  # keys' order is no change: updated_at kept
    previous = created["updated_at"]
    for value in (True, 1.0):
        mock.advance_clock(5)
        reply = api.put(f"/payouts/{created['id']}", json={"custom_metadata": {"approved": value, "n": 2}})
        payout = check("update_payout", reply)["v1/payout"]
        stored = payout["custom_metadata"]["approved"]
        assert (stored, type(stored)) == (value, type(value))  # stored: a change
        assert payout["updated_at"] != previous
        previous = payout["updated_at"]
    assert _start(api, created["id"]).status_code == 200
    mock.advance_clock(60)
    sent = check("retrieve_payout", api.get(f"/payouts/{created['id']}"))["v1/payout"]
    assert sent["custom_metadata"] == {"approved": 1.0, "n": 2}
    refused = api.put(f"/payouts/{created['id']}", json={"custom_metadata": {"approved": True, "n": 2}})
    assert refused.status_code == 422
    assert list(check("update_payout", refused)["errors"]) == ["status"]
    kept = check("retrieve_payout", api.get(f"/payouts/{created['id']}"))["v1/payout"]["custom_metadata"]
    assert type(kept["approved"]) is float


def test_null_clears_description_and_metadata_but_keeps_reference_and_schedule(
    api: httpx.Client, check: ReplyChecker
) -> None:
    created = create(api, check, merchant_reference="keep-me", description="d", custom_metadata={"a": "1"})
    assert _start(api, created["id"], "2099-01-01 10:00:00").status_code == 200
    nulls = {"merchant_reference": None, "scheduled_at": None, "description": None, "custom_metadata": None}
    reply = api.put(f"/payouts/{created['id']}", json=nulls)
    payout = check("update_payout", reply)["v1/payout"]
    assert (payout["description"], payout["custom_metadata"]) == (None, None)
    assert payout["merchant_reference"] == "keep-me"
    assert (payout["status"], payout["scheduled_at"]) == ("scheduled", "2099-01-01T10:00:00.000Z")


def test_an_empty_string_in_a_form_is_null_but_in_json_is_a_value(api: httpx.Client, check: ReplyChecker) -> None:
    created = create(api, check, description="d")
    form = api.put(f"/payouts/{created['id']}", content="description=", headers=FORM)
    assert check("update_payout", form)["v1/payout"]["description"] is None
    as_json = api.put(f"/payouts/{created['id']}", json={"description": ""})
    assert check("update_payout", as_json)["v1/payout"]["description"] == ""
    bad_date = api.put(f"/payouts/{created['id']}", json={"scheduled_at": ""})
    assert bad_date.status_code == 422
    assert "scheduled_at" in bad_date.json()["errors"]


# -- date forms ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent",
    [
        "2099-11-23T18:42:30Z",  # ISO 8601 (Node's toISOString without the milliseconds)
        "2099-11-23T18:42:30.000Z",  # Node's toISOString
        "2099-11-23T19:42:30+01:00",
        "2099-11-23 18:42:30",  # PHP's format('Y-m-d H:i:s'), UTC
        "2099-11-23 18:42:30 UTC",  # Ruby's Time#to_s of a UTC time
        "2099-11-23 19:42:30 +0100",  # Ruby's Time#to_s of a local time
    ],
)
def test_every_date_form_the_libraries_send_schedules_at_the_same_instant(
    sent: str, api: httpx.Client, check: ReplyChecker
) -> None:
    created = create(api, check)
    reply = _start(api, created["id"], sent)
    assert reply.status_code == 200, reply.text
    payout = check("start_payouts", reply)["v1/payouts"][0]
    assert (payout["status"], payout["scheduled_at"]) == ("scheduled", "2099-11-23T18:42:30.000Z")


@pytest.mark.parametrize("sent", ["2099-11-23 18:42:30 utc", "2099-11-23 18:42:30 CET", "2099-02-30 10:00:00"])
def test_other_date_forms_are_refused_naming_the_field(sent: str, api: httpx.Client, check: ReplyChecker) -> None:
    created = create(api, check)
    reply = _start(api, created["id"], sent)
    assert reply.status_code == 422
    assert list(check("start_payouts", reply)["errors"]) == ["payouts[0].scheduled_at"]


def test_a_ruby_date_reschedules_a_scheduled_payout(api: httpx.Client, check: ReplyChecker) -> None:
    created = create(api, check)
    assert _start(api, created["id"], "2099-01-01 10:00:00 UTC").status_code == 200
    reply = api.put(f"/payouts/{created['id']}", json={"scheduled_at": "2099-01-02 10:00:00 UTC"})
    assert check("update_payout", reply)["v1/payout"]["scheduled_at"] == "2099-01-02T10:00:00.000Z"


# -- include ------------------------------------------------------------------------------------


def test_include_embeds_the_customer_and_the_currency(api: httpx.Client, check: ReplyChecker) -> None:
    created = create(api, check)
    assert "customer" not in created
    assert "currency" not in created
    fetched = check("retrieve_payout", api.get("/payouts/1", params={"include": "customer,currency"}))["v1/payout"]
    assert fetched["customer"] == {
        "klass": "v1/customer",
        "id": created["customer_id"],
        "firstname": "Ada",
        "lastname": "Lovelace",
        "email": "ada@example.com",
    }
    assert fetched["currency"] == {"klass": "v1/currency", "id": created["currency_id"], "iso": "XOF"}
    listed = check("list_payouts", api.get("/payouts", params={"include": "currency,bogus"}))["v1/payouts"][0]
    assert "currency" in listed
    assert "customer" not in listed


def test_include_in_a_php_create_body_embeds_them(api: httpx.Client, check: ReplyChecker) -> None:
    form = (
        "amount=1000&currency[iso]=GNF&mode=mtn_open_gn&customer[firstname]=A&customer[lastname]=B"
        "&customer[phone_number][number]=%2B22461000002&customer[phone_number][country]=gn&include=customer,currency"
    )
    reply = api.post("/payouts", content=form, headers=FORM)
    payout = check("create_payout", reply)["v1/payout"]
    assert payout["currency"]["iso"] == "GNF"
    assert payout["customer"]["firstname"] == "A"
