"""Every form of `scheduled_at` the spec accepts is read as the spec says (no zone: UTC; Ruby's `UTC` and
`+0100`), checked against the clock, and sent as the instant it names, UTC with a `Z` (round-3 review):

- a past time in Ruby's form used to pass unchecked and send the payout at once;
- a time without a zone was read "in any zone" (14 hours of slack), so a time passed an hour ago was sent;
- a schedule in FedaPay's own form always ended in PayoutOutcomeUnknownError, although it worked, since the
  reply's `...Z` could not be compared with the text sent;
- a start reply showing the payout sent now when a later time was asked was taken as success.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fedapay_payouts import FedaPay, InvalidArgumentError, PayoutOutcomeUnknownError, RetryPolicy

from tests.client.client_support import API_KEY, CUSTOMER

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

UTC = datetime.UTC


def forms(when: datetime.datetime) -> dict[str, str]:
    """`when` (UTC, whole seconds) in every form the spec's pattern accepts."""
    plus_one = when.astimezone(datetime.timezone(datetime.timedelta(hours=1)))
    return {
        "ISO Z": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ISO offset": plus_one.isoformat(),
        "FedaPay (no zone)": when.strftime("%Y-%m-%d %H:%M:%S"),
        "Ruby UTC": when.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "Ruby +0100": plus_one.strftime("%Y-%m-%d %H:%M:%S +0100"),
        "fraction": when.strftime("%Y-%m-%dT%H:%M:%S.123456789Z"),
    }


PAST = datetime.datetime.now(UTC).replace(microsecond=0) - datetime.timedelta(hours=1)
FUTURE = datetime.datetime(2030, 1, 2, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", list(forms(PAST).values()), ids=list(forms(PAST)))
def test_a_time_passed_an_hour_ago_is_refused_in_every_form_before_any_request(
    fedapay_mock: MockServer, text: str
) -> None:
    with FedaPay(API_KEY, base_url=fedapay_mock.base_url) as client:
        payout = client.payouts.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER)
        before = fedapay_mock.stats()["requests"]
        acts: list[tuple[Callable[[], object], str]] = [
            (lambda: client.payouts.schedule(payout.id, text), "at"),
            (lambda: client.payouts.start([{"id": payout.id, "scheduled_at": text}]), "payouts[0].scheduled_at"),
            (lambda: client.payouts.update(payout.id, scheduled_at=text), "scheduled_at"),
        ]
        for act, field in acts:
            with pytest.raises(InvalidArgumentError, match="is not in the future") as caught:
                act()
            assert caught.value.argument == field
        assert fedapay_mock.stats()["requests"] == before  # nothing went out
        assert client.payouts.retrieve(payout.id).status == "pending"


@pytest.mark.parametrize("text", list(forms(FUTURE).values()), ids=list(forms(FUTURE)))
def test_a_future_time_in_every_form_schedules_at_that_instant_in_one_request(
    fedapay_mock: MockServer, text: str
) -> None:
    with FedaPay(API_KEY, base_url=fedapay_mock.base_url) as client:
        one, two = (client.payouts.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER)
                    for _ in range(2))
        expected = FUTURE + (datetime.timedelta(microseconds=123457) if "." in text else datetime.timedelta())
        scheduled = client.payouts.schedule(one.id, text)
        both = client.payouts.start([two.id], scheduled_at=text)
        for found in (scheduled, *both, client.payouts.retrieve(one.id)):
            assert found.status == "scheduled"
            assert isinstance(found.scheduled_at, datetime.datetime)
            assert abs(found.scheduled_at - expected) <= datetime.timedelta(milliseconds=1)
        assert fedapay_mock.stats()["requests"]["start_payouts"] == 2  # no look-up, no second start


def test_the_instant_is_sent_as_utc_with_a_z() -> None:
    sent: list[Any] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        return httpx.Response(422, json={"message": "stop here"})

    client = FedaPay(API_KEY, max_retries=0, http_client=httpx.Client(transport=httpx.MockTransport(record)))
    for text in forms(FUTURE).values():
        with pytest.raises(Exception, match="stop here"):
            client.payouts.schedule(7, text)
    assert {body.split(b'"scheduled_at":"')[1].split(b'"')[0] for body in sent} == {
        b"2030-01-02T10:30:00Z", b"2030-01-02T10:30:00.123456Z"
    }


@pytest.mark.parametrize("status", ["started", "sent"])
def test_a_start_reply_showing_the_payout_sent_now_when_a_later_time_was_asked_is_not_success(status: str) -> None:
    now = datetime.datetime.now(UTC).isoformat()
    body = {"v1/payouts": [{
        "klass": "v1/payout", "id": 7, "reference": "r", "amount": 1000, "status": status, "customer_id": 1,
        "currency_id": 1, "mode": "moov", "created_at": now, "updated_at": now, "started_at": now,
    }]}
    client = FedaPay(API_KEY, retry_policy=RetryPolicy(0), http_client=httpx.Client(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json=body))))
    with pytest.raises(PayoutOutcomeUnknownError, match="not scheduled for 2030-01-02T10:30:00Z as asked"):
        client.payouts.schedule(7, "2030-01-02 10:30:00")


@pytest.mark.parametrize("text", ["9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59.9995Z"])
def test_a_schedule_in_the_last_millisecond_of_9999_is_compared_exactly(fedapay_mock: MockServer, text: str) -> None:
    # The client sends .999999Z, the mock keeps milliseconds (.999Z): 999 µs apart, within the tolerance. As
    # floats of seconds (good to about 30 µs that far out) the two came out more than 1 ms apart: an unknown outcome.
    with FedaPay(API_KEY, base_url=fedapay_mock.base_url) as client:
        first, second = (client.payouts.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER)
                         for _ in range(2))
        assert client.payouts.schedule(first.id, text).status == "scheduled"
        assert client.payouts.schedule(second.id, "2031-01-01T00:00:00Z").status == "scheduled"
        assert client.payouts.update(second.id, scheduled_at=text).status == "scheduled"
