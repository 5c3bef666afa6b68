"""Reply shapes the mock does not send (bare objects, the docs' form) and retry branches the mock
cannot stage (a partial start, a 422 after a lost reply), with a scripted `httpx.MockTransport`."""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fedapay_payouts import (
    APIResponseValidationError,
    FedaPay,
    PayoutOutcomeUnknownError,
    RateLimitError,
    RetryPolicy,
    UnprocessableEntityError,
)

PAYOUT: dict[str, Any] = {
    "klass": "v1/payout", "id": 7, "reference": "ref", "amount": 1000, "status": "pending", "customer_id": 1,
    "currency_id": 1, "mode": "mtn_open", "created_at": "2024-10-24T17:27:45.677Z",
    "updated_at": "2024-10-24T17:27:45.677Z", "sent_at": None,
}
Handler = Callable[[httpx.Request], httpx.Response]


def payout(**changes: Any) -> dict[str, Any]:
    return {**PAYOUT, **changes}


def scripted(
    *steps: Handler | BaseException, sleeps: list[float] | None = None
) -> tuple[FedaPay, list[httpx.Request]]:
    """A client whose transport plays `steps` in order: a handler's reply, or an exception raised; each
    back-off wait is recorded in `sleeps` (none is waited for)."""
    seen: list[httpx.Request] = []
    queue: Iterator[Handler | BaseException] = iter(steps)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = next(queue)
        if isinstance(step, BaseException):
            raise step
        return step(request)

    waits = sleeps if sleeps is not None else []
    client = FedaPay("sk_sandbox_x", http_client=httpx.Client(transport=httpx.MockTransport(handle)),
                     retry_policy=RetryPolicy(2, initial_delay=0.0), sleep=waits.append)
    return client, seen


def reply(status: int, body: Any) -> Handler:
    return lambda request: httpx.Response(status, json=body)


@pytest.mark.parametrize("body", [
    {"v1/payout": payout(status="brand_new_status", surprise={"x": 1})},
    payout(status="brand_new_status", surprise={"x": 1}),
], ids=["envelope", "bare object (docs)"])
def test_a_payout_reads_from_the_envelope_or_bare_and_never_minds_new_values(body: Any) -> None:
    client, _ = scripted(reply(200, body))
    result = client.payouts.retrieve(7)
    assert (result.id, result.status, result.additional_properties) == (7, "brand_new_status", {"surprise": {"x": 1}})


def test_a_list_reads_the_envelope_with_meta() -> None:
    meta = {"current_page": 1, "next_page": 2, "prev_page": None, "total_pages": 2, "total_count": 3, "per_page": 2}
    client, _ = scripted(reply(200, {"v1/payouts": [payout(id=2), payout(id=1)], "meta": meta, "extra": True}))
    page = client.payouts.list(per_page=2)
    assert ([p.id for p in page], page.next_page, page.total_count) == ([2, 1], 2, 3)


def test_a_bare_array_list_pages_on_until_a_short_page() -> None:
    client, seen = scripted(
        reply(200, [payout(id=3), payout(id=2)]),
        reply(200, [payout(id=1)]),
    )
    assert [p.id for p in client.payouts.auto_paging_iter(per_page=2)] == [3, 2, 1]
    assert [r.url.params["page"] for r in seen] == ["1", "2"]


def test_a_server_ignoring_page_cannot_make_the_walk_loop() -> None:
    everything = [payout(id=2), payout(id=1)]
    client, seen = scripted(reply(200, everything), reply(200, everything))
    assert [p.id for p in client.payouts.auto_paging_iter(per_page=2)] == [2, 1]
    assert len(seen) == 2


@pytest.mark.parametrize("body", [{"v1/payouts": [payout(status="started")]}, [payout(status="started")]],
                         ids=["envelope", "bare array (docs)"])
def test_a_start_reply_reads_either_shape(body: Any) -> None:
    client, _ = scripted(reply(200, body))
    assert client.payouts.send_now(7).status == "started"


def _now_iso(offset: float = 0.0) -> str:
    import datetime

    return (datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=offset)).isoformat()


