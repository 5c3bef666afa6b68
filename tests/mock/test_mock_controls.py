"""Idempotency-Key and the test controls: forced statuses, dropped connections, delays, clock, reset."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from fedapay_mock import MockServer
from fedapay_mock.store import parse_when

from tests.mock.mock_support import AUTH, ReplyChecker, create, payout_body


def test_same_key_and_body_returns_the_first_payout_and_creates_nothing(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = api.post("/payouts", json=payout_body(), headers=key)
    # Same body, other key order and spacing: the same logical request.
    again = api.post(
        "/payouts",
        content=b'{"mode":"mtn_open","currency":{"iso":"XOF"},"amount":1000,"customer":{"lastname":"Lovelace",'
        b'"firstname":"Ada","email":"ada@example.com","phone_number":{"country":"bj","number":"+22997808080"}}}',
        headers={**key, "Content-Type": "application/json"},
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert check("create_payout", again) == check("create_payout", first)
    stats = mock.stats()
    assert (stats["created"], stats["payouts_total"], stats["idempotent_replays"]) == (1, 1, 1)
    assert stats["requests"]["create_payout"] == 2


def test_a_replay_shows_the_payouts_current_state(api: httpx.Client, check: ReplyChecker) -> None:
    key = {"Idempotency-Key": "k-1"}
    payout = check("create_payout", api.post("/payouts", json=payout_body(), headers=key))["v1/payout"]
    api.put("/payouts/start", json=[{"id": payout["id"]}]).raise_for_status()
    replay = check("create_payout", api.post("/payouts", json=payout_body(), headers=key))["v1/payout"]
    assert (replay["id"], replay["status"]) == (payout["id"], "started")


def test_a_replay_after_the_clock_passed_a_send_time_shows_the_payout_as_get_does(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    """Nothing settles the payouts between the start and the replay but the replay itself (the clock moves
    as wall time does, without a request): the replay must not show the status of before."""
    started = check("create_payout", api.post("/payouts", json=payout_body(), headers={"Idempotency-Key": "k-s"}))
    later = "2099-01-01 10:00:00"
    body = payout_body(amount=2000)
    scheduled = check("create_payout", api.post("/payouts", json=body, headers={"Idempotency-Key": "k-l"}))
    items = [{"id": started["v1/payout"]["id"]}, {"id": scheduled["v1/payout"]["id"], "scheduled_at": later}]
    api.put("/payouts/start", json={"payouts": items}).raise_for_status()
    later_than_both = parse_when(later) - mock.app.clock.now() + 1
    mock.app.clock.advance(later_than_both)  # the clock alone, as wall time moves: nothing settled yet
    for key, sent in (("k-s", payout_body()), ("k-l", body)):
        replay = check("create_payout", api.post("/payouts", json=sent, headers={"Idempotency-Key": key}))["v1/payout"]
        assert replay["status"] == "sent"
        assert replay["sent_at"] is not None
        assert replay == check("retrieve_payout", api.get(f"/payouts/{replay['id']}"))["v1/payout"]


def test_same_key_with_another_body_is_422(mock: MockServer, api: httpx.Client, check: ReplyChecker) -> None:
    key = {"Idempotency-Key": "k-2"}
    api.post("/payouts", json=payout_body(), headers=key).raise_for_status()
    reply = api.post("/payouts", json=payout_body(amount=1001), headers=key)
    assert reply.status_code == 422
    assert list(check("create_payout", reply)["errors"]) == ["Idempotency-Key"]
    assert mock.stats()["created"] == 1


def test_different_keys_create_different_payouts(mock: MockServer, api: httpx.Client) -> None:
    for key in ("a", "b"):
        api.post("/payouts", json=payout_body(), headers={"Idempotency-Key": key}).raise_for_status()
    assert mock.stats()["created"] == 2


def test_deleting_the_payout_frees_its_key(mock: MockServer, api: httpx.Client, check: ReplyChecker) -> None:
    key = {"Idempotency-Key": "k-del"}
    first = check("create_payout", api.post("/payouts", json=payout_body(), headers=key))["v1/payout"]
    assert api.delete(f"/payouts/{first['id']}").status_code == 200
    again = check("create_payout", api.post("/payouts", json=payout_body(), headers=key))["v1/payout"]
    assert again["id"] != first["id"]
    assert api.get(f"/payouts/{again['id']}").status_code == 200
    assert mock.stats()["idempotent_replays"] == 0


def test_an_invalid_request_does_not_claim_the_key(api: httpx.Client) -> None:
    key = {"Idempotency-Key": "k-3"}
    assert api.post("/payouts", json=payout_body(amount=0), headers=key).status_code == 422
    assert api.post("/payouts", json=payout_body(), headers=key).status_code == 201


def test_an_empty_or_overlong_key_is_422(api: httpx.Client, check: ReplyChecker) -> None:
    for value in ("", "k" * 256):
        reply = api.post("/payouts", json=payout_body(), headers={"Idempotency-Key": value})
        assert reply.status_code == 422
        assert list(check("create_payout", reply)["errors"]) == ["Idempotency-Key"]


@pytest.mark.parametrize("code", [429, 500, 503])
def test_prefer_code_forces_a_status_and_stores_nothing(
    mock: MockServer, api: httpx.Client, check: ReplyChecker, code: int
) -> None:
    reply = api.post("/payouts", json=payout_body(), headers={"Prefer": f"code={code}"})
    assert reply.status_code == code
    assert check("create_payout", reply)["message"] == f"Simulated HTTP {code} (test control)."
    assert "retry-after" not in reply.headers
    assert mock.stats()["created"] == 0
    assert api.post("/payouts", json=payout_body()).status_code == 201


def test_prefer_can_add_retry_after(api: httpx.Client) -> None:
    reply = api.get("/payouts", headers={"Prefer": "code=429, retry-after=7"})
    assert (reply.status_code, reply.headers["retry-after"]) == (429, "7")
    assert api.get("/payouts", headers={"Prefer": "code=200"}).status_code == 200


def test_an_armed_status_fault_hits_the_next_requests_only(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    mock.arm_fault("create_payout", "status", times=2, status=503, retry_after=3)
    assert api.get("/payouts").status_code == 200  # another operation is unaffected
    for _ in range(2):
        reply = api.post("/payouts", json=payout_body())
        assert (reply.status_code, reply.headers["retry-after"]) == (503, "3")
        check("create_payout", reply)
    assert api.post("/payouts", json=payout_body()).status_code == 201
    stats = mock.stats()
    assert (stats["created"], stats["requests"]["create_payout"]) == (1, 3)


def test_drop_before_store_closes_the_connection_and_stores_nothing(mock: MockServer, api: httpx.Client) -> None:
    mock.arm_fault("create_payout", "drop_before_store")
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/payouts", json=payout_body(), headers={"Idempotency-Key": "drop-1"})
    assert mock.stats()["payouts_total"] == 0
    # The retry with the same key creates it, once.
    assert api.post("/payouts", json=payout_body(), headers={"Idempotency-Key": "drop-1"}).status_code == 201
    assert mock.stats()["created"] == 1


def test_drop_after_store_keeps_the_payout_and_a_retry_replays_it(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    mock.arm_fault("create_payout", "drop_after_store")
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/payouts", json=payout_body(), headers={"Idempotency-Key": "drop-2"})
    assert mock.stats()["payouts_total"] == 1
    retry = check("create_payout", api.post("/payouts", json=payout_body(), headers={"Idempotency-Key": "drop-2"}))
    assert retry["v1/payout"]["id"] == 1
    stats = mock.stats()
    assert (stats["created"], stats["idempotent_replays"]) == (1, 1)


def test_drop_after_store_on_start_starts_the_payout(mock: MockServer, api: httpx.Client, check: ReplyChecker) -> None:
    payout = create(api, check)
    mock.arm_fault("start_payouts", "drop_after_store")
    with pytest.raises(httpx.RemoteProtocolError):
        api.put("/payouts/start", json={"payouts": [{"id": payout["id"]}]})
    assert api.get(f"/payouts/{payout['id']}").json()["v1/payout"]["status"] == "started"
    again = api.put("/payouts/start", json={"payouts": [{"id": payout["id"]}]})
    assert again.status_code == 422
    assert mock.stats()["started"] == 1


def test_drop_before_store_on_start_changes_nothing(mock: MockServer, api: httpx.Client, check: ReplyChecker) -> None:
    payout = create(api, check)
    mock.arm_fault("start_payouts", "drop_before_store")
    with pytest.raises(httpx.RemoteProtocolError):
        api.put("/payouts/start", json={"payouts": [{"id": payout["id"]}]})
    assert api.get(f"/payouts/{payout['id']}").json()["v1/payout"]["status"] == "pending"


def test_delay_before_reply_does_the_work_then_waits(mock: MockServer) -> None:
    mock.arm_fault("create_payout", "delay_before_reply", delay=1.0)
    with httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=0.2) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.post("/payouts", json=payout_body())
    assert mock.stats()["payouts_total"] == 1


def test_delay_is_added_latency(mock: MockServer, api: httpx.Client) -> None:
    mock.arm_fault("list_payouts", "delay_before_reply", delay=0.3)
    started = time.monotonic()
    assert api.get("/payouts").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_fault_arming_is_validated(mock: MockServer) -> None:
    control = mock.root_url + "/_mock/faults"
    cases = [
        ({"operation": "nope", "fault": "status"}, "operation"),
        ({"operation": "create_payout", "fault": "explode"}, "fault"),
        ({"operation": "create_payout", "fault": "status", "status": 200}, "status"),
        ({"operation": "create_payout", "fault": "status", "times": 0}, "times"),
        ({"operation": "create_payout", "fault": "delay_before_reply"}, "delay"),
        ({"operation": "create_payout", "fault": "status", "retry_after": -1}, "retry_after"),
    ]
    for payload, field in cases:
        reply = httpx.post(control, json=payload)
        assert reply.status_code == 422, payload
        assert list(reply.json()["errors"]) == [field]
    assert httpx.post(control, content=b"{", headers={"Content-Type": "application/json"}).status_code == 400
    assert httpx.get(control).json() == {"armed": {}}
    with pytest.raises(ValueError, match="refused"):
        mock.arm_fault("create_payout", "bogus")


def test_reset_empties_state_faults_counters_and_clock(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    create(api, check)
    clock_before = mock.stats()["clock"]
    mock.advance_clock(86400)
    mock.arm_fault("list_payouts", "status")
    mock.reset()
    stats = mock.stats()
    assert (stats["payouts_total"], stats["created"], stats["requests"]) == (0, 0, {})
    assert stats["clock"] < clock_before[:10] + "T99"
    assert stats["clock"][:10] == clock_before[:10]
    assert api.get("/payouts").status_code == 200
    assert create(api, check)["id"] == 1


def test_clock_control_is_validated(mock: MockServer) -> None:
    assert httpx.post(mock.root_url + "/_mock/clock", json={"advance_seconds": -1}).status_code == 422
    assert httpx.post(mock.root_url + "/_mock/clock", json={"advance_seconds": "1"}).status_code == 422
    before = httpx.get(mock.root_url + "/_mock/clock").json()
    after = mock.advance_clock(60)
    assert before["frozen"] is True
    assert after["now"] > before["now"]
    assert httpx.get(mock.root_url + "/_mock/nothing").status_code == 404
    assert httpx.get(mock.root_url + "/_mock/reset").status_code == 405


def test_drops_work_behind_middleware_that_wraps_send() -> None:
    """Without uvicorn's own `send`, the mock starts a reply it never finishes: still no response."""
    import socket
    import threading
    from typing import Any

    import uvicorn
    from fedapay_mock import create_app

    inner = create_app(freeze_clock=True)

    async def wrapper(scope: Any, receive: Any, send: Any) -> None:
        async def wrapped_send(message: Any) -> None:
            await send(message)

        await inner(scope, receive, wrapped_send)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(wrapper, log_level="critical", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        httpx.post(base + "/_mock/faults", json={"operation": "create_payout", "fault": "drop_after_store"})
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(base + "/v1/payouts", json=payout_body(), headers=AUTH)
        assert httpx.get(base + "/_mock/stats").json()["payouts_total"] == 1
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
