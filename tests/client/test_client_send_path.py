"""Issue 15, item 5: the client's lean path through httpx builds and sends what httpx itself would.

`BaseClient.build_request` assembles requests from headers merged once (`_assemble.py`) and the
drivers send them without `Client.send`'s auth flow, redirect loop and a cookie jar left unchanged
(`_client._send_through`). These tests hold both to httpx's own result: the same request header for
header, the same response attributes, and every setting of a client you pass in honoured (headers,
query parameters, cookies, auth, event hooks, mounts, its closed state, its log line).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Generator
from http import cookiejar
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fedapay_payouts import APIConnectionError, AsyncFedaPay, FedaPay
from fedapay_payouts._client import _asend_through, _send_through
from fedapay_payouts._json import dumps
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.client.client_support import API_KEY, CUSTOMER

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

BASE = "http://127.0.0.1:9/v1"
PAYOUT: dict[str, Any] = {
    "klass": "v1/payout", "id": 7, "reference": "ref", "amount": 1000, "status": "pending", "customer_id": 1,
    "currency_id": 1, "mode": "mtn_open", "created_at": "2024-10-24T17:27:45.677Z",
    "updated_at": "2024-10-24T17:27:45.677Z",
}


def refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"nothing is sent in this test, got {request.method} {request.url}")


# What each kind of client of yours could hold that httpx merges into a request.
YOURS: dict[str, Any] = {
    "plain": {},
    "headers": {"headers": {"X-Trace": "t-1", "Accept": "text/plain", "user-agent": "theirs/1"}},
    "params": {"params": {"locale": "fr"}},
    "cookies": {"cookies": {"region": "bj"}},
    "host header": {"headers": {"Host": "other.example"}},
}
header_names = st.sampled_from(["X-Extra", "x-extra", "Accept", "accept", "USER-AGENT", "Idempotency-Key",
                                "Content-Type", "Host", "Content-Length"])
header_values = st.text(alphabet="abcXYZ019-/.", min_size=1, max_size=8)
bodies = st.none() | st.fixed_dictionaries({"amount": st.integers(1, 10**6), "note": st.text(max_size=5)})


def built(client: FedaPay, method: str, path: str, body: Any, params: dict[str, str] | None,
          headers: dict[str, str] | None) -> httpx.Request:
    return client.build_request(method, path, body=body, params=params, headers=headers)


def by_httpx(client: FedaPay, method: str, path: str, body: Any, params: dict[str, str] | None,
             headers: dict[str, str] | None) -> httpx.Request:
    """The same request built by httpx's own `Client.build_request`, with the client's headers under the call's."""
    content = None if body is None else dumps(body)
    merged = httpx.Headers(client._headers)
    if content is not None:
        merged["Content-Type"] = "application/json"
    if headers:
        merged.update(headers)
    return client._http.build_request(method, BASE + path, content=content, params=params, headers=merged,
                                      extensions={"timeout": client.timeout.as_dict()})


def shape(request: httpx.Request) -> tuple[Any, ...]:
    """What goes on the wire: the request line, every header (names ignore case; order within a name kept)."""
    headers = sorted((name.decode().lower(), value.decode()) for name, value in request.headers.raw)
    assert isinstance(request.stream, httpx.SyncByteStream)
    return request.method, str(request.url), request.headers.raw[0][0].lower(), headers, request.read(), \
        b"".join(request.stream), request.extensions


@pytest.mark.parametrize("yours", [None, *YOURS])
@settings(max_examples=60, deadline=None)
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]), body=bodies,
       path=st.sampled_from(["/payouts", "/payouts/7", "/payouts/start"]),
       params=st.none() | st.fixed_dictionaries({"page": st.sampled_from(["1", "2"])}),
       headers=st.none() | st.dictionaries(header_names, header_values, max_size=3))
