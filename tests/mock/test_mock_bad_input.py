"""Bad input: the right 4xx naming each field, never a 5xx, and the server keeps serving."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fedapay_mock import MockOptions, MockServer, run_mock
from fedapay_mock.cli import build_parser, options_from

from tests.mock.mock_support import API_KEY, AUTH, ReplyChecker, create, payout_body


def test_malformed_json_is_400(api: httpx.Client, check: ReplyChecker) -> None:
    reply = api.post("/payouts", content=b'{"amount": 1000,', headers={"Content-Type": "application/json"})
    assert reply.status_code == 400
    body = check("create_payout", reply)
    assert body["message"] == "The body is not valid JSON."
    assert list(body["errors"]) == ["body"]


@pytest.mark.parametrize("content", [b"", b"   "])
def test_a_missing_body_is_400(api: httpx.Client, check: ReplyChecker, content: bytes) -> None:
    for method, path, op in (("POST", "/payouts", "create_payout"), ("PUT", "/payouts/start", "start_payouts")):
        reply = api.request(method, path, content=content, headers={"Content-Type": "application/json"})
        assert reply.status_code == 400
        assert check(op, reply)["errors"] == {"body": ["is required"]}


@pytest.mark.parametrize("body", [[], "payout", 7, None])
def test_a_body_of_the_wrong_json_type_is_400(api: httpx.Client, check: ReplyChecker, body: Any) -> None:
    reply = api.post("/payouts", json=body)
    assert reply.status_code == 400
    assert list(check("create_payout", reply)["errors"]) == ["body"]


def test_every_invalid_field_is_named(api: httpx.Client, check: ReplyChecker) -> None:
    body = {
        "amount": "1000",
        "currency": {"iso": "EUR"},
        "customer": {"firstname": "", "email": "not-an-email", "phone_number": {"number": "12", "country": "benin"}},
        "custom_metadata": [],
    }
    reply = api.post("/payouts", json=body)
    assert reply.status_code == 422
    errors = check("create_payout", reply)["errors"]
    assert set(errors) == {
        "amount",
        "currency.iso",
        "mode",
        "customer.firstname",
        "customer.lastname",
        "customer.email",
        "customer.phone_number.number",
        "customer.phone_number.country",
        "custom_metadata",
    }
    assert errors["mode"] == ["is required"]
    assert errors["currency.iso"] == ['"EUR" is not one of "XOF" or "GNF"']
    assert api.get("/payouts").json()["meta"]["total_count"] == 0


@pytest.mark.parametrize("amount", [0, -5, 10.5, True, None])
def test_amounts_must_be_positive_integers(api: httpx.Client, check: ReplyChecker, amount: Any) -> None:
    reply = api.post("/payouts", json=payout_body(amount=amount))
    assert reply.status_code == 422
    assert list(check("create_payout", reply)["errors"]) == ["amount"]


def test_a_huge_amount_is_refused_naming_amount_never_a_5xx(api: httpx.Client, check: ReplyChecker) -> None:
    """Over FedaPay's cap (spec/overlays/14-fedapay-rules.yaml), however many digits: 422, nothing stored."""
    reply = api.post(
        "/payouts",
        content=b'{"amount": 123456789012345678901234567890, "currency": {"iso": "XOF"}, '
        b'"mode": "m", "customer": {"firstname": "a", "lastname": "b"}}',
        headers={"Content-Type": "application/json"},
    )
    assert reply.status_code == 422
    assert list(check("create_payout", reply)["errors"]) == ["amount"]
    assert api.get("/payouts").json()["meta"]["total_count"] == 0


