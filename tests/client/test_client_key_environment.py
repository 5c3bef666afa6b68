"""A key whose prefix contradicts the environment is refused at construction (issue 13).

`FedaPay("sk_live_...")` used to go quietly to the sandbox. Now the environment must agree with the
key's prefix, and a live key needs the environment said explicitly (argument or FEDAPAY_ENVIRONMENT).
The refusal names the kinds of key only ("a live key"), never the key or a part of its body. Keys with
neither prefix (a mock's, a test's) are not checked. Each client here points at the loopback mock, so
a construction that wrongly succeeded would show as a request reaching it.
"""

from __future__ import annotations

import asyncio
import traceback
from typing import Any

import pytest
from fedapay_payouts import AsyncFedaPay, FedaPay, InvalidArgumentError

from tests.client.client_support import CUSTOMER, Api
from tests.client.hostile_server import HostileServer, payout, reply

LIVE_KEY = "sk_live_Q7wXr2Lk9PzMnB4vT1"
SANDBOX_KEY = "sk_sandbox_H3jKd8Ls0QwErT5yU2"


def printed(error: BaseException) -> str:
    """What a log, an error tracker or a traceback printed with the library's locals would show."""
    texts = ["".join(traceback.format_exception(error)), str(error), repr(error), repr(vars(error))]
    for frame, _ in traceback.walk_tb(error.__traceback__):
        if "fedapay_payouts" in frame.f_code.co_filename:
            texts += [f"{name}={value!r}" for name, value in frame.f_locals.items()]
    return "\n".join(texts)


def assert_names_no_part_of(key: str, text: str) -> None:
    body = key.split("_", 2)[2]
    assert key not in text
    pieces = [body[i : i + 4] for i in range(len(body) - 3)]
    assert not [piece for piece in pieces if piece in text], "a part of the key was shown"


