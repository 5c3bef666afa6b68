"""Numbers, dates and paths read from request text: ASCII digits only, the whole text, never a 5xx.

HTTP carries header bytes that a server decodes as latin-1, and a percent-decoded path or query as any
Unicode: `"²".isdigit()` is true while `int("²")` fails, and `int("\u0661")` is 1. Each case below was
once a 500, or reached a payout or an operation the text does not name.
"""

from __future__ import annotations

import time

import httpx
import jsonschema_rs
import pytest
from fedapay_mock import MockServer
from fedapay_mock.spec import Spec

from tests.mock.mock_support import AUTH, ReplyChecker, create

NOT_FOUND = {"id": ["no payout with this id"]}


@pytest.mark.parametrize("prefer", [b"code=50\xb2", b"code=\xb9\xb2\xb3", b"code=\xb2\xb2\xb2", b'code="4\xb20"'])
def test_a_prefer_code_of_non_ascii_digits_is_ignored(
    prefer: bytes, mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    reply = api.get("/payouts", headers={b"Prefer": prefer})

    assert check("list_payouts", reply)["v1/payouts"] == []
    assert mock.stats()["requests"] == {"list_payouts": 1}


@pytest.mark.parametrize("retry_after", [b"\xb2", b"\xb9\xb2", b"1\xb2", b"1_0", b"-1", b"0x10"])
def test_a_malformed_retry_after_is_dropped_and_the_code_still_applies(
    retry_after: bytes, api: httpx.Client, check: ReplyChecker
) -> None:
    reply = api.get("/payouts", headers={b"Prefer": b"code=503, retry-after=" + retry_after})

    assert reply.status_code == 503
    assert check("list_payouts", reply)["message"] == "Simulated HTTP 503 (test control)."
    assert "retry-after" not in reply.headers
    assert api.get("/payouts", headers={"Prefer": "code=503, retry-after=2"}).headers["retry-after"] == "2"


@pytest.mark.parametrize("delay", [b"inf", b"Infinity", b"1e9", b"\xb2", b"nan", b"-inf"])
def test_a_delay_that_is_not_plain_seconds_is_ignored(delay: bytes, mock: MockServer) -> None:
    # "inf" read by float() and capped was a 60-second wait: a client timeout of 10 s shows it (no timing
    # assertion beyond "does not hang").
    with httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=10.0) as client:
        started = time.monotonic()
        reply = client.get("/payouts", headers={b"Prefer": b"code=429, delay=" + delay})
    assert reply.status_code == 429
    assert time.monotonic() - started < 10


def test_ids_of_non_ascii_digits_or_with_spaces_are_no_payout(api: httpx.Client, check: ReplyChecker) -> None:
    payout = create(api, check)
    assert payout["id"] == 1
    # Arabic-Indic and fullwidth one, a trailing newline, a leading space or plus-space: none is payout 1.
    for raw in ("%D9%A1", "%EF%BC%91", "1%0A", "%201", "1%20", "%0A1"):
        reply = api.get(f"/payouts/{raw}")
        assert reply.status_code == 404, raw
        assert check("retrieve_payout", reply)["errors"] == NOT_FOUND
        assert api.delete(f"/payouts/{raw}").status_code == 404
        assert api.put(f"/payouts/{raw}", json={"description": "x"}).status_code == 404
    assert check("retrieve_payout", api.get("/payouts/1"))["v1/payout"]["status"] == "pending"
    assert check("retrieve_payout", api.get("/payouts/1"))["v1/payout"]["description"] is None


