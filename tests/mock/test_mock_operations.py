"""Every operation of the spec over real HTTP, and the payout lifecycle on the mock clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from fedapay_mock import MockServer

from tests.mock.mock_support import SETTLE, ReplyChecker, create, payout_body


def test_create_returns_a_pending_payout_in_the_v1_envelope(api: httpx.Client, check: ReplyChecker) -> None:
    reply = api.post("/payouts", json=payout_body(merchant_reference="order-1", custom_metadata={"k": [1, 2]}))
    assert reply.status_code == 201
    payout = check("create_payout", reply)["v1/payout"]
    assert set(reply.json()) == {"v1/payout"}
    assert payout["klass"] == "v1/payout"
    assert payout["id"] == 1
    assert payout["status"] == "pending"
    assert payout["amount"] == 1000
    assert payout["mode"] == "mtn_open"
    assert payout["currency_id"] == 1
    assert payout["merchant_reference"] == "order-1"
    assert payout["custom_metadata"] == {"k": [1, 2]}
    assert payout["created_at"] == payout["updated_at"]
    assert payout["created_at"].endswith("Z")
    assert payout["sent_at"] is None
    assert payout["scheduled_at"] is None
    # The docs' example, by the documented formula.
    assert (payout["commission"], payout["fees"], payout["fixed_commission"]) == (50, 5, 10)
    assert (payout["amount_transferred"], payout["amount_debited"]) == (935, 1000)


def test_ids_and_references_are_distinct_and_customers_are_reused(api: httpx.Client, check: ReplyChecker) -> None:
    first = create(api, check)
    second = create(api, check)
    other = create(api, check, customer={"firstname": "Grace", "lastname": "Hopper"}, currency={"iso": "GNF"})
    assert [first["id"], second["id"], other["id"]] == [1, 2, 3]
    assert len({first["reference"], second["reference"], other["reference"]}) == 3
    assert first["customer_id"] == second["customer_id"] != other["customer_id"]
    assert other["currency_id"] == 2


def test_retrieve_returns_the_stored_payout(api: httpx.Client, check: ReplyChecker) -> None:
    created = create(api, check, amount=2500)
    reply = api.get(f"/payouts/{created['id']}")
    assert reply.status_code == 200
    assert check("retrieve_payout", reply)["v1/payout"] == created


def test_list_is_newest_first_with_pagination_meta(api: httpx.Client, check: ReplyChecker) -> None:
    for amount in range(100, 107):
        create(api, check, amount=amount)
    reply = api.get("/payouts", params={"page": 2, "per_page": 3})
    body = check("list_payouts", reply)
    assert [p["amount"] for p in body["v1/payouts"]] == [103, 102, 101]
    assert body["meta"] == {
        "current_page": 2,
        "next_page": 3,
        "prev_page": 1,
        "total_pages": 3,
        "total_count": 7,
        "per_page": 3,
    }
    last = check("list_payouts", api.get("/payouts", params={"page": 3, "per_page": 3}))
    assert [p["amount"] for p in last["v1/payouts"]] == [100]
    assert last["meta"]["next_page"] is None
    beyond = check("list_payouts", api.get("/payouts", params={"page": 9, "per_page": 3}))
    assert beyond["v1/payouts"] == []
    assert beyond["meta"]["total_count"] == 7


def test_list_defaults_come_from_the_spec(api: httpx.Client, check: ReplyChecker) -> None:
    create(api, check)
    meta = check("list_payouts", api.get("/payouts"))["meta"]
    assert (meta["current_page"], meta["per_page"], meta["prev_page"], meta["total_pages"]) == (1, 25, None, 1)
    empty_meta = check("list_payouts", api.get("/payouts", params={"status": "sent"}))["meta"]
    assert (empty_meta["total_count"], empty_meta["total_pages"], empty_meta["next_page"]) == (0, 0, None)


def test_list_filters_by_status(api: httpx.Client, check: ReplyChecker) -> None:
    ids = [create(api, check)["id"] for _ in range(4)]
    assert api.put("/payouts/start", json={"payouts": [{"id": ids[1]}, {"id": ids[3]}]}).status_code == 200
    started = check("list_payouts", api.get("/payouts", params={"status": "started"}))
    assert [p["id"] for p in started["v1/payouts"]] == [ids[3], ids[1]]
    assert started["meta"]["total_count"] == 2
    pending = check("list_payouts", api.get("/payouts", params={"status": "pending", "per_page": 1}))
    assert [p["id"] for p in pending["v1/payouts"]] == [ids[2]]
    assert pending["meta"]["total_pages"] == 2


def test_update_changes_fields_and_recomputes_fees(mock: MockServer, api: httpx.Client, check: ReplyChecker) -> None:
    created = create(api, check)
    mock.advance_clock(5)
    reply = api.put(f"/payouts/{created['id']}", json={"amount": 20000, "description": "rent", "mode": "moov"})
    payout = check("update_payout", reply)["v1/payout"]
    assert payout["amount"] == 20000
    assert payout["mode"] == "moov"
    assert (payout["commission"], payout["fees"], payout["fixed_commission"]) == (1000, 100, 10)
    assert payout["amount_transferred"] == 18890
    assert payout["updated_at"] > payout["created_at"] == created["created_at"]
    assert check("retrieve_payout", api.get(f"/payouts/{created['id']}"))["v1/payout"]["amount"] == 20000


def test_delete_answers_200_with_the_deleted_payout_then_it_is_gone(api: httpx.Client, check: ReplyChecker) -> None:
    """FedaPay's PHP and Ruby libraries parse a JSON body after a delete (fedapay-wire.md, Delete's reply)."""
    created = create(api, check)
    reply = api.delete(f"/payouts/{created['id']}")
    assert reply.status_code == 200
    deleted = check("delete_payout", reply)["v1/payout"]
    assert (deleted["id"], deleted["reference"], deleted["amount"]) == (created["id"], created["reference"], 1000)
    assert deleted["deleted_at"] is not None
    assert deleted["deleted_at"] >= created["created_at"]
    assert check("retrieve_payout", api.get(f"/payouts/{created['id']}"))["errors"] == {
        "id": ["no payout with this id"]
    }
    assert api.delete(f"/payouts/{created['id']}").status_code == 404
    assert check("list_payouts", api.get("/payouts"))["meta"]["total_count"] == 0


def test_start_now_then_sent_when_the_clock_passes_settle(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    created = create(api, check)
    reply = api.put("/payouts/start", json={"payouts": [{"id": created["id"]}]})
    body = check("start_payouts", reply)
    assert set(body) == {"v1/payouts"}
    [started] = body["v1/payouts"]
    assert started["status"] == "started"
    assert started["started_at"] is not None
    mock.advance_clock(SETTLE - 1)
    assert api.get(f"/payouts/{created['id']}").json()["v1/payout"]["status"] == "started"
    mock.advance_clock(1)
    sent = check("retrieve_payout", api.get(f"/payouts/{created['id']}"))["v1/payout"]
    assert sent["status"] == "sent"
    assert sent["sent_at"] is not None
    assert sent["sent_at"] > sent["started_at"]
    assert sent["failed_at"] is None
    assert sent["last_error_code"] is None
    stats = mock.stats()
    assert (stats["started"], stats["sent"], stats["by_status"]) == (1, 1, {"sent": 1})


def test_numbers_ending_in_0000_fail(mock: MockServer, api: httpx.Client, check: ReplyChecker) -> None:
    doomed = create(
        api,
        check,
        customer={"firstname": "A", "lastname": "B", "phone_number": {"number": "+22990000000", "country": "bj"}},
    )
    fine = create(api, check)
    api.put("/payouts/start", json=[{"id": doomed["id"]}, {"id": fine["id"]}]).raise_for_status()
    mock.advance_clock(SETTLE)
    failed = api.get(f"/payouts/{doomed['id']}").json()["v1/payout"]
    assert failed["status"] == "failed"
    assert failed["last_error_code"] == "sandbox_failure"
    assert failed["failed_at"] is not None
    assert failed["sent_at"] is None
    assert api.get(f"/payouts/{fine['id']}").json()["v1/payout"]["status"] == "sent"


def test_phone_number_given_at_start_overrides_the_customers(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    created = create(api, check)
    item = {"id": created["id"], "phone_number": {"number": "22961110000", "country": "BJ"}}
    api.put("/payouts/start", json={"payouts": [item]}).raise_for_status()
    mock.advance_clock(SETTLE)
    assert api.get(f"/payouts/{created['id']}").json()["v1/payout"]["status"] == "failed"


def test_future_scheduled_at_schedules_and_sends_when_due(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    created = create(api, check)
    now = datetime.fromisoformat(mock.stats()["clock"])
    when = (now + timedelta(hours=2)).replace(microsecond=0)
    reply = api.put(
        "/payouts/start", json={"payouts": [{"id": created["id"], "scheduled_at": when.strftime("%Y-%m-%d %H:%M:%S")}]}
    )
    [scheduled] = check("start_payouts", reply)["v1/payouts"]
    assert scheduled["status"] == "scheduled"
    assert scheduled["scheduled_at"] == when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    mock.advance_clock(3600)
    assert api.get(f"/payouts/{created['id']}").json()["v1/payout"]["status"] == "scheduled"
    mock.advance_clock(3600)
    sent = api.get(f"/payouts/{created['id']}").json()["v1/payout"]
    assert sent["status"] == "sent"
    assert sent["sent_at"] == scheduled["scheduled_at"]
    assert sent["started_at"] == sent["updated_at"] == sent["sent_at"]  # started and sent at once, when due


def test_past_scheduled_at_sends_now(api: httpx.Client, check: ReplyChecker) -> None:
    created = create(api, check)
    reply = api.put("/payouts/start", json=[{"id": created["id"], "scheduled_at": "2020-01-01T00:00:00Z"}])
    assert check("start_payouts", reply)["v1/payouts"][0]["status"] == "started"


def test_starting_a_payout_that_is_not_pending_is_refused_and_changes_nothing(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    first = create(api, check)
    second = create(api, check)
    api.put("/payouts/start", json={"payouts": [{"id": first["id"]}]}).raise_for_status()
    before = api.get(f"/payouts/{first['id']}").json()
    reply = api.put("/payouts/start", json={"payouts": [{"id": second["id"]}, {"id": first["id"]}]})
    assert reply.status_code == 422
    assert check("start_payouts", reply)["errors"] == {
        "payouts[1].id": [f"payout {first['id']} is started, only a pending payout can start"]
    }
    assert api.get(f"/payouts/{first['id']}").json() == before
    # All or nothing: the valid item in the refused request was not started either.
    assert api.get(f"/payouts/{second['id']}").json()["v1/payout"]["status"] == "pending"
    assert mock.stats()["started"] == 1


def test_starting_only_unknown_ids_is_404(api: httpx.Client, check: ReplyChecker) -> None:
    reply = api.put("/payouts/start", json={"payouts": [{"id": 998}, {"id": 999}]})
    assert reply.status_code == 404
    assert check("start_payouts", reply)["errors"] == {
        "payouts[0].id": ["no payout with id 998"],
        "payouts[1].id": ["no payout with id 999"],
    }


def test_mixing_a_known_and_an_unknown_id_is_422_and_starts_nothing(api: httpx.Client, check: ReplyChecker) -> None:
    created = create(api, check)
    reply = api.put("/payouts/start", json={"payouts": [{"id": created["id"]}, {"id": 999}]})
    assert reply.status_code == 422
    assert check("start_payouts", reply)["errors"] == {"payouts[1].id": ["no payout with id 999"]}
    assert api.get(f"/payouts/{created['id']}").json()["v1/payout"]["status"] == "pending"


def test_update_after_sending_is_refused(mock: MockServer, api: httpx.Client, check: ReplyChecker) -> None:
    created = create(api, check)
    api.put("/payouts/start", json={"payouts": [{"id": created["id"]}]}).raise_for_status()
    reply = api.put(f"/payouts/{created['id']}", json={"amount": 5})
    assert reply.status_code == 422
    assert "status" in check("update_payout", reply)["errors"]
    assert api.get(f"/payouts/{created['id']}").json()["v1/payout"]["amount"] == 1000


def test_form_encoded_bodies_as_php_and_ruby_send_them(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    php_create = (
        "amount=1500&currency%5Biso%5D=XOF&mode=moov&customer%5Bfirstname%5D=Jo&customer%5Blastname%5D=Do"
        "&customer%5Bphone_number%5D%5Bnumber%5D=%2B22966000001&customer%5Bphone_number%5D%5Bcountry%5D=bj"
    )
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    reply = api.post("/payouts", content=php_create, headers=form)
    payout = check("create_payout", reply)["v1/payout"]
    assert (payout["amount"], payout["mode"], payout["commission"]) == (1500, "moov", 75)
    other = create(api, check)
    # PHP's http_build_query numbers list items; Ruby/Rack uses empty brackets.
    php_start = f"payouts%5B0%5D%5Bid%5D={payout['id']}"
    started = check("start_payouts", api.put("/payouts/start", content=php_start, headers=form))["v1/payouts"]
    assert [p["id"] for p in started] == [payout["id"]]
    ruby_start = f"payouts[][id]={other['id']}&payouts[][scheduled_at]=2999-01-01+10:00:00"
    scheduled = check("start_payouts", api.put("/payouts/start", content=ruby_start, headers=form))["v1/payouts"]
    assert scheduled[0]["status"] == "scheduled"
    assert scheduled[0]["scheduled_at"] == "2999-01-01T10:00:00.000Z"
    bad = api.post("/payouts", content="amount=abc&currency[iso]=XOF", headers=form)
    assert bad.status_code == 422
    assert {"amount", "mode", "customer"} <= set(check("create_payout", bad)["errors"])


def test_fedapay_account_header_is_optional_and_recorded(api: httpx.Client, check: ReplyChecker) -> None:
    reply = api.post("/payouts", json=payout_body(), headers={"FedaPay-Account": "42"})
    assert check("create_payout", reply)["v1/payout"]["account_id"] == 42
    assert create(api, check)["account_id"] is None


def test_list_can_find_a_payout_by_merchant_reference(api: httpx.Client, check: ReplyChecker) -> None:
    create(api, check, merchant_reference="a")
    wanted = create(api, check, merchant_reference="b")
    found = check("list_payouts", api.get("/payouts", params={"merchant_reference": "b"}))
    assert [p["id"] for p in found["v1/payouts"]] == [wanted["id"]]


def test_a_payout_to_an_existing_customer_by_id(api: httpx.Client, check: ReplyChecker, mock: MockServer) -> None:
    failing = {"firstname": "Kofi", "lastname": "Mensah", "phone_number": {"number": "+22990000000", "country": "bj"}}
    first = create(api, check, customer=failing)
    again = create(api, check, customer={"id": first["customer_id"]}, amount=2000)
    assert again["customer_id"] == first["customer_id"]
    assert again["id"] != first["id"]
    # The customer's number comes with the id: this one ends in 0000, so the payout fails.
    api.put("/payouts/start", json={"payouts": [{"id": again["id"]}]}).raise_for_status()
    mock.advance_clock(SETTLE + 1)
    assert api.get(f"/payouts/{again['id']}").json()["v1/payout"]["status"] == "failed"
    form = "amount=700&currency[iso]=XOF&mode=moov&customer[id]=" + str(first["customer_id"])
    by_form = api.post("/payouts", content=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert check("create_payout", by_form)["v1/payout"]["customer_id"] == first["customer_id"]


def test_an_unknown_customer_id_is_404_and_stores_nothing(
    api: httpx.Client, check: ReplyChecker, mock: MockServer
) -> None:
    reply = api.post("/payouts", json=payout_body(customer={"id": 999}))
    assert reply.status_code == 404
    assert check("create_payout", reply)["errors"] == {"customer.id": ["no customer with this id"]}
    assert mock.stats()["created"] == 0


def test_a_customer_both_by_id_and_described_is_read_as_described(api: httpx.Client, check: ReplyChecker) -> None:
    reply = api.post("/payouts", json=payout_body(customer={"id": 1, "firstname": "Ada"}))
    assert reply.status_code == 422
    assert check("create_payout", reply)["errors"] == {"customer.lastname": ["is required"]}
    bad_id = api.post("/payouts", json=payout_body(customer={"id": 0}))
    assert bad_id.status_code == 422
    assert list(check("create_payout", bad_id)["errors"]) == ["customer.id"]


def test_a_scheduled_payout_can_be_rescheduled_and_is_sent_at_the_new_time_only(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    created = create(api, check)
    now = datetime.fromisoformat(mock.stats()["clock"]).replace(microsecond=0)
    first, later = now + timedelta(hours=1), now + timedelta(hours=3)
    api.put("/payouts/start", json={"payouts": [{"id": created["id"], "scheduled_at": first.isoformat()}]})
    reply = api.put(f"/payouts/{created['id']}", json={"scheduled_at": later.isoformat()})
    moved = check("update_payout", reply)["v1/payout"]
    assert (moved["status"], moved["scheduled_at"]) == ("scheduled", later.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    mock.advance_clock(2 * 3600)  # past the first time: nothing happens
    assert api.get(f"/payouts/{created['id']}").json()["v1/payout"]["status"] == "scheduled"
    mock.advance_clock(3600)
    sent = api.get(f"/payouts/{created['id']}").json()["v1/payout"]
    assert (sent["status"], sent["sent_at"]) == ("sent", moved["scheduled_at"])
    assert mock.stats()["sent"] == 1


def test_rescheduling_many_times_keeps_the_due_queue_small_and_sends_once_at_the_last_time(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    moved, deleted = create(api, check), create(api, check)
    now = datetime.fromisoformat(mock.stats()["clock"]).replace(microsecond=0)
    tomorrow = (now + timedelta(days=1)).isoformat()
    for payout in (moved, deleted):
        assert api.put("/payouts/start", json=[{"id": payout["id"], "scheduled_at": tomorrow}]).status_code == 200
    for i in range(2000):
        when = now + timedelta(days=2 + i % 2, seconds=i)
        assert api.put(f"/payouts/{moved['id']}", json={"scheduled_at": when.isoformat()}).status_code == 200
    assert api.delete(f"/payouts/{deleted['id']}").status_code == 200
    store = mock.app.store
    assert len(store._due) <= 3  # one payout waits: at most as many stale entries beside it, plus one
    mock.advance_clock(4 * 86400)
    sent = api.get(f"/payouts/{moved['id']}").json()["v1/payout"]
    assert (sent["status"], sent["sent_at"]) == ("sent", when.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    assert mock.stats()["sent"] == 1
    assert store._due == []


def test_rescheduling_is_refused_for_a_pending_payout_or_a_past_date_and_changes_nothing(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    pending = create(api, check)
    reply = api.put(f"/payouts/{pending['id']}", json={"scheduled_at": "2999-01-01T10:00:00Z", "amount": 5})
    assert reply.status_code == 422
    assert list(check("update_payout", reply)["errors"]) == ["scheduled_at"]
    after = api.get(f"/payouts/{pending['id']}").json()["v1/payout"]
    assert (after["status"], after["amount"], after["scheduled_at"]) == ("pending", 1000, None)

    scheduled = create(api, check)
    api.put("/payouts/start", json=[{"id": scheduled["id"], "scheduled_at": "2999-01-01 10:00:00"}])
    for date in ("2020-01-01T00:00:00Z", "2999-02-30T10:00:00Z"):
        refused = api.put(f"/payouts/{scheduled['id']}", json={"scheduled_at": date})
        assert refused.status_code == 422, date
        assert list(check("update_payout", refused)["errors"]) == ["scheduled_at"]
    kept = api.get(f"/payouts/{scheduled['id']}").json()["v1/payout"]
    assert kept["scheduled_at"] == "2999-01-01T10:00:00.000Z"


def test_updating_one_payout_never_shows_its_fields_on_another(api: httpx.Client, check: ReplyChecker) -> None:
    # Payouts created without description or merchant reference share no state: a change to one stays its own.
    first = create(api, check)
    second = create(api, check)
    reply = api.put(f"/payouts/{first['id']}", json={"description": "rent", "merchant_reference": "order-9"})
    assert check("update_payout", reply)["v1/payout"]["description"] == "rent"
    untouched = check("retrieve_payout", api.get(f"/payouts/{second['id']}"))["v1/payout"]
    assert (untouched["description"], untouched["merchant_reference"]) == (None, None)
    third = create(api, check)
    assert (third["description"], third["merchant_reference"]) == (None, None)
    found = check("list_payouts", api.get("/payouts", params={"merchant_reference": "order-9"}))["v1/payouts"]
    assert [p["id"] for p in found] == [first["id"]]


def test_create_and_start_replies_each_carry_their_own_request_id(api: httpx.Client, check: ReplyChecker) -> None:
    created = api.post("/payouts", json=payout_body())
    refused = api.post("/payouts", json=payout_body(amount=-5))
    started = api.put("/payouts/start", json={"payouts": [{"id": created.json()["v1/payout"]["id"]}]})
    again = api.put("/payouts/start", json={"payouts": [{"id": created.json()["v1/payout"]["id"]}]})
    unknown = api.put("/payouts/start", json={"payouts": [{"id": 999}]})
    replies = [created, refused, started, again, unknown]
    assert [r.status_code for r in replies] == [201, 422, 200, 422, 404]
    ids = [r.headers.get("x-request-id", "") for r in replies]
    assert all(re.fullmatch(r"req_[0-9a-f]{16}", value) for value in ids), ids
    assert len(set(ids)) == len(ids)
    assert check("start_payouts", started)["v1/payouts"][0]["status"] == "started"
    assert all(r.json()["errors"] for r in (refused, again, unknown))