def test_a_start_whose_reply_was_lost_and_then_refused_with_422_is_confirmed_by_a_check() -> None:
    not_pending = {"message": "not pending", "errors": {"payouts[0].id": ["payout 7 is started"]}}
    def slow_then_lost(request: httpx.Request) -> httpx.Response:
        time.sleep(0.005)  # the server works a few ms: its timestamps fall clearly after the call began
        raise httpx.ReadTimeout("timed out", request=request)

    client, seen = scripted(
        slow_then_lost,                          # 1st start: sent, reply lost
        reply(200, {"v1/payout": payout()}),     # check: still pending (the server was slow)
        reply(422, not_pending),                 # 2nd start: refused, the 1st had started it meanwhile
        lambda r: httpx.Response(200, json={"v1/payout": payout(status="started", started_at=_now_iso())}),
    )
    started = client.payouts.send_now(7)
    assert started.status == "started"
    assert [(r.method, r.url.path) for r in seen] == [
        ("PUT", "/v1/payouts/start"), ("GET", "/v1/payouts/7"), ("PUT", "/v1/payouts/start"), ("GET", "/v1/payouts/7"),
    ]


def test_a_422_after_a_check_that_found_the_payout_pending_is_the_servers_own_answer() -> None:
    # Checked after the server's 422: the payout is still pending, so no attempt started it and the
    # 422 is what the fault-free call gets.
    client, seen = scripted(
        httpx.ReadError("reset"),
        reply(200, {"v1/payout": payout()}),
        reply(422, {"message": "Invalid phone"}),
        reply(200, {"v1/payout": payout()}),     # after the 422: still pending, so the 422 stands
    )
    with pytest.raises(UnprocessableEntityError) as caught:
        client.payouts.send_now(7)
    assert not isinstance(caught.value, PayoutOutcomeUnknownError)
    assert caught.value.message == "Invalid phone"
    assert [r.method for r in seen] == ["PUT", "GET", "PUT", "GET"]


def test_a_partly_applied_start_is_outcome_unknown_and_starts_nothing_more() -> None:
    # FedaPay starts all or nothing: one payout started and one pending after a lost reply is no state
    # this call can explain, so it claims nothing and sends nothing more.
    client, seen = scripted(
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        lambda r: httpx.Response(200, json={"v1/payout": payout(id=1, status="started", started_at=_now_iso())}),
        reply(200, {"v1/payout": payout(id=2)}),
    )
    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        client.payouts.start([1, 2])
    assert caught.value.payout_ids == [1, 2]
    assert set(caught.value.found) == {1, 2}
    assert caught.value.found[2].startswith("pending")
    assert [r.method for r in seen] == ["PUT", "GET", "GET"]
    assert json.loads(seen[0].content) == {"payouts": [{"id": 1}, {"id": 2}]}


def test_a_failed_check_is_outcome_unknown_naming_the_payouts() -> None:
    client, _ = scripted(
        httpx.ReadTimeout("timed out"),
        *([httpx.ConnectError("refused")] * 3),  # the check cannot reach the server either
    )
    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        client.payouts.start([7])
    assert caught.value.payout_ids == [7]


def test_retry_after_as_an_http_date_is_obeyed() -> None:
    import email.utils
    import time

    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    sleeps: list[float] = []
    client, _ = scripted(lambda r: httpx.Response(429, json={"message": "slow"}, headers={"Retry-After": when}),
                         reply(200, {"v1/payout": payout()}), sleeps=sleeps)
    client.payouts.retrieve(7)
    assert len(sleeps) == 1
    assert 28 <= sleeps[0] <= 30


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(5, initial_delay=0.5, max_delay=2.0)
    delays = [policy.delay(n, None) for n in range(4)]
    for delay, base in zip(delays, [0.5, 1.0, 2.0, 2.0], strict=True):
        assert delay is not None
        assert 0.75 * base <= delay <= base


def _page(items: list[dict[str, Any]], current: int, total_pages: int) -> Handler:
    meta = {"current_page": current, "next_page": current + 1 if current < total_pages else None,
            "prev_page": current - 1 or None, "total_pages": total_pages, "total_count": 2 * total_pages,
            "per_page": 2}
    return reply(200, {"v1/payouts": items, "meta": meta})


