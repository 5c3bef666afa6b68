"""Every payouts operation over real HTTP against the mock, with the sync and the async client.

Each test checks what reached the server (method, path, query, headers, body), the typed result,
and the server's own state.
"""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING, Any

import pytest
from fedapay_payouts import ListMeta, NotFoundError, Payout, PayoutPage, PhoneNumber, UnprocessableEntityError

from tests.client.client_support import API_KEY, CUSTOMER, Api

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
LATER = datetime.datetime(2030, 1, 2, 10, 30, tzinfo=datetime.UTC)


def create(api: Api, client: Any, **overrides: Any) -> Payout:
    args: dict[str, Any] = {"amount": 1000, "currency": "XOF", "mode": "mtn_open", "customer": CUSTOMER}
    args.update(overrides)
    payout: Payout = api.call(client, lambda p: p.create(**args))
    return payout


def test_create_sends_the_payout_and_returns_a_typed_pending_payout(api: Api, fedapay_mock: MockServer) -> None:
    client = api.client()
    payout = create(api, client, merchant_reference="order-17", description="June salary",
                    custom_metadata={"order": 17})

    assert isinstance(payout, Payout)
    assert (payout.amount, payout.status, payout.mode, payout.merchant_reference) == (1000, "pending", "mtn_open",
                                                                                       "order-17")
    assert isinstance(payout.created_at, datetime.datetime)
    [sent] = api.sent
    assert (sent.method, sent.path, sent.query) == ("POST", "/v1/payouts", {})
    assert sent.body == {
        "amount": 1000,
        "currency": {"iso": "XOF"},
        "mode": "mtn_open",
        "customer": CUSTOMER,
        "description": "June salary",
        "merchant_reference": "order-17",
        "custom_metadata": {"order": 17},
    }
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.headers["content-type"] == "application/json"
    assert UUID4.fullmatch(sent.headers["idempotency-key"])
    stats = fedapay_mock.stats()
    assert (stats["created"], stats["by_status"]) == (1, {"pending": 1})


def test_create_for_an_existing_customer_by_id(api: Api, fedapay_mock: MockServer) -> None:
    from fedapay_payouts import CustomerRef

    client = api.client()
    first = create(api, client)
    by_dict = create(api, client, customer={"id": first.customer_id}, amount=2000)
    by_model = create(api, client, customer=CustomerRef(id=first.customer_id), amount=3000)

    assert by_dict.customer_id == by_model.customer_id == first.customer_id
    assert [sent.body["customer"] for sent in api.sent[1:]] == [{"id": first.customer_id}] * 2
    with pytest.raises(NotFoundError) as caught:
        create(api, client, customer={"id": first.customer_id + 50})
    assert caught.value.errors == {"customer.id": ["no customer with this id"]}
    assert len(api.sent) == 4  # a 404 is final: not retried
    assert fedapay_mock.stats()["created"] == 3


def test_each_create_gets_its_own_idempotency_key_and_a_given_key_is_used(api: Api, fedapay_mock: MockServer) -> None:
    client = api.client()
    first = create(api, client)
    second = create(api, client)
    again = create(api, client, idempotency_key="my-key-1")
    replay = create(api, client, idempotency_key="my-key-1")

    keys = [sent.headers["idempotency-key"] for sent in api.sent]
    assert keys[0] != keys[1]
    assert keys[2:] == ["my-key-1", "my-key-1"]
    assert len({first.id, second.id, again.id}) == 3
    assert replay.id == again.id
    stats = fedapay_mock.stats()
    assert (stats["created"], stats["idempotent_replays"]) == (3, 1)


def test_start_many_now_and_scheduled_with_a_phone_override(api: Api, fedapay_mock: MockServer) -> None:
    client = api.client()
    now, later = create(api, client), create(api, client)
    api.sent.clear()

    started = api.call(client, lambda p: p.start([
        now.id,
        {"id": later.id, "scheduled_at": LATER, "phone_number": {"number": "+22966000001", "country": "BJ"}},
    ]))

    [sent] = api.sent
    assert (sent.method, sent.path) == ("PUT", "/v1/payouts/start")
    assert sent.body == {"payouts": [
        {"id": now.id},
        {"id": later.id, "scheduled_at": "2030-01-02T10:30:00Z",
         "phone_number": {"number": "+22966000001", "country": "BJ"}},  # as given: the spec takes either case
    ]}
    assert [(p.id, p.status) for p in started] == [(now.id, "started"), (later.id, "scheduled")]
    assert started[1].scheduled_at == LATER
    assert fedapay_mock.stats()["by_status"] == {"started": 1, "scheduled": 1}


