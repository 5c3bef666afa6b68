"""The `/_mock/` controls answer 4xx with the Error body to any bad input, never a 500 or a memory blow-up,
and an armed fault is consumed only by a request accepted for work."""

from __future__ import annotations

import tracemalloc
from typing import Any

import httpx
import orjson
import pytest
from fedapay_mock import MockServer, create_app, run_mock

from tests.mock.mock_support import AUTH, ReplyChecker, create, payout_body

CONTROLS = [
    ("POST", "/_mock/faults"),
    ("GET", "/_mock/faults"),
    ("POST", "/_mock/clock"),
    ("GET", "/_mock/clock"),
    ("POST", "/_mock/reset"),
    ("GET", "/_mock/stats"),
]
HOSTILE_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**63,
    10**20,
    10**400,
    1e308,
    -1e308,
    1.5,
    "",
    "\u00b2",
    "1",
    [],
    {},
    [[[]]],
    {"a": {"b": []}},
    ["create_payout"],
]
FIELDS = ["operation", "fault", "times", "status", "retry_after", "delay", "advance_seconds"]
VALID_FAULT = {"operation": "create_payout", "fault": "status"}


def _bodies() -> list[bytes]:
    bodies = [b"[]", b"1", b'"s"', b"null", b"true", b"{", b"\xff", b'{"advance_seconds":1e400}', b"NaN"]
    for field in FIELDS:
        for value in HOSTILE_VALUES:
            bodies.append(_dumps({field: value}))
            for fault in ("status", "delay_before_reply", "drop_after_store"):
                base = (
                    {**VALID_FAULT, "fault": fault, "delay": 1} if field != "delay" else {**VALID_FAULT, "fault": fault}
                )
                bodies.append(_dumps({**base, field: value}))
    return bodies


def _dumps(value: dict[str, Any]) -> bytes:
    """JSON with integers of any size (orjson stops at 64 bits)."""
    parts = [
        orjson.dumps(k) + b":" + (str(v).encode() if type(v) is int else orjson.dumps(v)) for k, v in value.items()
    ]
    return b"{" + b",".join(parts) + b"}"


def test_every_control_answers_hostile_json_with_a_4xx_or_a_200(mock: MockServer) -> None:
    bodies = _bodies()
    seen: dict[int, int] = {}
    with httpx.Client(base_url=mock.root_url, timeout=10.0) as client:
        for method, path in CONTROLS:
            for body in bodies:
                reply = client.request(method, path, content=body, headers={"Content-Type": "application/json"})
                assert reply.status_code < 500, (method, path, body[:120], reply.text[:200])
                assert reply.headers["content-type"] == "application/json", (method, path, body[:120])
                if reply.status_code >= 400:
                    assert reply.json()["errors"], (method, path, body[:120])
                seen[reply.status_code] = seen.get(reply.status_code, 0) + 1
                if method == "POST" and path == "/_mock/faults" and reply.status_code == 200:
                    client.post("/_mock/reset", json={})
    assert {400, 422} <= seen.keys()
    mock.reset()
    with httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=10.0) as api:
        assert api.post("/payouts", json=payout_body()).status_code == 201


@pytest.mark.parametrize("operation", [[], {}, ["create_payout"], {"create_payout": 1}, [[]]])
def test_an_operation_that_is_not_a_string_is_422_naming_it(operation: Any, mock: MockServer) -> None:
    reply = httpx.post(mock.root_url + "/_mock/faults", json={"operation": operation, "fault": "status"})

    assert reply.status_code == 422
    assert list(reply.json()["errors"]) == ["operation"]
    assert httpx.get(mock.root_url + "/_mock/faults").json() == {"armed": {}}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("times", 10**12),
        ("times", 2**63),
        ("times", 10**20),
        ("times", 10**400),
        ("retry_after", 1_000_000_000),
        ("retry_after", 10**400),
        ("status", 10**400),
    ],
)
def test_huge_fault_numbers_are_422_naming_the_field(field: str, value: int, mock: MockServer) -> None:
    reply = httpx.post(
        mock.root_url + "/_mock/faults",
        content=_dumps({**VALID_FAULT, field: value}),
        headers={"Content-Type": "application/json"},
    )

    assert reply.status_code == 422, reply.text[:200]
    assert list(reply.json()["errors"]) == [field]
    assert httpx.get(mock.root_url + "/_mock/faults").json() == {"armed": {}}


def test_arming_many_requests_takes_no_memory_per_request() -> None:
    # A million armed requests were a list of a million references (8 MB); a billion were 8 GB.
    app = create_app()
    tracemalloc.start()
    try:
        reply = app._arm_fault(b'{"operation": "list_payouts", "fault": "status", "times": 1000000}')
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (reply.status, reply.payload) == (200, {"armed": {"list_payouts": 1_000_000}})
    assert peak < 100_000
    # The bound, checked only here: on a mock that copies the fault per request, reaching it would take gigabytes.
    assert app._arm_fault(b'{"operation": "list_payouts", "fault": "status", "times": 1000000000}').payload == {
        "armed": {"list_payouts": 1_001_000_000}
    }
    over = app._arm_fault(b'{"operation": "list_payouts", "fault": "status", "times": 1000000001}')
    assert (over.status, over.payload) == (
        422,
        {"message": "The fault is invalid.", "errors": {"times": ["must be an integer from 1 to 1000000000"]}},
    )


def test_armed_faults_are_consumed_one_a_request_in_arming_order(mock: MockServer, api: httpx.Client) -> None:
    mock.arm_fault("list_payouts", "status", times=2, status=429)
    mock.arm_fault("list_payouts", "status", times=1, status=418)
    mock.arm_fault("retrieve_payout", "status", times=3)
    statuses = []
    for _ in range(4):
        statuses.append(api.get("/payouts").status_code)
        if len(statuses) < 4:
            left = httpx.get(mock.root_url + "/_mock/faults").json()["armed"]
            assert left == ({"list_payouts": 3 - len(statuses)} if len(statuses) < 3 else {}) | {"retrieve_payout": 3}

    assert statuses == [429, 429, 418, 200]


def test_a_request_refused_as_too_large_consumes_no_fault() -> None:
    with run_mock(max_body_bytes=2048) as mock, httpx.Client(base_url=mock.base_url, headers=AUTH) as api:
        mock.arm_fault("create_payout", "status", times=1, status=503)
        declared = api.post("/payouts", content=b"{" + b" " * 4096 + b"}", headers={"Content-Type": "application/json"})
        chunked = api.post("/payouts", content=iter([b"{", b" " * 4096, b"}"]))
        unauthenticated = httpx.post(mock.base_url + "/payouts", json=payout_body())

        assert (declared.status_code, chunked.status_code, unauthenticated.status_code) == (413, 413, 401)
        assert httpx.get(mock.root_url + "/_mock/faults").json() == {"armed": {"create_payout": 1}}
        assert api.post("/payouts", json=payout_body()).status_code == 503
        assert api.post("/payouts", json=payout_body()).status_code == 201
        assert mock.stats()["created"] == 1


def test_a_refused_fault_changes_nothing_already_armed(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    mock.arm_fault("create_payout", "status", times=1, status=409)
    bad = httpx.post(mock.root_url + "/_mock/faults", json={**VALID_FAULT, "times": 10**12})

    assert bad.status_code == 422
    assert api.post("/payouts", json=payout_body()).status_code == 409
    assert create(api, check)["id"] == 1