def test_the_walk_goes_through_a_page_that_payouts_created_meanwhile_pushed_down() -> None:
    # Page 1 is [4, 3]; two payouts created before page 2 is fetched push 4 and 3 onto it: nothing new there,
    # yet 2 and 1, which existed when the walk began, are on page 3. The walk used to stop on page 2.
    client, seen = scripted(
        _page([payout(id=4), payout(id=3)], 1, 2),
        _page([payout(id=4), payout(id=3)], 2, 3),
        _page([payout(id=2), payout(id=1)], 3, 3),
    )
    assert [p.id for p in client.payouts.auto_paging_iter(per_page=2)] == [4, 3, 2, 1]
    assert [r.url.params["page"] for r in seen] == ["1", "2", "3"]


def test_a_server_ignoring_page_with_page_info_cannot_make_the_walk_endless() -> None:
    from fedapay_payouts._pagination import MAX_STALE_PAGES

    everything = [payout(id=2), payout(id=1)]
    client, seen = scripted(*(_page(everything, 1, 10_000) for _ in range(MAX_STALE_PAGES + 5)))
    # The server says page 1 whatever is asked: the walk stops at the second page, and says why (it cannot
    # tell what it skipped) instead of ending as if it had seen every payout.
    walked: list[int] = []
    with pytest.raises(APIResponseValidationError, match="asked for page 2, the server answered page 1"):
        walked.extend(p.id for p in client.payouts.auto_paging_iter(per_page=2))
    assert walked == [2, 1]
    assert len(seen) == 2


def test_a_server_naming_ever_more_pages_with_nothing_new_ends_the_walk_saying_payouts_may_be_missing() -> None:
    """Page after page repeating what was yielded while a next page is still named: payouts created faster than
    the walk push every page down. The walk used to end there as if it were complete (ninth review)."""
    from fedapay_payouts._pagination import MAX_STALE_PAGES

    everything = [payout(id=2), payout(id=1)]
    client, seen = scripted(*(_page(everything, n, 10_000) for n in range(1, MAX_STALE_PAGES + 5)))
    walked: list[int] = []
    with pytest.raises(APIResponseValidationError, match="payouts may be missing"):
        walked.extend(p.id for p in client.payouts.auto_paging_iter(per_page=2))
    assert walked == [2, 1]
    assert len(seen) == MAX_STALE_PAGES + 2  # the first page, then MAX_STALE_PAGES + 1 with nothing new


def test_a_page_listing_a_payout_twice_yields_it_once() -> None:
    client, _ = scripted(_page([payout(id=5), payout(id=5), payout(id=6)], 1, 1))
    assert [p.id for p in client.payouts.auto_paging_iter(per_page=3)] == [5, 6]


def test_an_unknown_outcome_never_quotes_its_last_attempt_as_nothing_happened() -> None:
    # The first attempt may have reached the server (the connection dropped while reading); the retry could not
    # connect. "Nothing happened on the server" was said of that last attempt, inside an error saying it may have.
    from fedapay_payouts import PayoutOutcomeUnknownError, RetryPolicy

    read_dropped = httpx.ReadError("connection reset")
    refused = httpx.ConnectError("connection refused")
    client, seen = scripted(read_dropped, refused)
    client = client.with_options(retry_policy=RetryPolicy(1, initial_delay=0.0))
    with pytest.raises(PayoutOutcomeUnknownError) as caught:
        client.payouts.create(amount=1000, currency="XOF", mode="moov",
                              customer={"firstname": "A", "lastname": "B"})
    assert "nothing happened on the server" not in caught.value.message
    assert "this attempt was not sent, but an earlier one may have reached the server" in caught.value.message
    assert len(seen) == 2


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1_5", "\uff15", "\u0663", "1e3", "-5", "0x10"])
def test_a_retry_after_that_is_no_number_of_seconds_is_ignored(value: str) -> None:
    """`nan` was a 0 s wait (every retry at once against a 429), `inf` a RateLimitError.retry_after that crashed
    `time.sleep`, `1_5` and non-ASCII digits were read as numbers: only RFC 9110's ASCII digits are seconds."""
    from fedapay_payouts._wire import retry_after

    reply = httpx.Response(429, headers=[(b"Retry-After", value.encode())])  # as bytes: a server sends any
    assert retry_after(reply) is None


