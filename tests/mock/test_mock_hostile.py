"""Hostile input gets a 4xx with the Error body, and nothing it leaves behind makes a later request fail."""

from __future__ import annotations

import httpx
import orjson
import pytest
from fedapay_mock import MockServer, run_mock

from tests.mock.mock_support import AUTH, ReplyChecker, create, payout_body

JSON = {"Content-Type": "application/json"}


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"{}" + b"}" * depth


def _still_serving(api: httpx.Client, check: ReplyChecker) -> None:
    """Every later request works: list, retrieve, create."""
    assert check("list_payouts", api.get("/payouts")).get("v1/payouts") is not None
    created = create(api, check)
    assert check("retrieve_payout", api.get(f"/payouts/{created['id']}"))["v1/payout"]["id"] == created["id"]


@pytest.mark.parametrize("depth", [40, 300, 1000])
def test_deeply_nested_metadata_is_refused_and_never_stored(
    depth: int, mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    body = orjson.dumps(payout_body(custom_metadata={})).replace(
        b'"custom_metadata":{}', b'"custom_metadata":' + _nested(depth)
    )
    reply = api.post("/payouts", content=body, headers=JSON)
    assert reply.status_code == 400
    assert "deeper than 32" in check("create_payout", reply)["errors"]["body"][0]
    assert mock.stats()["created"] == 0
    _still_serving(api, check)


def test_a_start_body_nested_600_deep_is_refused(api: httpx.Client, check: ReplyChecker) -> None:
    reply = api.put("/payouts/start", content=b'{"payouts":' + b"[" * 600 + b"]" * 600 + b"}", headers=JSON)
    assert reply.status_code == 400
    assert "body" in check("start_payouts", reply)["errors"]
    _still_serving(api, check)


def test_a_lone_surrogate_is_refused_and_never_stored(mock: MockServer, api: httpx.Client, check: ReplyChecker) -> None:
    body = orjson.dumps(payout_body(description="X")).replace(b'"X"', b'"\\ud800"')
    reply = api.post("/payouts", content=body, headers=JSON)
    assert reply.status_code == 400
    assert "lone surrogate" in check("create_payout", reply)["errors"]["body"][0]
    assert mock.stats()["created"] == 0
    _still_serving(api, check)


def test_ids_and_page_numbers_of_thousands_of_digits_are_client_errors(api: httpx.Client, check: ReplyChecker) -> None:
    digits = "9" * 5000
    assert check("retrieve_payout", api.get(f"/payouts/{digits}"))["errors"] == {"id": ["no payout with this id"]}
    assert api.delete(f"/payouts/{digits}").status_code == 404
    page = api.get("/payouts", params={"page": digits})
    assert page.status_code == 400
    assert check("list_payouts", page)["errors"] == {"page": ["must be an integer"]}
    form = api.put(
        "/payouts/start",
        content=f"payouts[][id]={digits}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code in (400, 422)
    _still_serving(api, check)


def test_a_huge_prefer_header_is_ignored_or_honoured_never_a_crash(api: httpx.Client, check: ReplyChecker) -> None:
    huge_retry = api.get("/payouts", headers={"Prefer": "code=503, retry-after=" + "9" * 5000})
    assert huge_retry.status_code == 503
    assert "retry-after" not in huge_retry.headers
    huge_code = api.get("/payouts", headers={"Prefer": "code=" + "4" * 5000})
    assert huge_code.status_code == 200
    _still_serving(api, check)


def test_a_clock_advance_too_far_is_refused_and_changes_nothing(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    before = httpx.get(mock.root_url + "/_mock/clock").json()["now"]
    for seconds in (1e17, 1e308, 4_000_000_000):
        reply = httpx.post(mock.root_url + "/_mock/clock", json={"advance_seconds": seconds})
        assert reply.status_code == 422
        assert "advance_seconds" in reply.json()["errors"]
    assert httpx.get(mock.root_url + "/_mock/clock").json()["now"] == before
    assert mock.stats()["clock"] == before
    _still_serving(api, check)


def test_idempotency_keys_belong_to_one_api_key_and_account(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    key = {"Idempotency-Key": "shared-key-1"}
    first = check("create_payout", api.post("/payouts", json=payout_body(), headers={**key, "FedaPay-Account": "111"}))
    other_account = api.post("/payouts", json=payout_body(), headers={**key, "FedaPay-Account": "222"})
    other_key = api.post(
        "/payouts",
        json=payout_body(),
        headers={**key, "FedaPay-Account": "111", "Authorization": "Bearer sk_sandbox_someone_else"},
    )
    replay = api.post("/payouts", json=payout_body(), headers={**key, "FedaPay-Account": "111"})

    ids = [check("create_payout", r)["v1/payout"]["id"] for r in (other_account, other_key, replay)]
    assert ids == [2, 3, first["v1/payout"]["id"]]
    assert check("retrieve_payout", api.get("/payouts/2"))["v1/payout"]["account_id"] == 222
    assert (mock.stats()["created"], mock.stats()["idempotent_replays"]) == (3, 1)
    assert AUTH["Authorization"] != "Bearer sk_sandbox_someone_else"


def test_a_fedapay_account_of_non_ascii_digits_is_no_account_and_no_crash(
    api: httpx.Client, check: ReplyChecker
) -> None:
    # "²" (latin-1 0xB2) is a digit to str.isdigit() but not to int(): once a 500, now simply no account.
    reply = api.post("/payouts", json=payout_body(), headers={b"FedaPay-Account": b"\xb2"})

    assert check("create_payout", reply)["v1/payout"]["account_id"] is None
    assert check("retrieve_payout", api.get("/payouts/1"))["v1/payout"]["account_id"] is None


def test_remembered_keys_never_change_a_verdict(mock: MockServer, api: httpx.Client, check: ReplyChecker) -> None:
    # The mock remembers the `Authorization` headers it accepted (a bounded set): more distinct keys than it
    # keeps, then a malformed one, a lower-case scheme and a known key again, each judged as the first time.
    accepted = [api.get("/payouts", headers={"Authorization": f"Bearer sk_sandbox_k{n}"}) for n in range(80)]
    refused = [
        api.get("/payouts", headers={"Authorization": header})
        for header in ("Bearer sk_sandbox_k1!", "Bearer sk_other_k1", "Basic sk_sandbox_k1", "Bearer sk_sandbox_")
    ]
    again = api.get("/payouts", headers={"Authorization": "bearer sk_sandbox_k79"})

    assert {r.status_code for r in accepted} == {200}
    assert [r.status_code for r in refused] == [401, 401, 401, 401]
    assert check("list_payouts", again)["v1/payouts"] == []
    assert mock.stats()["requests"]["list_payouts"] == 85


def test_with_an_api_key_set_only_that_key_passes_even_after_it_was_accepted() -> None:
    with run_mock(api_key="sk_sandbox_the_one") as server, httpx.Client(base_url=server.base_url) as client:
        right = [client.get("/payouts", headers={"Authorization": "Bearer sk_sandbox_the_one"}) for _ in range(3)]
        wrong = client.get("/payouts", headers={"Authorization": "Bearer sk_sandbox_the_two"})
        prefix = client.get("/payouts", headers={"Authorization": "Bearer sk_sandbox_the_on"})

    assert [r.status_code for r in right] == [200, 200, 200]
    assert (wrong.status_code, prefix.status_code) == (401, 401)