def test_each_request_is_the_one_httpx_would_build(
    yours: str | None, method: str, body: Any, path: str, params: dict[str, str] | None,
    headers: dict[str, str] | None,
) -> None:
    """On our pool and through each kind of client of yours, header for header, the URL with its query and
    the body: a call's header replaces ours whatever its case, and httpx's own Host and Content-Length
    rules hold (a caller's Host or Content-Length wins; an empty POST says `Content-Length: 0`)."""
    http = None if yours is None else httpx.Client(transport=httpx.MockTransport(refuse), **YOURS[yours])
    client = (FedaPay(API_KEY, base_url=BASE, transport=httpx.MockTransport(refuse)) if http is None
              else FedaPay(API_KEY, base_url=BASE, http_client=http))
    try:
        ours = built(client, method, path, body, params, headers)
        assert shape(ours) == shape(by_httpx(client, method, path, body, params, headers))
        again = built(client, method, path, body, params, headers)
        assert shape(again) == shape(ours)  # nothing of one request leaks into the next (heads are copies)
    finally:
        client.close()
        if http is not None:
            http.close()


def test_a_call_header_replaces_ours_whatever_its_case_through_a_client_of_yours() -> None:
    """`extra_headers={"User-Agent": ...}` through an injected client used to send both user agents (ours
    lower-cased in a dict, theirs as given); now one, as on our own pool, with cookies in your jar or not."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"v1/payout": PAYOUT})

    for jar in (None, {"region": "bj"}):
        with httpx.Client(transport=httpx.MockTransport(handle), cookies=jar) as mine, \
                FedaPay(API_KEY, http_client=mine) as client:
            client.payouts.retrieve(7, extra_headers={"User-Agent": "mine/1"})
    with FedaPay(API_KEY, transport=httpx.MockTransport(handle)) as own:
        own.payouts.retrieve(7, extra_headers={"USER-agent": "mine/1"})
    assert [request.headers.get_list("user-agent") for request in seen] == [["mine/1"]] * 3
    # `Accept` is the client's own now (it reads only JSON): refused in extra_headers, so one value goes out.
    assert [request.headers.get_list("accept") for request in seen] == [["application/json"]] * 3
    assert seen[1].headers["cookie"] == "region=bj"


def test_a_client_of_yours_is_read_at_each_call() -> None:
    """Headers, parameters and cookies you set on your client after making ours go out with the next call."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"v1/payout": PAYOUT})

    with httpx.Client(transport=httpx.MockTransport(handle)) as mine, FedaPay(API_KEY, http_client=mine) as client:
        client.payouts.retrieve(7)
        mine.headers["X-Trace"] = "t-2"
        client.payouts.retrieve(7)
        mine.params = httpx.QueryParams({"locale": "fr"})
        mine.cookies.set("region", "bj")
        client.payouts.retrieve(7)
    assert [request.headers.get("x-trace") for request in seen] == [None, "t-2", "t-2"]
    assert seen[2].url.params["locale"] == "fr"
    assert seen[2].headers["cookie"] == "region=bj"
    assert seen[2].headers["authorization"] == f"Bearer {API_KEY}"


# Sending: `_send_through` against `Client.send(request, stream=True, follow_redirects=False)`.

