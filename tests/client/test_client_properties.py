"""Properties over generated inputs and generated runs.

1. Every argument of every operation, given any value (wrong types, bytes, lone surrogates, NaN,
   huge integers, dates past year 9999, nested structures...), either is refused with
   `InvalidArgumentError` before any request, or produces a request whose body is valid UTF-8 JSON.
   Nothing else escapes (no `UnicodeEncodeError`, `OverflowError`, `TypeError`...).
2. For random sequences of operations and faults against the mock, what the client reported matches
   what the server counted: each reported create is one payout, each reported start one start
   applied, no payout started twice, and a call that raised left the server as the error says.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fedapay_mock.server import MockServer
from fedapay_payouts import (
    APIError,
    FedaPay,
    InvalidArgumentError,
    PayoutOutcomeUnknownError,
    RetryPolicy,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.client.client_support import API_KEY, CUSTOMER

UTC = datetime.UTC
TOMORROW = datetime.datetime.now(UTC) + datetime.timedelta(days=1)

# --- 1. bad input ---------------------------------------------------------------------------------

_offsets = st.integers(min_value=-23 * 60, max_value=23 * 60).map(
    lambda minutes: datetime.timezone(datetime.timedelta(minutes=minutes))
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3),  # lone surrogates
    st.text(max_size=3).map(lambda t: t + "\ud800"),
    st.binary(max_size=6),
    st.datetimes(timezones=st.none() | _offsets),
    st.datetimes(min_value=datetime.datetime(9999, 12, 31), timezones=_offsets),
    st.just(datetime.datetime.max.replace(tzinfo=datetime.timezone(datetime.timedelta(hours=-5)))),
    st.sampled_from(["2030-01-01T10:00:00Z", "2030-01-01 10:00:00", "9999-12-31T23:59:59-05:00", "XOF", "moov"]),
)
ANYTHING = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner),
        st.frozensets(st.integers(), max_size=2),
        st.dictionaries(st.one_of(st.text(max_size=4), st.integers(), st.text(st.characters(categories=["Cs"]),
                                                                            min_size=1, max_size=1)),
                        inner, max_size=3),
    ),
    max_leaves=6,
)

# Values that broke the client before (each must be refused or sent safely), drawn half of the time.
SPECIALS = st.sampled_from([
    math.nan, math.inf, -math.inf, 0.0, -1, 0, True, 2**63, 2**64 + 1, 1e300, b"42", bytearray(b"7"), "\ud800",
    "a\udcff", "", "   ", {42}, (1,), [], {}, {"id": 1}, {"\ud800": 1},
    datetime.datetime(9999, 12, 31, 23, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
    datetime.datetime(2030, 1, 1), "2030-01-01T10:00:00", "not a date",
])
VALUES = st.one_of(SPECIALS, ANYTHING)

VALID: dict[str, dict[str, Any]] = {
    "create": {"amount": 1000, "currency": "XOF", "mode": "moov", "customer": CUSTOMER, "description": "d",
               "merchant_reference": "r-1", "custom_metadata": {"a": 1}, "idempotency_key": "key-1", "timeout": 5},
    "start": {"payouts": [1, 2], "scheduled_at": TOMORROW, "timeout": 5},
    "send_now": {"id": 1, "phone_number": {"number": "+22997808080", "country": "bj"}, "timeout": 5},
    "schedule": {"id": 1, "at": TOMORROW, "timeout": 5},
    "retrieve": {"id": 1, "timeout": 5},
    "list": {"page": 1, "per_page": 10, "status": "pending", "timeout": 5},
    "update": {"id": 1, "amount": 1000, "mode": "moov", "description": "d", "merchant_reference": "r",
               "custom_metadata": {"a": 1}, "scheduled_at": TOMORROW, "timeout": 5},
    "delete": {"id": 1, "timeout": 5},
}
PARAMETERS = [(operation, name) for operation, arguments in VALID.items() for name in arguments]


class Reached(Exception):
    """The request got past every check and reached the transport."""

    def __init__(self, request: httpx.Request) -> None:
        super().__init__("reached the transport")
        self.request = request


def _refuse_to_send(request: httpx.Request) -> httpx.Response:
    raise Reached(request)


@pytest.fixture(scope="module")
def offline_client() -> Iterator[FedaPay]:
    client = FedaPay(API_KEY, max_retries=0, http_client=httpx.Client(transport=httpx.MockTransport(_refuse_to_send)))
    yield client
    client.close()


@pytest.mark.parametrize(("operation", "name"), PARAMETERS, ids=[f"{o}.{n}" for o, n in PARAMETERS])
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow,
                                                                                     HealthCheck.function_scoped_fixture])
@given(value=VALUES)
def test_any_value_of_any_argument_is_refused_typed_or_sent_as_valid_json(
    offline_client: FedaPay, operation: str, name: str, value: Any
) -> None:
    arguments = {**VALID[operation], name: value}
    method: Callable[..., Any] = getattr(offline_client.payouts, operation)
    try:
        if operation in ("send_now", "schedule", "retrieve", "update", "delete"):
            payout_id = arguments.pop("id")
            if operation == "schedule":
                method(payout_id, arguments.pop("at"), **arguments)
            else:
                method(payout_id, **arguments)
        elif operation == "start":
            method(arguments.pop("payouts"), **arguments)
        else:
            method(**arguments)
    except InvalidArgumentError as exc:
        refused: InvalidArgumentError | None = exc
    except APIError as exc:  # the transport's exception, handed on typed (never chained: it could quote secrets)
        reached, refused, request = str(exc), None, exc.request
    else:  # pragma: no cover - the transport always raises
        raise AssertionError("the request was neither refused nor sent")
    if refused is not None:
        assert refused.argument  # names what was wrong
        return
    assert "Reached: reached the transport" in reached
    assert request is not None
    body = request.read()
    if body:
        json.loads(body.decode("utf-8"))  # valid UTF-8 JSON
    for seconds in request.extensions["timeout"].values():
        assert seconds is None or (math.isfinite(seconds) and seconds > 0)


# --- 2. what the client reported vs what the server counted ---------------------------------------

FAULTS = [None, "drop_before_store", "drop_after_store", 500, 503]
STEP = st.tuples(st.sampled_from(["create", "send_now", "start_two", "schedule"]), st.sampled_from(FAULTS))


@pytest.fixture(scope="module")
def steady_mock() -> Iterator[MockServer]:
    from fedapay_mock.server import run_mock

    with run_mock(settle_seconds=3600) as server:  # started payouts stay `started` during a run
        yield server


def _arm(mock: MockServer, operation: str, fault: str | int | None) -> None:
    if fault is None:
        return
    if isinstance(fault, int):
        mock.arm_fault(operation, "status", status=fault, retry_after=0 if fault == 503 else None)
    else:
        mock.arm_fault(operation, fault)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=8))
def test_what_the_client_reports_is_what_the_server_did(steady_mock: MockServer, steps: list[tuple[str, Any]]) -> None:
    mock = steady_mock
    mock.reset()
    client = FedaPay(API_KEY, base_url=mock.base_url, retry_policy=RetryPolicy(2, initial_delay=0.0))
    created: list[int] = []  # reported created
    unknown_creates = 0
    reported_started: set[int] = set()
    refused: dict[int, str] = {}  # payout -> status when a start on it raised a plain error
    try:
        for operation, fault in steps:
            if operation == "create":
                _arm(mock, "create_payout", fault)
                try:
                    created.append(client.payouts.create(amount=1000, currency="XOF", mode="moov",
                                                         customer=CUSTOMER).id)
                except PayoutOutcomeUnknownError:
                    unknown_creates += 1
                except APIError:
                    pass  # refused (503 every time): nothing may have been created
                continue
            targets = created[-2:] if operation == "start_two" else created[-1:]
            if not targets or (operation == "start_two" and len(targets) < 2):
                continue
            before = {i: client.payouts.retrieve(i).status for i in targets}
            _arm(mock, "start_payouts", fault)
            try:
                if operation == "send_now":
                    result = [client.payouts.send_now(targets[0])]
                elif operation == "schedule":
                    result = [client.payouts.schedule(targets[0], TOMORROW)]
                else:
                    result = client.payouts.start(targets)
            except PayoutOutcomeUnknownError:
                continue
            except APIError:
                for payout_id in targets:
                    refused[payout_id] = before[payout_id]
                after = {i: client.payouts.retrieve(i).status for i in targets}
                assert after == before  # a plainly refused start changed nothing
                continue
            assert [p.id for p in result] == targets
            for payout_id in targets:
                assert before[payout_id] == "pending"  # only a pending payout can be reported started
                assert payout_id not in reported_started
                reported_started.add(payout_id)
        stats = mock.stats()
        assert len(set(created)) == len(created)
        assert len(created) <= stats["created"] <= len(created) + unknown_creates
        non_pending = sum(n for status, n in stats["by_status"].items() if status != "pending")
        assert stats["started"] == non_pending  # no payout was started twice
        assert reported_started <= {p.id for p in client.payouts.list(per_page=100).items if p.status != "pending"}
        assert len(reported_started) <= stats["started"]
    finally:
        client.close()