@pytest.mark.parametrize(
    ("key", "environment", "kind", "chosen"),
    [(LIVE_KEY, "sandbox", "live", "sandbox"), (LIVE_KEY, "SANDBOX", "live", "sandbox"),
     (SANDBOX_KEY, "live", "sandbox", "live"), (SANDBOX_KEY, "Live", "sandbox", "live")],
)
def test_a_key_of_the_other_environment_is_refused_without_showing_it(
    api: Api, key: str, environment: str, kind: str, chosen: str
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        api.client(api_key=key, environment=environment)  # base_url: the mock; still checked
    error = caught.value
    assert error.argument == "environment"
    assert f"is '{chosen}' but api_key is a {kind} key" in str(error)
    assert_names_no_part_of(key, printed(error))
    assert "sk_" not in str(error)
    assert api.sent == []


@pytest.mark.parametrize("key_from", ["argument", "environment"])
def test_the_environment_variable_is_checked_against_the_key_and_named(
    api: Api, monkeypatch: pytest.MonkeyPatch, key_from: str
) -> None:
    monkeypatch.setenv("FEDAPAY_ENVIRONMENT", "LIVE")
    options: dict[str, Any] = {"api_key": SANDBOX_KEY}
    if key_from == "environment":
        monkeypatch.setenv("FEDAPAY_API_KEY", SANDBOX_KEY)
        options = {"api_key": None}
    with pytest.raises(InvalidArgumentError) as caught:
        api.client(**options)
    message = str(caught.value)
    assert message.startswith("environment: FEDAPAY_ENVIRONMENT (from the environment) is 'live'")
    assert ("FEDAPAY_API_KEY is a sandbox key" in message) is (key_from == "environment")
    assert_names_no_part_of(SANDBOX_KEY, printed(caught.value))


@pytest.mark.parametrize("cls", [FedaPay, AsyncFedaPay])
def test_a_live_key_without_an_environment_is_refused_and_says_how_to_go_live(cls: type[FedaPay]) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        cls(LIVE_KEY)
    assert caught.value.argument == "environment"
    assert "pass environment='live' (or set FEDAPAY_ENVIRONMENT=live)" in str(caught.value)
    assert_names_no_part_of(LIVE_KEY, printed(caught.value))
    assert cls(LIVE_KEY, environment="live").base_url == "https://api.fedapay.com/v1"


def test_a_live_key_said_live_reaches_a_custom_base_url_and_works(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEDAPAY_ENVIRONMENT", "live")
    client = api.client(api_key=LIVE_KEY)
    payout = api.call(client, lambda p: p.create(amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER))
    assert payout.status == "pending"
    assert api.sent[0].headers["authorization"] == f"Bearer {LIVE_KEY}"
    explicit = api.client(api_key=LIVE_KEY, environment="live")
    assert api.call(explicit, lambda p: p.retrieve(payout.id)).id == payout.id


@pytest.mark.parametrize("environment", [None, "live", "sandbox"])
def test_keys_with_neither_prefix_are_not_checked(api: Api, environment: str | None) -> None:
    client = api.client(api_key="mock_key_without_prefix", environment=environment)
    assert client.environment == (environment or "sandbox")


def test_a_sandbox_key_keeps_the_sandbox_default() -> None:
    with FedaPay(SANDBOX_KEY) as client:
        assert (client.environment, client.base_url) == ("sandbox", "https://sandbox-api.fedapay.com/v1")


@pytest.mark.parametrize("url", ["http://api.fedapay.com/v1", "http://10.0.0.5:8080/v1", "http://mock.internal/v1"])
def test_a_live_key_is_never_sent_over_plain_http_across_the_network(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`FEDAPAY_BASE_URL=http://api.fedapay.com/v1` sent the live key unencrypted (the client follows no redirect
    to https: the key was out before any answer)."""
    with pytest.raises(InvalidArgumentError) as caught:
        FedaPay(LIVE_KEY, environment="live", base_url=url)
    assert caught.value.argument == "base_url"
    assert "must be https with a live key" in str(caught.value)
    monkeypatch.setenv("FEDAPAY_BASE_URL", url)
    with pytest.raises(InvalidArgumentError, match="FEDAPAY_BASE_URL"):
        FedaPay(LIVE_KEY, environment="live")


@pytest.mark.parametrize("url", ["http://127.0.0.1:4010/v1", "http://localhost:4010", "http://[::1]:4010/v1",
                                 "https://proxy.example/v1"])
def test_a_live_key_may_use_https_or_plain_http_to_this_machine(url: str) -> None:
    with FedaPay(LIVE_KEY, environment="live", base_url=url) as client:
        assert client.environment == "live"


def test_a_sandbox_key_may_use_plain_http_to_a_mock_on_another_host() -> None:
    # A mock in another container (docker compose) is reached over plain http: no real money, no live key.
    with FedaPay(SANDBOX_KEY, base_url="http://fedapay-mock:4010/v1") as client:
        assert client.base_url == "http://fedapay-mock:4010/v1"


@pytest.mark.parametrize("twin", ["sync", "async"])
@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY", "http_proxy"])
def test_a_live_key_over_plain_http_to_this_machine_never_goes_through_an_environment_proxy(
    twin: str, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY took the live key, in clear, to the proxy (across the network on a real machine), although
    plain http was allowed only because the base URL is this machine. A sandbox key still uses the proxy."""
    target, proxy = HostileServer(), HostileServer()
    try:
        for server in (target, proxy):
            server.script(reply(200, {"v1/payout": payout(5)}))
        monkeypatch.setenv(variable, f"http://127.0.0.1:{proxy.port}")
        for key, environment, reached in ((LIVE_KEY, "live", target), (SANDBOX_KEY, None, proxy)):
            if twin == "sync":
                with FedaPay(key, environment=environment, base_url=target.base_url, max_retries=0) as client:
                    assert client.payouts.retrieve(5).id == 5
            else:
                async def retrieve(key: str = key, environment: str | None = environment) -> int:
                    async with AsyncFedaPay(key, environment=environment, base_url=target.base_url,
                                            max_retries=0) as client:
                        return (await client.payouts.retrieve(5)).id

                assert asyncio.run(retrieve()) == 5
            assert reached.received[-1].api_key == key
        assert [request.api_key for request in proxy.received] == [SANDBOX_KEY]
        assert [request.api_key for request in target.received] == [LIVE_KEY]
    finally:
        target.close()
        proxy.close()


@pytest.mark.parametrize("cls", [FedaPay, AsyncFedaPay])
@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "all_proxy"])
def test_an_environment_proxy_the_client_cannot_use_is_refused_naming_the_variable_not_its_value(
    cls: type[FedaPay], variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, "ftp://proxyuser:Pr0xyPassw0rd@127.0.0.1:21")
    with pytest.raises(InvalidArgumentError) as caught:
        cls(SANDBOX_KEY)
    assert caught.value.argument == variable.upper()
    assert "is not a proxy this client can use" in str(caught.value)
    assert "Pr0xyPassw0rd" not in "".join(traceback.format_exception(caught.value))