def replies(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/moved"):
        return httpx.Response(302, headers={"Location": "/v1/payouts/8"})
    if request.url.path.endswith("/cookie"):
        return httpx.Response(200, headers={"Set-Cookie": "session=abc; Path=/"}, json={})
    if request.url.path.endswith("/refused"):
        raise httpx.ConnectError("refused")
    return httpx.Response(201, json={"v1/payout": PAYOUT}, headers={"X-Request-Id": "req_1"})


def timed(response: httpx.Response) -> bool:
    """Whether `response.elapsed` can be read (a transport's reply already read when returned has none)."""
    try:
        return response.elapsed.total_seconds() >= 0
    except RuntimeError:
        return False


def outcome(response: httpx.Response, jar: httpx.Cookies) -> tuple[Any, ...]:
    body = response.read()
    response.close()
    following = response.next_request
    return (response.status_code, response.headers.raw, body, response.history, response.default_encoding,
            timed(response), following and str(following.url), sorted(jar.items()))


@pytest.mark.parametrize("path", ["/payouts", "/payouts/moved", "/payouts/cookie"])
def test_sending_gives_what_client_send_gives(path: str, caplog: pytest.LogCaptureFixture) -> None:
    """Reply for reply: status, headers, body, history, the redirect not followed but offered
    (`next_request`), `elapsed`, the encoding, the jar afterwards, the hooks' calls and httpx's log line."""
    results = []
    for way in ("httpx", "ours"):
        calls: list[str] = []
        hooks: dict[str, list[Any]] = {
            "request": [lambda request, calls=calls: calls.append(f"request {request.url.path}")],
            "response": [lambda response, calls=calls: calls.append(f"response {response.status_code}")],
        }
        with httpx.Client(transport=httpx.MockTransport(replies), event_hooks=hooks, default_encoding="latin-1",
                          cookies={"region": "bj"}) as mine:
            request = mine.build_request("GET", BASE + path)
            caplog.clear()
            with caplog.at_level(logging.INFO, logger="httpx"):
                response = (mine.send(request, stream=True, follow_redirects=False) if way == "httpx"
                            else _send_through(mine, request))
            assert response.request is request
            results.append((outcome(response, mine.cookies), calls, [r.getMessage() for r in caplog.records]))
    assert results[0] == results[1]
    assert results[1][2] == [f'HTTP Request: GET {BASE}{path} "HTTP/1.1 {results[1][0][0]} '
                             f'{httpx.codes.get_reason_phrase(results[1][0][0])}"']


def test_async_sending_gives_what_client_send_gives() -> None:
    async def run(way: str) -> tuple[Any, ...]:
        calls: list[str] = []

        async def on_request(request: httpx.Request) -> None:
            calls.append(f"request {request.url.path}")

        async def on_response(response: httpx.Response) -> None:
            calls.append(f"response {response.status_code}")

        hooks: dict[str, list[Any]] = {"request": [on_request], "response": [on_response]}
        async with httpx.AsyncClient(transport=httpx.MockTransport(replies), event_hooks=hooks) as mine:
            seen = []
            for path in ("/payouts", "/payouts/moved", "/payouts/cookie"):
                request = mine.build_request("GET", BASE + path)
                response = (await mine.send(request, stream=True, follow_redirects=False) if way == "httpx"
                            else await _asend_through(mine, request))
                body = await response.aread()
                await response.aclose()
                following = response.next_request
                seen.append((response.status_code, response.headers.raw, body, response.history,
                             timed(response), following and str(following.url)))
            return seen, calls, sorted(mine.cookies.items())

    assert asyncio.run(run("ours")) == asyncio.run(run("httpx"))


def test_a_transport_error_names_its_request_and_a_closed_client_refuses() -> None:
    with httpx.Client(transport=httpx.MockTransport(replies)) as mine:
        request = mine.build_request("GET", BASE + "/payouts/refused")
        with pytest.raises(httpx.ConnectError) as refused:
            _send_through(mine, request)
        assert refused.value.request is request
    with pytest.raises(RuntimeError, match="client has been closed"):
        _send_through(mine, mine.build_request("GET", BASE + "/payouts"))


def test_a_reply_without_set_cookie_skips_a_standard_jar_and_any_other_jar_sees_every_reply(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The saving itself (httpx copies request and reply into urllib objects for the jar: a sixth of the
    client's time per call): the standard jar runs for the reply that sets a cookie only, and keeps it;
    a jar of another class may do anything with any reply, so it sees all of them."""
    standard: list[str] = []
    original = cookiejar.CookieJar.extract_cookies

    def counted(self: cookiejar.CookieJar, response: Any, request: Any) -> None:
        (standard if type(self) is cookiejar.CookieJar else custom).append(request.get_full_url())
        original(self, response, request)

    custom: list[str] = []
    monkeypatch.setattr(cookiejar.CookieJar, "extract_cookies", counted)

    class Jar(cookiejar.CookieJar):
        """A jar of your own class."""

    for jar, log in ((None, standard), (Jar(), custom)):
        with httpx.Client(transport=httpx.MockTransport(replies), cookies=jar) as mine:
            assert type(mine.cookies.jar) is (cookiejar.CookieJar if jar is None else Jar)
            for path in ("/payouts", "/payouts/cookie", "/payouts"):
                _send_through(mine, mine.build_request("GET", BASE + path)).close()
            assert [cookie.name for cookie in mine.cookies.jar] == ["session"]
        expected = [BASE + "/payouts/cookie"] if log is standard else [BASE + p for p in
                                                                        ("/payouts", "/payouts/cookie", "/payouts")]
        assert log == expected


# Through the public calls: what a client of yours is configured with still applies.

class Signing(httpx.Auth):
    """An auth flow of yours: it must run (httpx's own `send` takes these requests)."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["X-Signature"] = "signed:" + request.method
        yield request


@pytest.fixture
def recorded() -> list[httpx.Request]:
    return []


def answer(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"v1/payout": PAYOUT})

    return httpx.MockTransport(handle)


def test_your_auth_hooks_and_mounts_apply_to_our_calls(recorded: list[httpx.Request]) -> None:
    hooked: list[str] = []
    mounted: list[httpx.Request] = []
    hooks: dict[str, list[Any]] = {
        "request": [lambda request: request.headers.__setitem__("X-Hooked", "yes")],
        "response": [lambda response: hooked.append(response.headers.get("content-type", ""))],
    }
    with httpx.Client(transport=answer(recorded), auth=Signing()) as signed, \
            httpx.Client(transport=answer(recorded), event_hooks=hooks) as hooking, \
            httpx.Client(transport=httpx.MockTransport(refuse), mounts={"https://": answer(mounted)}) as proxied:
        for mine in (signed, hooking, proxied):
            with FedaPay(API_KEY, http_client=mine) as client:
                assert client.payouts.create(amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER).id == 7
    signed_request, hooked_request = recorded
    assert signed_request.headers["x-signature"] == "signed:POST"
    assert hooked_request.headers["x-hooked"] == "yes"
    assert hooked == ["application/json"]
    assert [str(request.url) for request in mounted] == ["https://sandbox-api.fedapay.com/v1/payouts"]
    assert all(request.headers["authorization"] == f"Bearer {API_KEY}" for request in [*recorded, *mounted])


def test_async_your_hooks_and_cookies_apply_to_our_calls() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"v1/payout": PAYOUT}, headers={"Set-Cookie": "session=abc; Path=/"})

    async def main() -> list[int]:
        statuses: list[int] = []

        async def on_response(response: httpx.Response) -> None:
            statuses.append(response.status_code)

        async with httpx.AsyncClient(transport=httpx.MockTransport(handle),
                                     event_hooks={"response": [on_response]}) as mine, \
                AsyncFedaPay(API_KEY, http_client=mine) as client:
            await client.payouts.retrieve(7)
            await client.payouts.retrieve(7)
        return statuses

    assert asyncio.run(main()) == [200, 200]
    assert [request.headers.get("cookie") for request in seen] == [None, "session=abc"]


def test_a_closed_client_of_yours_still_refuses_our_calls() -> None:
    mine = httpx.Client(transport=httpx.MockTransport(refuse))
    client = FedaPay(API_KEY, http_client=mine)
    mine.close()
    with pytest.raises(APIConnectionError, match="the client has been closed") as caught:  # typed, as on our pool
        client.payouts.retrieve(7)
    assert caught.value.request_sent is False


def test_the_httpx_log_line_and_elapsed_stay_on_our_own_pool(
    fedapay_mock: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    with FedaPay(API_KEY, base_url=fedapay_mock.base_url) as client, caplog.at_level(logging.INFO, logger="httpx"):
        raw = client.payouts.with_raw_response.create(amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER)
    assert timed(raw.http_response)
    assert [record.getMessage() for record in caplog.records if record.name == "httpx"] == [
        f'HTTP Request: POST {fedapay_mock.base_url}/payouts "HTTP/1.1 201 Created"'
    ]


def test_the_merged_heads_keep_the_api_key_out_of_the_clients_attributes() -> None:
    """The heads requests start from are httpx.Headers, whose repr masks Authorization: `vars(client)` (a
    debugger, an error tracker dumping objects) shows no part of the key, on our pool or through yours."""
    with httpx.Client() as mine:
        for client in (FedaPay(API_KEY), FedaPay(API_KEY, http_client=mine)):
            shown = repr(vars(client))
            assert API_KEY.split("_", 2)[2][:8] not in shown
            assert "[secure]" in shown
            client.close()
