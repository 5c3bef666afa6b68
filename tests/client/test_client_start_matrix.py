"""After an ambiguous failure, success means this call did it.

Every row of {start one, start many, send_now, schedule} x {target pending, started, scheduled at
another time, sent, failed} x {no fault, fault before the server acted (dropped, 502), fault after it
acted}: the call returns what the fault-free call returns, or raises `PayoutOutcomeUnknownError`
naming each payout and the state found; it never reports success for a payout it did not start, and
never starts a payout the fault-free call would have left alone. Counted on the server.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from fedapay_payouts import PayoutOutcomeUnknownError, UnprocessableEntityError

from tests.client.client_support import CUSTOMER, Api

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

SETTLE = 3600.0  # started payouts settle only when a test moves the mock's clock
LATER = datetime.datetime.now(datetime.UTC).replace(microsecond=0) + datetime.timedelta(days=30)
ELSEWHEN = LATER + datetime.timedelta(days=1)


@pytest.fixture(scope="module")
def slow_mock_server() -> Iterator[MockServer]:
    from fedapay_mock.server import run_mock

    with run_mock(settle_seconds=SETTLE) as server:
        yield server


@pytest.fixture
def slow_api(request: pytest.FixtureRequest, slow_mock_server: MockServer) -> Iterator[Api]:
    slow_mock_server.reset()
    harness = Api("sync", slow_mock_server.base_url)
    try:
        yield harness
    finally:
        harness.close()


@dataclass(frozen=True)
class Fault:
    name: str
    arm: dict[str, Any] | None
    acted: bool = False  # the server acted before the failure


FAULTS = [
    Fault("no fault", None),
    Fault("dropped before acting", {"fault": "drop_before_store"}),
    Fault("502 before acting", {"fault": "status", "status": 502}),
    Fault("dropped after acting", {"fault": "drop_after_store"}, acted=True),
]
TARGETS = ["pending", "started", "scheduled elsewhen", "sent", "failed"]


@dataclass(frozen=True)
class Operation:
    name: str
    call: Callable[[Any, int, int], Any]  # (payouts, target id, other pending id) -> result
    many: bool = False
    schedules: bool = False


OPERATIONS = [
    Operation("start one", lambda p, x, b: p.start(x)),
    Operation("start many", lambda p, x, b: p.start([x, b]), many=True),
    Operation("send_now", lambda p, x, b: p.send_now(x)),
    Operation("schedule", lambda p, x, b: p.schedule(x, LATER), schedules=True),
]


def make_target(api: Api, mock: MockServer, state: str) -> int:
    setup = api.client(record=False)
    customer = dict(CUSTOMER)
    if state == "failed":
        customer["phone_number"] = {"number": "+22997800000", "country": "bj"}  # the mock fails numbers ending 0000
    payout = api.call(setup, lambda p: p.create(amount=1000, currency="XOF", mode="moov", customer=customer))
    if state in ("started", "sent", "failed"):
        api.call(setup, lambda p: p.send_now(payout.id))
    if state == "scheduled elsewhen":
        api.call(setup, lambda p: p.schedule(payout.id, ELSEWHEN))
    if state in ("sent", "failed"):
        mock.advance_clock(SETTLE + 1)
    found = api.call(setup, lambda p: p.retrieve(payout.id)).status
    assert found == state.split()[0]
    return int(payout.id)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: o.name)
def test_a_start_reports_only_what_it_did(
    slow_api: Api, slow_mock_server: MockServer, operation: Operation, target: str, fault: Fault
) -> None:
    api, mock = slow_api, slow_mock_server
    target_id = make_target(api, mock, target)
    other_id = make_target(api, mock, "pending")
    before = mock.stats()
    setup = api.client(record=False)
    states_before = _states(api, setup, target_id, other_id)
    if fault.arm is not None:
        mock.arm_fault("start_payouts", **fault.arm)
    client = api.client(retry_policy=_instant_retries())

    outcome: Any
    try:
        outcome = api.call(client, lambda p: operation.call(p, target_id, other_id))
    except (UnprocessableEntityError, PayoutOutcomeUnknownError) as exc:
        outcome = exc

    after = mock.stats()
    asked = [target_id, other_id] if operation.many else [target_id]
    if target == "pending" and fault.acted and isinstance(outcome, PayoutOutcomeUnknownError):
        # The server acted and the reply was lost. On loopback the mock acts within a millisecond of the
        # call's start, too close for its timestamps to prove who did it: the call says so, naming each.
        assert outcome.payout_ids == asked
        assert all("as this call began" in outcome.found[i] for i in asked), outcome.found
        assert after["started"] - before["started"] == len(asked)
        assert after["requests"]["start_payouts"] - before["requests"].get("start_payouts", 0) == 1
        return
    if target == "pending":
        # The fault-free result: every payout asked started (or scheduled) once, and reported so.
        results = outcome if isinstance(outcome, list) else [outcome]
        assert not isinstance(outcome, BaseException), outcome
        assert [p.id for p in results] == asked
        expected = "scheduled" if operation.schedules else "started"
        assert [p.status for p in results] == [expected] * len(asked)
        if operation.schedules:
            assert results[0].scheduled_at == LATER
        assert after["started"] - before["started"] == len(asked)
        starts = after["requests"]["start_payouts"] - before["requests"].get("start_payouts", 0)
        assert starts == (1 if fault.arm is None or fault.acted else 2)
        return

    # The target had left `pending` before the call: the fault-free call is refused whole (422).
    assert isinstance(outcome, UnprocessableEntityError | PayoutOutcomeUnknownError), outcome
    if fault.arm is None:
        assert type(outcome) is UnprocessableEntityError
    if isinstance(outcome, PayoutOutcomeUnknownError):
        assert outcome.payout_ids == asked
        assert set(outcome.found) == set(asked)  # each payout named with the state found
        assert target.split()[0] in outcome.found[target_id]
    # Nothing started, nothing changed: the other payout is still pending.
    assert after["started"] == before["started"]
    states_after = _states(api, setup, target_id, other_id)
    assert states_after == states_before


def _states(api: Api, client: Any, *ids: int) -> dict[int, str]:
    states: dict[int, str] = {}
    for payout_id in ids:
        retrieve: Callable[[Any], Any] = functools.partial(lambda p, i: p.retrieve(i), i=payout_id)
        states[payout_id] = api.call(client, retrieve).status
    return states


def _instant_retries() -> Any:
    from fedapay_payouts import RetryPolicy

    return RetryPolicy(2, initial_delay=0.0)
