"""How requests are built and bodies encoded: the client's own pool and an injected client send the
same requests; an injected client keeps its settings; JSON in and out matches the standard library."""

from __future__ import annotations

import datetime
import decimal
import json
import math
import platform
from typing import Any

import httpx
import pytest
from fedapay_payouts import FedaPay, InvalidArgumentError, __version__
from fedapay_payouts._json import dumps, loads
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.client.client_support import API_KEY, CUSTOMER, Api, Sent

LATER = datetime.datetime(2030, 1, 2, 10, 30, tzinfo=datetime.UTC)
PAYOUT: dict[str, Any] = {
    "klass": "v1/payout", "id": 7, "reference": "ref", "amount": 1000, "status": "pending", "customer_id": 1,
    "currency_id": 1, "mode": "mtn_open", "created_at": "2024-10-24T17:27:45.677Z",
    "updated_at": "2024-10-24T17:27:45.677Z",
}


def every_operation(api: Api, client: Any, run: str) -> None:
    """One call of each kind, with everything that travels: body, query, path ids, per-call timeout."""
    payout = api.call(client, lambda p: p.create(
        amount=1500, currency="xof", mode="moov", customer=CUSTOMER, description="Caf\u00e9 \u2014 juin",
        merchant_reference="order-9", custom_metadata={"lines": [1, 2.5, None, True], "note": "\u00e9t\u00e9"},
        idempotency_key=f"{run}-key-1", timeout=7,
    ))
    api.call(client, lambda p: p.list(page=1, per_page=5, status="pending"))
    api.call(client, lambda p: p.retrieve(payout.id))
    api.call(client, lambda p: p.update(payout.id, amount=1600))
    api.call(client, lambda p: p.schedule(payout.id, LATER))
    other = api.call(client, lambda p: p.create(amount=100, currency="XOF", mode="moov", customer=CUSTOMER,
                                                idempotency_key=f"{run}-key-2"))
    api.call(client, lambda p: p.delete(other.id))


def comparable(sent: Sent, first_id: int) -> tuple[Any, ...]:
    """A request with the server-assigned ids made relative, so two runs on one server compare equal."""
    head, _, last = sent.path.rpartition("/")
    path = f"{head}/<id+{int(last) - first_id}>" if last.isdigit() else sent.path
    body = sent.body
    if isinstance(body, dict) and "payouts" in body:
        body = {"payouts": [{**item, "id": item["id"] - first_id} for item in body["payouts"]]}
    headers = [(k, v.split("-key-")[-1] if k == "idempotency-key" else v) for k, v in sent.headers.multi_items()]
    return sent.method, path, sent.query, sorted(headers), body


def test_our_own_pool_and_an_injected_client_send_the_same_requests(api: Api) -> None:
    every_operation(api, api.client(), "own")
    own = list(api.sent)
    api.sent.clear()
    every_operation(api, api.client(injected=True), "injected")
    injected = list(api.sent)

    assert len(own) == len(injected) == 7
    first_own = int(own[2].path.rsplit("/", 1)[1])
    first_injected = int(injected[2].path.rsplit("/", 1)[1])
    assert [comparable(s, first_own) for s in own] == [comparable(s, first_injected) for s in injected]
    create = own[0]
    assert create.headers["content-type"] == "application/json"
    assert create.headers["idempotency-key"] == "own-key-1"
    # The library, Python and platform, so FedaPay's support can tell who sent it (issue 13).
    python = f"{platform.python_implementation()}/{platform.python_version()}"
    expected = f"fedapay-payouts-python/{__version__} {python} ({platform.system()} {platform.machine()})"
    assert create.headers["user-agent"] == expected
    assert create.body["currency"] == {"iso": "XOF"}
    assert create.body["custom_metadata"] == {"lines": [1, 2.5, None, True], "note": "\u00e9t\u00e9"}
    assert "content-type" not in own[1].headers  # a GET carries no body
    assert own[1].query == {"page": "1", "per_page": "5", "status": "pending"}


def test_the_per_call_timeout_reaches_the_transport_with_our_own_pool() -> None:
    seen: list[dict[str, float | None]] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(204)

    with FedaPay(API_KEY, timeout=httpx.Timeout(10.0, connect=2.0), transport=httpx.MockTransport(record)) as client:
        client.payouts.delete(1)
        client.payouts.delete(1, timeout=1.5)
    assert seen == [
        {"connect": 2.0, "read": 10.0, "write": 10.0, "pool": 10.0},
        {"connect": 1.5, "read": 1.5, "write": 1.5, "pool": 1.5},
    ]


def cookie_server(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"v1/payout": PAYOUT}, headers={"Set-Cookie": "session=abc; Path=/"})

    return httpx.MockTransport(handle)


