"""Each stored payout keeps its wire form, changed in place as the payout changes (issue 15): what that must
not change on the wire. Field order through a payout's life, a reply that waits (a fault's delay) while the
payout changes, listeners that keep what they are given, and payouts the clock settled while nobody read them."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from fedapay_mock import MockServer
from fedapay_mock.clock import MockClock
from fedapay_mock.store import COMPUTED_FIELDS, PayoutStore

from tests.mock.mock_support import SETTLE, ReplyChecker, create, payout_body


def _order(mock: MockServer, api: httpx.Client, payout_id: int) -> list[str]:
    return list(api.get(f"/payouts/{payout_id}").json()["v1/payout"])


def test_fields_keep_fedapays_order_through_a_payouts_life(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    created = create(api, check, description="first", custom_metadata={"k": 1})
    keys = list(created)
    assert keys[: len(COMPUTED_FIELDS)] == list(COMPUTED_FIELDS)
    # The spec's other nullable fields follow, in name order (`wire_template`), the echoed ones among them.
    assert keys[len(COMPUTED_FIELDS) :] == sorted(keys[len(COMPUTED_FIELDS) :])
    assert {"description", "custom_metadata", "merchant_reference"} <= set(keys)
    changed = api.put(f"/payouts/{created['id']}", json={"merchant_reference": "m-7", "amount": 2000}).json()
    assert list(changed["v1/payout"]) == keys
    assert changed["v1/payout"]["amount_debited"] == 2000
    [started] = api.put("/payouts/start", json=[{"id": created["id"]}]).json()["v1/payouts"]
    assert list(started) == keys
    mock.advance_clock(SETTLE)
    assert _order(mock, api, created["id"]) == keys


def test_a_delayed_reply_shows_the_payout_as_its_request_left_it(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    """The clock sends the payout while the start's reply waits out its delay: the reply still says started."""
    payout = create(api, check)
    mock.arm_fault("start_payouts", "delay_before_reply", delay=1.5)
    replies: list[httpx.Response] = []
    waiting = threading.Thread(target=lambda: replies.append(api.put("/payouts/start", json=[{"id": payout["id"]}])))
    waiting.start()
    try:
        deadline = time.monotonic() + 10
        while api.get(f"/payouts/{payout['id']}").json()["v1/payout"]["status"] == "pending":
            assert time.monotonic() < deadline, "the start never reached the store"
            time.sleep(0.02)
        mock.advance_clock(SETTLE)
        sent = api.get(f"/payouts/{payout['id']}").json()["v1/payout"]  # read: the stored payout now says sent
        assert sent["status"] == "sent"
    finally:
        waiting.join(timeout=10)
    [started] = check("start_payouts", replies[0])["v1/payouts"]
    assert (started["status"], started["sent_at"], started["updated_at"]) == (
        "started",
        None,
        started["started_at"],
    )
    assert sent["sent_at"] is not None
    assert sent["updated_at"] == sent["sent_at"]


def _store(**settings: Any) -> PayoutStore:
    return PayoutStore(MockClock(frozen=True), settle_seconds=5.0, currencies={"XOF": 1}, **settings)


def test_a_listener_keeps_each_event_as_it_was() -> None:
    store = _store()
    events: list[tuple[str, dict[str, Any]]] = []
    store.listeners.append(lambda name, wire: events.append((name, wire)))
    wire, _ = store.create(payout_body())
    store.start([{"id": wire["id"]}], field_prefix="")
    store.clock.advance(5.0)
    store.settle()
    assert [(name, event["status"], event["sent_at"] is None) for name, event in events] == [
        ("payout.created", "pending", True),
        ("payout.started", "started", True),
        ("payout.sent", "sent", False),
    ]
    assert events[0][1]["started_at"] is None
    assert events[1][1]["started_at"] is not None


def test_a_payout_the_clock_settled_unread_is_whole_when_deleted_or_listed() -> None:
    """Settled while nobody read it: its first reply, whichever operation gives it, has every field of the change."""
    store = _store(delete_only_unsent=False)
    sent, _ = store.create(payout_body())
    failed, _ = store.create(
        payout_body(customer={"firstname": "F", "lastname": "L", "phone_number": {"number": "+22990000000"}})
    )
    store.start([{"id": sent["id"]}, {"id": failed["id"]}], field_prefix="")
    started_at = sent["started_at"]
    store.clock.advance(7.25)
    store.settle()
    deleted = store.delete(sent["id"])
    assert deleted is not None
    assert (deleted["status"], deleted["started_at"], deleted["failed_at"]) == ("sent", started_at, None)
    assert deleted["sent_at"] is not None
    assert deleted["sent_at"] < deleted["deleted_at"] == deleted["updated_at"]
    [listed], _meta = store.page(page=1, per_page=10)
    assert (listed["status"], listed["last_error_code"], listed["sent_at"]) == ("failed", "sandbox_failure", None)
    assert listed["failed_at"] == listed["updated_at"] == deleted["sent_at"]
