"""Issue 9, class 6: however malformed a reply, every call ends in a FedaPayError, never a plain Python error.

Replies nested 100,000 levels deep (success and error bodies), ids that cannot be hashed or compared,
page info of the wrong type: each is refused as `APIResponseValidationError` (or, after a request that
changes something, an error saying the server may have acted), served by a raw loopback server.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fedapay_payouts import (
    APIResponseValidationError,
    FedaPayError,
    InternalServerError,
    PayoutOutcomeUnknownError,
    UnprocessableEntityError,
)

from tests.client.client_support import CUSTOMER
from tests.client.hostile_server import HostileServer, payout, reply
from tests.client.twin_support import Twin

DEEP = 100_000


def deep_array(depth: int = DEEP) -> bytes:
    return b"[" * depth + b"]" * depth


def deep_object(depth: int = DEEP) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def with_field(data: dict[str, Any], name: str, raw_json: bytes) -> bytes:
    """`{"v1/payout": data}` with one more field whose value is `raw_json` as is."""
    encoded = orjson.dumps(data)
    return b'{"v1/payout": ' + encoded[:-1] + b', "' + name.encode() + b'": ' + raw_json + b"}}"


def page(items: list[Any], **meta: Any) -> dict[str, Any]:
    info = {"current_page": 1, "next_page": None, "prev_page": None, "total_pages": 1, "total_count": len(items),
            "per_page": 25, **meta}
    return {"v1/payouts": items, "meta": info}


def says_the_server_may_have_acted(error: BaseException) -> bool:
    return isinstance(error, PayoutOutcomeUnknownError) or (
        isinstance(error, APIResponseValidationError) and "the server may have acted" in str(error)
    )


# Replies to GET /payouts/5 that the client must refuse as unreadable.
UNREADABLE_PAYOUTS: dict[str, bytes | dict[str, Any]] = {
    "nested 100k deep (array)": deep_array(),
    "nested 100k deep (object)": deep_object(),
    "nested 100k deep after a 20-digit number (the stdlib parser's path)": b"[" + b"1" * 20 + b"," + deep_array()[1:],
    "custom_metadata nested 100k deep": with_field(payout(5), "custom_metadata", deep_object()),
    "custom_metadata nested 500 deep (orjson reads it; repr and json.dumps could not)": with_field(
        payout(5), "custom_metadata", deep_object(500)
    ),
    "id is a list": {"v1/payout": payout([5])},
    "id is an object": {"v1/payout": payout({"id": 5})},
    "id is a string": {"v1/payout": payout("5")},
    "id is true": {"v1/payout": payout(True)},
    "status is null": {"v1/payout": payout(5, status=None)},
    "status is a list": {"v1/payout": payout(5, status=["sent"])},
    "amount is a string": {"v1/payout": payout(5, amount="1000")},
    "scheduled_at is a number": {"v1/payout": payout(5, scheduled_at=12)},
}


@pytest.mark.parametrize("body", list(UNREADABLE_PAYOUTS.values()), ids=list(UNREADABLE_PAYOUTS))
def test_a_malformed_payout_reply_is_a_validation_error(
    twin: Twin, hostile_server: HostileServer, body: bytes | dict[str, Any]
) -> None:
    hostile_server.script(reply(200, body))

    with pytest.raises(FedaPayError) as caught:
        twin.call(lambda p: p.retrieve(5), max_retries=0)

    assert type(caught.value) is APIResponseValidationError
    assert caught.value.status_code == 200
    assert "GET /v1/payouts/5 replied 200 but" in str(caught.value)


@pytest.mark.parametrize("body", [deep_array(), deep_object()], ids=["array", "object"])
@pytest.mark.parametrize(("status", "error"), [(422, UnprocessableEntityError), (500, InternalServerError)])
def test_an_error_reply_nested_100k_deep_keeps_its_status(
    twin: Twin, hostile_server: HostileServer, body: bytes, status: int, error: type[FedaPayError]
) -> None:
    hostile_server.script(reply(status, body, reason="Whatever"))

    with pytest.raises(FedaPayError) as caught:
        twin.call(lambda p: p.retrieve(5), max_retries=0)

    assert type(caught.value) is error
    assert caught.value.message == "Whatever"  # type: ignore[attr-defined]


def test_a_create_whose_201_is_nested_100k_deep_says_the_payout_may_exist(
    twin: Twin, hostile_server: HostileServer
) -> None:
    hostile_server.script(reply(201, deep_object()))

    with pytest.raises(FedaPayError) as caught:
        twin.call(lambda p: p.create(amount=900, currency="XOF", mode="moov", customer=CUSTOMER), max_retries=0)

    assert says_the_server_may_have_acted(caught.value)
    assert len(hostile_server.received) == 1


@pytest.mark.parametrize(
    "started",
    [payout([5], status="started"), payout({"a": 1}, status="started"), payout(5, status=None)],
    ids=["id is a list", "id is an object", "status is null"],
)
def test_a_start_reply_with_unusable_payouts_says_the_payouts_may_have_started(
    twin: Twin, hostile_server: HostileServer, started: dict[str, Any]
) -> None:
    hostile_server.script(reply(200, {"v1/payouts": [started]}))

    with pytest.raises(FedaPayError) as caught:
        twin.call(lambda p: p.start([5]), max_retries=0)

    assert says_the_server_may_have_acted(caught.value)


PAGES: dict[str, dict[str, Any]] = {
    "meta.next_page is a string": page([payout(5)], next_page="2"),
    "meta.current_page is null": page([payout(5)], current_page=None),
    "meta.per_page is a float": page([payout(5)], per_page=2.5),
    "meta.current_page is 0": page([payout(5)], current_page=0),
    "meta is a list": {"v1/payouts": [payout(5)], "meta": [1]},
    "an id is a list": page([payout([5])]),
    "an id is an object": page([payout({"x": 1})]),
}


@pytest.mark.parametrize("body", list(PAGES.values()), ids=list(PAGES))
def test_a_malformed_page_is_a_validation_error_for_list_and_the_walk(
    twin: Twin, hostile_server: HostileServer, body: dict[str, Any]
) -> None:
    hostile_server.script(reply(200, body))

    with pytest.raises(FedaPayError) as listed:
        twin.call(lambda p: p.list(), max_retries=0)
    assert type(listed.value) is APIResponseValidationError

    def walk(payouts: Any) -> Any:
        iterator = payouts.auto_paging_iter()
        if twin.mode == "sync":
            return list(iterator)

        async def collect() -> list[Any]:
            return [item async for item in iterator]

        return collect()

    with pytest.raises(FedaPayError) as walked:
        twin.call(walk, max_retries=0)
    assert type(walked.value) is APIResponseValidationError


def test_a_well_formed_page_still_reads(twin: Twin, hostile_server: HostileServer) -> None:
    """The checks refuse only what is malformed: nulls where the spec allows them, unknown fields, 64 levels."""
    nested: Any = 1
    for _ in range(56):
        nested = {"a": nested}
    item = payout(5, scheduled_at=None, sent_at="2026-01-05T11:00:00Z", fees=None, novel_field={"x": [1]},
                  custom_metadata=nested)
    hostile_server.script(reply(200, page([item], next_page=None, total_count=1)))

    result = twin.call(lambda p: p.list(), max_retries=0)

    assert [p.id for p in result.items] == [5]
    assert (result.page, result.next_page, result.total_count) == (1, None, 1)
    assert result.items[0].additional_properties["novel_field"] == {"x": [1]}


def _walk_all(twin: Twin) -> list[int]:
    def walk(payouts: Any) -> Any:
        iterator = payouts.auto_paging_iter(per_page=2)
        if twin.mode == "sync":
            return [item.id for item in iterator]

        async def collect() -> list[int]:
            return [item.id async for item in iterator]

        return collect()

    result: list[int] = twin.call(walk, max_retries=0)
    return result


def test_a_walk_fetches_every_page_even_when_the_server_names_a_later_one(
    twin: Twin, hostile_server: HostileServer
) -> None:
    """Page 1 naming page 3 as next skipped payouts 3 and 4 without a word: the walk goes page after page."""
    hostile_server.script(
        reply(200, page([payout(1), payout(2)], next_page=3, total_pages=3, total_count=6, per_page=2)),
        reply(200, page([payout(3), payout(4)], current_page=2, next_page=3, total_pages=3, total_count=6,
                        per_page=2)),
        reply(200, page([payout(5), payout(6)], current_page=3, next_page=None, total_pages=3, total_count=6,
                        per_page=2)),
    )
    assert _walk_all(twin) == [1, 2, 3, 4, 5, 6]
    assert [request.path.split("page=")[1].split("&")[0] for request in hostile_server.received] == ["1", "2", "3"]


@pytest.mark.parametrize("answered", [3, 1], ids=["a later page", "the first page again (page ignored)"])
def test_a_walk_answered_with_another_page_than_asked_fails_instead_of_skipping(
    twin: Twin, hostile_server: HostileServer, answered: int
) -> None:
    hostile_server.script(
        reply(200, page([payout(1), payout(2)], next_page=2, total_pages=3, total_count=6, per_page=2)),
        reply(200, page([payout(5), payout(6)] if answered == 3 else [payout(1), payout(2)], current_page=answered,
                        next_page=None if answered == 3 else 2, total_pages=3, total_count=6, per_page=2)),
    )
    with pytest.raises(APIResponseValidationError, match=f"asked for page 2, the server answered page {answered}"):
        _walk_all(twin)
