"""Issue 9, class 8: a reply's body is read up to a limit (decoded bytes), never whole, sync and async.

A raw loopback server streams a 64 MB body, or a 200 KB gzip bomb that inflates to 200 MB. The
client stops reading past `max_response_bytes` (10 MiB by default), closes the connection, and
raises a typed error; memory is measured with tracemalloc (today's client holds the whole body, and
joins it: over 128 MB for the 64 MB body).
"""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from typing import Any

import orjson
import pytest
from fedapay_payouts import (
    APIResponseValidationError,
    AsyncFedaPay,
    FedaPay,
    FedaPayError,
    InternalServerError,
    InvalidArgumentError,
    PayoutOutcomeUnknownError,
)

from tests.client.client_support import API_KEY, CUSTOMER
from tests.client.hostile_server import HostileServer, gzip_bomb, huge, payout, reply
from tests.client.twin_support import Twin

MiB = 1 << 20
BOUND = 32 * MiB  # peak memory allowed for reading one refused reply with the default 10 MiB limit


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = gzip_bomb(200 * MiB)
    assert len(data) < 300_000
    return data


def peak_memory_of(twin: Twin, operation: Any, **options: Any) -> tuple[BaseException, int]:
    tracemalloc.start()
    try:
        with pytest.raises(FedaPayError) as caught:
            twin.call(operation, **options)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return caught.value, peak


def test_a_64_mb_body_is_not_read(twin: Twin, hostile_server: HostileServer) -> None:
    hostile_server.script(huge(64 * MiB))

    error, peak = peak_memory_of(twin, lambda p: p.retrieve(5), max_retries=0)

    assert type(error) is APIResponseValidationError
    assert f"larger than the {10 * MiB}-byte limit" in str(error)
    assert peak < BOUND, f"peak {peak / MiB:.1f} MiB"
    assert hostile_server.bytes_sent < 40 * MiB  # the client hung up long before the end


def test_a_gzip_bomb_is_not_inflated(twin: Twin, hostile_server: HostileServer, bomb: bytes) -> None:
    hostile_server.script(reply(200, bomb, headers={"Content-Encoding": "gzip"}))

    error, peak = peak_memory_of(twin, lambda p: p.retrieve(5), max_retries=0)

    assert type(error) is APIResponseValidationError
    assert "limit" in str(error)
    assert peak < BOUND, f"peak {peak / MiB:.1f} MiB"


def test_a_create_whose_reply_is_too_large_may_have_created_the_payout(
    twin: Twin, hostile_server: HostileServer, bomb: bytes
) -> None:
    hostile_server.script(reply(201, bomb, headers={"Content-Encoding": "gzip"}))

    error, peak = peak_memory_of(
        twin, lambda p: p.create(amount=900, currency="XOF", mode="moov", customer=CUSTOMER), max_retries=0
    )

    assert isinstance(error, APIResponseValidationError | PayoutOutcomeUnknownError)
    assert isinstance(error, PayoutOutcomeUnknownError) or "the server may have acted" in str(error)
    assert peak < BOUND


def test_an_error_reply_too_large_keeps_its_status(twin: Twin, hostile_server: HostileServer) -> None:
    hostile_server.script(huge(64 * MiB, status=500))

    error, peak = peak_memory_of(twin, lambda p: p.retrieve(5), max_retries=0)

    assert type(error) is InternalServerError
    assert "body larger than the" in error.message
    assert peak < BOUND


def big_payout(size: int) -> bytes:
    return orjson.dumps({"v1/payout": payout(5, description="x" * size)})


@pytest.mark.parametrize(
    "encode",
    [lambda body: (body, {}),
     lambda body: (gzip.compress(body), {"Content-Encoding": "gzip"}),
     lambda body: (zlib.compress(body), {"Content-Encoding": "deflate"}),
     lambda body: (zlib.compress(body)[2:-4], {"Content-Encoding": "deflate"}),  # raw deflate, as some servers send
     lambda body: (gzip.compress(gzip.compress(body)), {"Content-Encoding": "gzip, gzip"})],
    ids=["identity", "gzip", "deflate", "raw deflate", "gzip twice"],
)
def test_the_limit_counts_decoded_bytes_and_is_a_client_setting(
    twin: Twin, hostile_server: HostileServer, encode: Any
) -> None:
    body, headers = encode(big_payout(100_000))
    hostile_server.script(reply(200, body, headers=headers))

    with pytest.raises(APIResponseValidationError) as caught:
        twin.call(lambda p: p.retrieve(5), max_retries=0, max_response_bytes=64 * 1024)
    assert "larger than the 65536-byte limit (max_response_bytes)" in str(caught.value)

    result = twin.call(lambda p: p.retrieve(5), max_retries=0, max_response_bytes=128 * 1024)
    assert (result.id, len(result.description or "")) == (5, 100_000)


def test_a_broken_gzip_body_is_a_typed_error(twin: Twin, hostile_server: HostileServer) -> None:
    broken = gzip.compress(big_payout(10))[:-12] + b"garbage!"
    hostile_server.script(reply(200, broken, headers={"Content-Encoding": "gzip"}))

    with pytest.raises(FedaPayError):
        twin.call(lambda p: p.retrieve(5), max_retries=0)


@pytest.mark.parametrize("value", [0, 1023, 2**31, -1, 1.5, "10", True, None], ids=repr)
def test_a_bad_max_response_bytes_is_refused(value: Any) -> None:
    for client_class in (FedaPay, AsyncFedaPay):
        with pytest.raises(InvalidArgumentError) as caught:
            client_class(API_KEY, max_response_bytes=value)
        assert caught.value.argument == "max_response_bytes"


def test_max_response_bytes_is_visible() -> None:
    with FedaPay(API_KEY) as client:
        assert client.max_response_bytes == 10 * MiB
    with FedaPay(API_KEY, max_response_bytes=4096) as client:
        assert client.max_response_bytes == 4096