def test_send_now_then_the_payout_settles_to_sent(api: Api, fedapay_mock: MockServer) -> None:
    client = api.client()
    payout = create(api, client)
    api.sent.clear()

    started = api.call(client, lambda p: p.send_now(payout.id, phone_number=PhoneNumber("+22997000001", "bj")))
    fedapay_mock.advance_clock(5)
    settled = api.call(client, lambda p: p.retrieve(payout.id))

    assert api.sent[0].body == {"payouts": [{"id": payout.id, "phone_number": {"number": "+22997000001",
                                                                                "country": "bj"}}]}
    assert (started.id, started.status) == (payout.id, "started")
    assert (settled.status, settled.sent_at is not None) == ("sent", True)
    assert (api.sent[1].method, api.sent[1].path) == ("GET", f"/v1/payouts/{payout.id}")


def test_schedule_sends_scheduled_at_in_utc(api: Api, fedapay_mock: MockServer) -> None:
    client = api.client()
    payout = create(api, client)
    api.sent.clear()

    at = "2030-01-02T11:30:00+01:00"
    scheduled = api.call(client, lambda p: p.schedule(payout.id, at))

    assert api.sent[0].body == {"payouts": [{"id": payout.id, "scheduled_at": "2030-01-02T10:30:00Z"}]}
    assert (scheduled.status, scheduled.scheduled_at) == ("scheduled", LATER)
    assert fedapay_mock.stats()["by_status"] == {"scheduled": 1}


def test_list_sends_page_per_page_and_status_and_reads_items_and_meta(api: Api) -> None:
    client = api.client()
    ids = [create(api, client).id for _ in range(3)]
    api.call(client, lambda p: p.send_now(ids[0]))
    api.sent.clear()

    page = api.call(client, lambda p: p.list(page=1, per_page=2, status="pending"))

    [sent] = api.sent
    assert (sent.method, sent.path, sent.query) == ("GET", "/v1/payouts",
                                                    {"page": "1", "per_page": "2", "status": "pending"})
    assert isinstance(page, PayoutPage)
    assert [p.id for p in page] == [ids[2], ids[1]]
    assert isinstance(page.meta, ListMeta)
    assert (page.meta.total_count, page.next_page, page.has_more) == (2, None, False)


def test_auto_paging_iter_walks_every_page_lazily(api: Api) -> None:
    client = api.client()
    ids = [create(api, client).id for _ in range(5)]
    api.sent.clear()

    iterator = client.payouts.auto_paging_iter(per_page=2)
    assert api.sent == []  # nothing fetched until iterated
    payouts = api.collect(iterator)

    assert [p.id for p in payouts] == list(reversed(ids))
    assert [s.query for s in api.sent] == [{"page": str(n), "per_page": "2"} for n in (1, 2, 3)]


def test_the_walk_yields_every_payout_that_existed_when_payouts_are_created_during_it(
    fedapay_mock: MockServer,
) -> None:
    from fedapay_payouts import FedaPay

    with FedaPay(API_KEY, base_url=fedapay_mock.base_url) as client:
        order: dict[str, Any] = {"amount": 1000, "currency": "XOF", "mode": "moov", "customer": CUSTOMER}
        existing = {client.payouts.create(**order).id for _ in range(250)}
        walk = client.payouts.auto_paging_iter(per_page=100)
        seen = [next(walk).id]
        for _ in range(100):  # a page's worth created after the first page: pages 2 and 3 shift by one page
            client.payouts.create(**order)
        seen += [payout.id for payout in walk]
    assert existing <= set(seen)
    assert len(seen) == len(set(seen))