def test_a_huge_retry_after_is_a_finite_long_wait() -> None:
    from fedapay_payouts._wire import MAX_RETRY_AFTER, retry_after

    assert retry_after(httpx.Response(429, headers={"Retry-After": "9" * 400})) == MAX_RETRY_AFTER


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo", "UTC"])
@pytest.mark.parametrize("form", ["%a %b %d %H:%M:%S %Y", "%a, %d %b %Y %H:%M:%S -0000"], ids=["asctime", "-0000"])
def test_a_retry_after_date_without_a_zone_is_gmt_on_a_machine_in_any_zone(
    zone: str, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 9110: HTTP dates are GMT. The asctime form was read as local time: 20 s became 18,019 s in New York."""
    import time

    from fedapay_payouts._wire import retry_after

    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        when = time.strftime(form, time.gmtime(time.time() + 20))
        waited = retry_after(httpx.Response(429, headers={"Retry-After": when}))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert waited is not None
    assert 17 <= waited <= 21


@pytest.mark.parametrize("operation", [
    lambda p, at: p.schedule(7, at),
    lambda p, at: p.start([{"id": 7, "scheduled_at": at}]),
    lambda p, at: p.update(7, scheduled_at=at),
    lambda p, at: p.call("start_payouts", body={"payouts": [{"id": 7, "scheduled_at": at}]}),
    lambda p, at: p.call("update_payout", id=7, scheduled_at=at),
], ids=["schedule", "start", "update", "call start", "call update"])
def test_a_schedule_a_rate_limit_wait_would_pass_is_not_sent_again(operation: Callable[[Any, Any], Any]) -> None:
    """A 429 asking 30 s for a start scheduled 20 s ahead: sent again after the wait, it asked for a time already
    past (FedaPay refuses it or starts the payout at once). The 429 is raised instead, saying why; nothing else
    went out (a 429 is a refusal: the server did nothing)."""
    sleeps: list[float] = []
    client, seen = scripted(
        lambda r: httpx.Response(429, json={"message": "slow"}, headers={"Retry-After": "30"}),
        reply(200, {"v1/payout": payout(status="scheduled")}), sleeps=sleeps,
    )
    soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=20)  # ahead now, past in 30 s
    with pytest.raises(RateLimitError) as caught:
        operation(client.payouts, soon)
    assert (len(seen), sleeps) == (1, [])
    assert any("not sent again: the scheduled time" in note for note in caught.value.__notes__)


def test_a_schedule_a_rate_limit_wait_leaves_in_the_future_is_sent_again() -> None:
    later = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)).replace(microsecond=0)
    at = later.isoformat().replace("+00:00", "Z")
    sleeps: list[float] = []
    client, seen = scripted(
        lambda r: httpx.Response(429, json={"message": "slow"}, headers={"Retry-After": "30"}),
        reply(200, {"v1/payouts": [payout(status="scheduled", scheduled_at=at)]}), sleeps=sleeps,
    )
    assert client.payouts.schedule(7, later).status == "scheduled"
    assert (len(seen), sleeps) == (2, [30.0])


@pytest.mark.parametrize("meta", [
    {"current_page": 1, "next_page": None, "prev_page": None, "total_pages": 1, "total_count": -5, "per_page": 2},
    {"current_page": 1, "next_page": None, "prev_page": None, "total_pages": -1, "total_count": 2, "per_page": 2},
    {"current_page": 0, "next_page": None, "prev_page": None, "total_pages": 1, "total_count": 2, "per_page": 2},
], ids=["negative total_count", "negative total_pages", "page 0"])
def test_page_info_that_cannot_be_true_is_refused(meta: dict[str, Any]) -> None:
    """A negative total was handed on as `page.total_count` (tenth review): page info no list can have."""
    answer = reply(200, {"v1/payouts": [payout(id=2), payout(id=1)], "meta": meta})
    client, seen = scripted(answer, answer, answer)  # a read is asked again: the same answer each time
    with pytest.raises(APIResponseValidationError, match="its page info has a"):
        client.payouts.list(per_page=2)
    assert len(seen) == 3