@pytest.mark.parametrize("digits", [4301, 5000, 100_000])
def test_a_number_of_thousands_of_digits_is_400_saying_so_without_python_advice(
    api: httpx.Client, check: ReplyChecker, digits: int
) -> None:
    """Past Python's integer conversion limit (4300 digits) the parser refuses the body: the 400 says the number
    has too many digits, not Python's advice to the server's operator ("use sys.set_int_max_str_digits()")."""
    body = b'{"amount": %s, "currency": {"iso": "XOF"}, "mode": "m", "customer": {"firstname": "a", "lastname": "b"}}'
    reply = api.post("/payouts", content=body % (b"9" * digits), headers={"Content-Type": "application/json"})

    assert reply.status_code == 400
    assert check("create_payout", reply)["errors"] == {"body": ["the number has too many digits (at most 4300)"]}
    assert "sys" not in reply.text
    assert api.get("/payouts").json()["meta"]["total_count"] == 0


@pytest.mark.parametrize("payout_id", ["abc", "0", "-1", "1.5", "99999999999999999999999", "999"])
def test_unknown_or_non_numeric_ids_are_404(api: httpx.Client, check: ReplyChecker, payout_id: str) -> None:
    create(api, check)
    for method, op in (("GET", "retrieve_payout"), ("DELETE", "delete_payout")):
        reply = api.request(method, f"/payouts/{payout_id}")
        assert reply.status_code == 404, (method, payout_id)
        assert check(op, reply)["message"] == "No payout with this id."
    reply = api.put(f"/payouts/{payout_id}", json={"amount": 5})
    assert reply.status_code == 404
    check("update_payout", reply)


def test_start_body_errors_name_fields_in_both_forms(api: httpx.Client, check: ReplyChecker) -> None:
    reply = api.put("/payouts/start", json={"payouts": [{"id": "x"}, {"scheduled_at": "soon"}]})
    assert reply.status_code == 422
    assert set(check("start_payouts", reply)["errors"]) == {"payouts[0].id", "payouts[1].id", "payouts[1].scheduled_at"}
    bare = api.put("/payouts/start", json=[{"id": 0}])
    assert check("start_payouts", bare)["errors"] == {"[0].id": ["0 is less than the minimum of 1"]}
    assert api.put("/payouts/start", json={"payouts": []}).status_code == 422
    assert api.put("/payouts/start", json=[]).status_code == 422
    assert api.put("/payouts/start", json=5).status_code == 400


def test_a_date_that_matches_the_pattern_but_does_not_exist_is_422(api: httpx.Client, check: ReplyChecker) -> None:
    created = create(api, check)
    reply = api.put("/payouts/start", json=[{"id": created["id"], "scheduled_at": "2030-02-30 10:00:00"}])
    assert reply.status_code == 422
    assert list(check("start_payouts", reply)["errors"]) == ["[0].scheduled_at"]
    assert api.get(f"/payouts/{created['id']}").json()["v1/payout"]["status"] == "pending"


# Dates the spec's pattern allows whose UTC instant is in the year 10000: formatted, they would have five digits
# and no client could read the payout again (docs/mock.md: nothing stored can make a later request fail).
AFTER_9999 = ["9999-12-31T23:59:59-14:00", "9999-12-31 23:59:59 -0001", "9999-12-31T23:59:59-00:01"]


@pytest.mark.parametrize("when", AFTER_9999)
def test_a_start_date_after_the_year_9999_in_utc_is_422_and_starts_nothing(
    when: str, api: httpx.Client, check: ReplyChecker
) -> None:
    created = create(api, check)
    other = create(api, check)
    items = [{"id": other["id"]}, {"id": created["id"], "scheduled_at": when}]
    reply = api.put("/payouts/start", json={"payouts": items})
    assert reply.status_code == 422
    errors = check("start_payouts", reply)["errors"]
    assert list(errors) == ["payouts[1].scheduled_at"]
    assert "after the year 9999" in errors["payouts[1].scheduled_at"][0]
    listed = check("list_payouts", api.get("/payouts"))["v1/payouts"]
    assert [(p["status"], p["scheduled_at"]) for p in listed] == [("pending", None)] * 2