def test_update_sends_only_the_given_fields(api: Api) -> None:
    client = api.client()
    payout = create(api, client)
    api.sent.clear()

    updated = api.call(client, lambda p: p.update(payout.id, amount=1500, merchant_reference="order-18"))

    [sent] = api.sent
    assert (sent.method, sent.path, sent.body) == ("PUT", f"/v1/payouts/{payout.id}",
                                                   {"amount": 1500, "merchant_reference": "order-18"})
    assert (updated.id, updated.amount, updated.merchant_reference) == (payout.id, 1500, "order-18")


def test_update_moves_a_scheduled_payout_to_a_new_time(api: Api, fedapay_mock: MockServer) -> None:
    client = api.client()
    payout = create(api, client)
    api.call(client, lambda p: p.schedule(payout.id, LATER))
    paris = datetime.timezone(datetime.timedelta(hours=1))
    new_time = datetime.datetime(2030, 3, 4, 9, 15, tzinfo=paris)
    api.sent.clear()

    moved = api.call(client, lambda p: p.update(payout.id, scheduled_at=new_time))

    assert api.sent[0].body == {"scheduled_at": "2030-03-04T08:15:00Z"}  # sent in UTC
    assert (moved.status, moved.scheduled_at) == ("scheduled", new_time)
    pending = create(api, client)
    with pytest.raises(UnprocessableEntityError) as caught:
        api.call(client, lambda p: p.update(pending.id, scheduled_at=LATER))
    assert list(caught.value.errors) == ["scheduled_at"]
    assert fedapay_mock.stats()["by_status"] == {"scheduled": 1, "pending": 1}


def test_delete_removes_the_payout(api: Api, fedapay_mock: MockServer) -> None:
    client = api.client()
    payout = create(api, client)
    api.sent.clear()

    assert api.call(client, lambda p: p.delete(payout.id)) is None
    with pytest.raises(NotFoundError) as caught:
        api.call(client, lambda p: p.retrieve(payout.id))

    assert [(s.method, s.path) for s in api.sent] == [("DELETE", f"/v1/payouts/{payout.id}"),
                                                      ("GET", f"/v1/payouts/{payout.id}")]
    assert caught.value.status_code == 404
    assert fedapay_mock.stats()["deleted"] == 1


def test_a_client_without_injected_http_client_works_and_reuses_its_connection(api: Api) -> None:
    client = api.client(record=False)
    payout = create(api, client)
    assert api.call(client, lambda p: p.retrieve(payout.id)).id == payout.id
    # Sequential calls take the same place (the free places are a stack), so its one connection serves both.
    made = [slot.transport for slot in client._turns.slots if slot.transport is not None]
    assert len(made) == 1
    assert len(made[0]._pool.connections) == 1  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_async_client_as_context_manager_runs_calls_concurrently(fedapay_mock: MockServer) -> None:
    from fedapay_payouts import AsyncFedaPay

    async with AsyncFedaPay(API_KEY, base_url=fedapay_mock.base_url) as client:
        import asyncio

        payouts = await asyncio.gather(*(
            client.payouts.create(amount=100 + n, currency="XOF", mode="moov", customer=CUSTOMER) for n in range(8)
        ))
        assert sorted(p.amount for p in payouts) == [100 + n for n in range(8)]
        assert client._http.is_closed is False
    assert client._http.is_closed is True
    assert fedapay_mock.stats()["created"] == 8


def test_search_finds_a_payout_by_merchant_reference_or_reference(api: Api, fedapay_mock: MockServer) -> None:
    client = api.client()
    wanted = api.call(client, lambda p: p.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER,
                                                 merchant_reference="payroll-2026-11-row-7"))
    api.call(client, lambda p: p.create(amount=2000, currency="XOF", mode="moov", customer=CUSTOMER,
                                        merchant_reference="other"))

    by_merchant_reference = api.call(client, lambda p: p.search(search="payroll-2026-11-row-7"))
    by_reference = api.call(client, lambda p: p.search(search=wanted.reference))

    assert [p.id for p in by_merchant_reference] == [wanted.id]
    assert [p.id for p in by_reference] == [wanted.id]
    assert api.sent[-1].method == "GET"
    assert api.sent[-1].path == "/v1/payouts/search"
    assert api.sent[-1].query["search"] == wanted.reference