@pytest.mark.parametrize("value", ["%D9%A1", "%EF%BC%92", "2%0A", "%B2", "%C2%B2"])
def test_page_numbers_of_non_ascii_digits_are_400(value: str, api: httpx.Client, check: ReplyChecker) -> None:
    for name in ("page", "per_page"):
        reply = api.get(f"/payouts?{name}={value}")
        assert reply.status_code == 400, (name, value)
        assert check("list_payouts", reply)["errors"] == {name: ["must be an integer"]}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/payouts/%2F"),  # was the list
        ("GET", "/v1/payouts/%2f"),
        ("GET", "/v1%2Fpayouts"),  # was the list
        ("POST", "/v1/payouts%2F"),  # was a create
        ("PUT", "/v1/payouts%2Fstart"),  # was a start
        ("GET", "/v1/payouts//"),  # was the list
        ("GET", "/v1/payouts/1%2F"),
        ("GET", "/v1/payouts/1/%0A"),  # `$` matched before the final newline: was payout 1
        ("DELETE", "/v1/payouts/1/%0A"),  # was a delete of payout 1
    ],
)
def test_a_path_that_routes_only_once_decoded_is_404(
    method: str, path: str, mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    create(api, check)
    reply = httpx.request(method, mock.root_url + path, headers=AUTH, json={"payouts": [{"id": 1}]})

    assert reply.status_code == 404
    assert reply.headers["content-type"] == "application/json"
    assert list(reply.json()["errors"]) == ["path"]
    assert mock.stats()["requests"] == {"create_payout": 1}
    assert check("retrieve_payout", api.get("/payouts/1"))["v1/payout"]["status"] == "pending"


def test_a_control_path_with_an_encoded_slash_is_404_and_resets_nothing(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    create(api, check)
    reply = httpx.post(mock.root_url + "/_mock%2Freset")

    assert reply.status_code == 404
    assert mock.stats()["payouts_total"] == 1


def test_the_plain_paths_still_route(api: httpx.Client, check: ReplyChecker) -> None:
    create(api, check)
    assert check("list_payouts", api.get("/payouts/"))["v1/payouts"][0]["id"] == 1
    assert check("retrieve_payout", api.get("/payouts/1/"))["v1/payout"]["id"] == 1
    assert check("start_payouts", api.put("/payouts/start/", json=[{"id": 1}]))["v1/payouts"][0]["id"] == 1


def _spec_pattern(spec: Spec, schema: str) -> str:
    pattern: str = spec.document["components"]["schemas"][schema]["properties"]["scheduled_at"]["pattern"]
    return pattern


FRACTIONS = ["1", "123456789", "1234567890", "12345678901234567890", "5" * 300]


@pytest.mark.parametrize("fraction", FRACTIONS)
def test_start_takes_every_fraction_the_spec_pattern_takes(
    fraction: str, spec: Spec, api: httpx.Client, check: ReplyChecker
) -> None:
    when = f"2031-01-01T10:00:00.{fraction}Z"
    assert jsonschema_rs.Draft4Validator({"type": "string", "pattern": _spec_pattern(spec, "StartPayout")}).is_valid(
        when
    )
    create(api, check)
    reply = api.put("/payouts/start", json=[{"id": 1, "scheduled_at": when}])

    payout = check("start_payouts", reply)["v1/payouts"][0]
    assert (payout["status"], payout["scheduled_at"][:21]) == ("scheduled", f"2031-01-01T10:00:00.{fraction[:1]}")


@pytest.mark.parametrize("fraction", FRACTIONS)
def test_a_reschedule_takes_every_fraction_the_spec_pattern_takes(
    fraction: str, spec: Spec, api: httpx.Client, check: ReplyChecker
) -> None:
    when = f"2031-01-02 10:00:00.{fraction} +0100"
    assert jsonschema_rs.Draft4Validator({"type": "string", "pattern": _spec_pattern(spec, "PayoutUpdate")}).is_valid(
        when
    )
    create(api, check)
    check("start_payouts", api.put("/payouts/start", json=[{"id": 1, "scheduled_at": "2031-01-01T10:00:00Z"}]))
    reply = api.put("/payouts/1", json={"scheduled_at": when})

    assert check("update_payout", reply)["v1/payout"]["scheduled_at"][:21] == f"2031-01-02T09:00:00.{fraction[:1]}"


@pytest.mark.parametrize(
    "when",
    ["2031-01-01T10:00:00.\u0661Z", "2031-01-01T10:00:00.Z", "2031-01-01T10:00:00.1Z\n", "2031-01-01T10:00:00,1Z"],
)
def test_a_date_the_spec_pattern_refuses_is_422_naming_it(
    when: str, spec: Spec, api: httpx.Client, check: ReplyChecker
) -> None:
    assert not jsonschema_rs.Draft4Validator(
        {"type": "string", "pattern": _spec_pattern(spec, "StartPayout")}
    ).is_valid(when)
    create(api, check)
    reply = api.put("/payouts/start", json=[{"id": 1, "scheduled_at": when}])

    assert reply.status_code == 422
    assert list(check("start_payouts", reply)["errors"]) == ["[0].scheduled_at"]