@pytest.mark.parametrize("when", AFTER_9999)
def test_a_reschedule_after_the_year_9999_in_utc_is_422_and_keeps_the_date(
    when: str, api: httpx.Client, check: ReplyChecker
) -> None:
    created = create(api, check)
    api.put("/payouts/start", json=[{"id": created["id"], "scheduled_at": "2099-01-01 10:00:00"}]).raise_for_status()
    reply = api.put(f"/payouts/{created['id']}", json={"scheduled_at": when})
    assert reply.status_code == 422
    assert list(check("update_payout", reply)["errors"]) == ["scheduled_at"]
    kept = check("retrieve_payout", api.get(f"/payouts/{created['id']}"))["v1/payout"]
    assert (kept["status"], kept["scheduled_at"]) == ("scheduled", "2099-01-01T10:00:00.000Z")


@pytest.mark.parametrize(
    ("when", "stored"),
    [
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59.000Z"),
        ("9999-12-31T23:59:59+14:00", "9999-12-31T09:59:59.000Z"),
        # The sum's float rounds up to 10000-01-01: kept in 9999, at its last millisecond.
        ("9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59.999Z"),
    ],
)
def test_the_last_instants_of_9999_are_scheduled_with_four_digit_years(
    when: str, stored: str, api: httpx.Client, check: ReplyChecker
) -> None:
    created = create(api, check)
    reply = api.put("/payouts/start", json=[{"id": created["id"], "scheduled_at": when}])
    assert check("start_payouts", reply)["v1/payouts"][0]["scheduled_at"] == stored
    assert check("retrieve_payout", api.get(f"/payouts/{created['id']}"))["v1/payout"]["scheduled_at"] == stored


def test_update_needs_at_least_one_property_of_the_right_type(api: httpx.Client, check: ReplyChecker) -> None:
    created = create(api, check)
    assert api.put(f"/payouts/{created['id']}", json={}).status_code == 422
    reply = api.put(f"/payouts/{created['id']}", json={"amount": 0, "mode": ""})
    assert set(check("update_payout", reply)["errors"]) == {"amount", "mode"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "0"}, "page"),
        ({"page": "x"}, "page"),
        ({"per_page": "101"}, "per_page"),
        ({"per_page": "0"}, "per_page"),
    ],
)
def test_bad_list_parameters_are_400(
    api: httpx.Client, check: ReplyChecker, params: dict[str, str], field: str
) -> None:
    reply = api.get("/payouts", params=params)
    assert reply.status_code == 400
    assert list(check("list_payouts", reply)["errors"]) == [field]


def test_an_oversized_body_is_refused_and_the_server_keeps_serving(mock: MockServer) -> None:
    huge = b'{"amount": 1, "description": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    with httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=10.0) as client:
        reply = client.post("/payouts", content=huge, headers={"Content-Type": "application/json"})
    assert reply.status_code == 413
    assert reply.json()["errors"] == {"body": ["must be at most 1048576 bytes"]}
    with httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=10.0) as client:
        assert client.post("/payouts", json=payout_body()).status_code == 201
    assert mock.stats()["created"] == 1


def test_an_oversized_chunked_body_is_refused(mock: MockServer) -> None:
    def chunks() -> Any:
        for _ in range(40):
            yield b"x" * 65536

    with httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=10.0) as client:
        reply = client.post("/payouts", content=chunks(), headers={"Content-Type": "application/json"})
        assert reply.status_code == 413
    assert mock.stats()["payouts_total"] == 0


def test_a_body_in_many_chunks_is_read_whole(mock: MockServer) -> None:
    raw = json.dumps(payout_body(amount=2500)).encode()

    def chunks() -> Any:
        for start in range(0, len(raw), 7):
            yield raw[start : start + 7]

    with httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=10.0) as client:
        reply = client.post("/payouts", content=chunks(), headers={"Content-Type": "application/json"})
    assert reply.status_code == 201
    assert reply.json()["v1/payout"]["amount"] == 2500
    assert mock.stats()["created"] == 1