def test_an_injected_client_keeps_its_own_headers_params_and_cookies() -> None:
    seen: list[httpx.Request] = []
    mine = httpx.Client(transport=cookie_server(seen), headers={"X-Trace": "t-1"}, params={"locale": "fr"},
                        cookies={"region": "bj"})
    with FedaPay(API_KEY, account_id=42, http_client=mine) as client:
        client.payouts.retrieve(7)
        client.payouts.retrieve(7)
    first, second = seen
    assert first.headers["x-trace"] == "t-1"
    assert first.url.params["locale"] == "fr"
    assert first.headers["cookie"] == "region=bj"
    assert second.headers["cookie"] == "region=bj; session=abc"  # its jar, its cookies
    assert first.headers["authorization"] == f"Bearer {API_KEY}"
    assert first.headers["fedapay-account"] == "42"
    mine.close()


def test_our_own_pool_sends_no_cookies_back() -> None:
    seen: list[httpx.Request] = []
    with FedaPay(API_KEY, account_id=42, transport=cookie_server(seen)) as client:
        client.payouts.retrieve(7)
        client.payouts.retrieve(7)
    assert [request.headers.get("cookie") for request in seen] == [None, None]
    assert seen[1].headers["fedapay-account"] == "42"
    assert str(seen[1].url) == "https://sandbox-api.fedapay.com/v1/payouts/7"


# JSON: orjson where it gives the standard library's result, the standard library elsewhere.

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@settings(deadline=None)  # no per-example time limit: a busy CI machine must not fail a correct run
@given(json_values)
def test_reading_gives_what_the_standard_library_gives(value: Any) -> None:
    for encoded in (json.dumps(value).encode(), json.dumps(value, ensure_ascii=False).encode()):
        assert loads(encoded) == json.loads(encoded)


@settings(deadline=None)
@given(json_values)
def test_writing_gives_json_the_standard_library_reads_back_unchanged(value: Any) -> None:
    assert json.loads(dumps(value)) == value


@pytest.mark.parametrize("body", [
    b'{"n": 123456789012345678901234567890}',  # orjson would give a float and lose digits
    b'[18446744073709551616, -9223372036854775809]',
    b'{"ref": "00000000000000000000000"}',  # a long digit run in a string: read by json, same result
    '\ufeff{"a": 1}'.encode(),  # a UTF-8 byte order mark
    '{"a": "\u00e9"}'.encode("utf-16"),
    b'{"s": "\\ud800"}',  # a lone surrogate
])
def test_replies_orjson_would_read_differently_or_refuse_are_read_like_json(body: bytes) -> None:
    assert loads(body) == json.loads(body)


def test_an_integer_beyond_64_bits_keeps_every_digit() -> None:
    value = loads(b'{"v1/payout": {"custom_metadata": {"n": 123456789012345678901234567890}}}')
    assert value["v1/payout"]["custom_metadata"]["n"] == 123456789012345678901234567890


def test_a_19_digit_integer_below_minus_2_to_the_63_stays_exact() -> None:
    """orjson reads -9223372036854775809 as -9.223372036854776e18: 19 digits, not 20, go to the exact parser."""
    assert loads(b"[-9223372036854775809]") == [-9223372036854775809]
    assert loads(b'{"n": -9999999999999999999}') == {"n": -9999999999999999999}


def test_a_reply_that_is_not_json_raises_value_error() -> None:
    with pytest.raises(ValueError, match="Expecting value"):
        loads(b"<html>502 Bad Gateway</html>")
    assert math.isnan(loads(b"NaN"))  # as json reads it


def test_a_big_integer_is_written_exactly() -> None:
    assert dumps({"n": 2**70, "m": -(2**64)}) == b'{"n":1180591620717411303424,"m":-18446744073709551616}'


@pytest.mark.parametrize(("metadata", "argument", "problem"), [
    ({"rate": float("nan")}, "custom_metadata.rate", "finite"),
    ({"rate": float("inf")}, "custom_metadata.rate", "finite"),
    ({"lines": [1, decimal.Decimal("2.5")]}, "custom_metadata.lines[1]", "Decimal"),
    ({"when": datetime.date(2030, 1, 1)}, "custom_metadata.when", "date"),
    ({"deep": {1: "x"}}, "custom_metadata.deep", "keys must be strings"),
    ({"tags": {"a", "b"}}, "custom_metadata.tags", "set"),
])
def test_custom_metadata_must_be_plain_json_and_the_error_names_the_place(
    metadata: dict[str, Any], argument: str, problem: str
) -> None:
    def no_network(request: httpx.Request) -> httpx.Response:
        raise AssertionError("a request was sent")

    offline = httpx.Client(transport=httpx.MockTransport(no_network))
    with FedaPay(API_KEY, http_client=offline) as client, pytest.raises(InvalidArgumentError) as caught:
        client.payouts.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER, custom_metadata=metadata)
    assert caught.value.argument == argument
    assert problem in str(caught.value)


def test_custom_metadata_that_nests_itself_is_refused() -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with FedaPay(API_KEY) as client, pytest.raises(InvalidArgumentError, match="nests deeper than 32"):
        client.payouts.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER, custom_metadata=loop)