def test_control_bodies_are_size_limited_too(mock: MockServer) -> None:
    reply = httpx.post(mock.root_url + "/_mock/clock", content=b"{" + b" " * (2 * 1024 * 1024) + b"}")
    assert reply.status_code == 413
    assert mock.stats()["payouts_total"] == 0


def test_unknown_paths_are_404_and_wrong_methods_405(mock: MockServer, api: httpx.Client) -> None:
    assert api.get("/transactions").status_code == 404
    assert httpx.get(mock.root_url + "/payouts").status_code == 404
    reply = api.patch("/payouts")
    assert reply.status_code == 405
    assert reply.headers["allow"] == "GET, POST"
    assert reply.headers["content-type"] == "application/json"
    assert api.post("/payouts/1").headers["allow"] == "DELETE, GET, PUT"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer  x",
        "Basic sk_sandbox_abc",
        "Bearer pk_sandbox_abc",
        "Bearer sk_test_abc",
        "Bearer sk_sandbox_",
    ],
)
def test_missing_or_malformed_keys_are_401(mock: MockServer, check: ReplyChecker, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path, op in (
        ("GET", "/payouts", "list_payouts"),
        ("POST", "/payouts", "create_payout"),
        ("PUT", "/payouts/start", "start_payouts"),
        ("GET", "/payouts/1", "retrieve_payout"),
        ("PUT", "/payouts/1", "update_payout"),
        ("DELETE", "/payouts/1", "delete_payout"),
    ):
        reply = httpx.request(method, mock.base_url + path, headers=headers, json=payout_body())
        assert reply.status_code == 401, (method, path)
        assert check(op, reply)["message"] == "Missing or invalid API key."
        assert reply.headers["www-authenticate"] == "Bearer"
    assert mock.stats()["created"] == 0


def test_sandbox_and_live_keys_are_accepted(mock: MockServer) -> None:
    for key in ("sk_sandbox_abc123", "sk_live_XYZ-9_8", API_KEY):
        reply = httpx.get(mock.base_url + "/payouts", headers={"Authorization": f"bearer {key}"})
        assert reply.status_code == 200, key


def test_one_configured_key_and_no_other() -> None:
    with run_mock(api_key="sk_live_only_this_one") as server:
        good = httpx.get(server.base_url + "/payouts", headers={"Authorization": "Bearer sk_live_only_this_one"})
        other = httpx.get(server.base_url + "/payouts", headers={"Authorization": "Bearer sk_sandbox_something"})
        assert (good.status_code, other.status_code) == (200, 401)
        assert "sk_live_only_this_one" not in other.text
        assert "only_this_one" not in repr(server.app)
        assert "only_this_one" not in repr(server.app.options)


@pytest.mark.parametrize("key", ["sk_sandbox_abc\n", "sk_live_abc\n", "sk_sandbox_abc\n\n", "sk_sandbox_abc\r\n"])
def test_a_key_with_a_trailing_newline_is_refused_at_start(key: str) -> None:
    """`$` matched before a final newline: the key was taken at start, then no request's header could match it
    (every request was 401). A key read from a file with its newline is refused at once, never shown."""
    with pytest.raises(ValueError, match="api_key must look like") as caught:
        MockOptions(api_key=key)
    assert "abc" not in str(caught.value)


def test_the_cli_refuses_a_key_with_a_trailing_newline() -> None:
    """`FEDAPAY_MOCK_API_KEY="$(cat key.txt)"` drops the newline, `--api-key "$KEY"` from `read` may keep it."""
    with pytest.raises(ValueError, match="api_key must look like"):
        options_from(build_parser().parse_args(["--api-key", "sk_sandbox_abc\n"]))


def test_bad_options_are_refused_without_showing_secrets() -> None:
    from fedapay_mock import create_app

    with pytest.raises(ValueError, match="api_key must look like") as caught:
        create_app(api_key="hunter2-secret")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ValueError, match="go together"):
        create_app(webhook_url="http://127.0.0.1:9/x")
