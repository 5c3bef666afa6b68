"""Every configuration value is checked when the client is built (issue 9, classes 9, 10 and 12).

Bad values are generated with Hypothesis (NaN, infinities, huge and negative numbers, wrong types,
control characters, lone surrogates) for each argument, each environment variable, `RetryPolicy` and
every per-call `timeout=`: each ends as `InvalidArgumentError` naming the setting, before any request.
A malformed API key is refused without any part of it in the error, its chain or its traceback, and
no library frame keeps the plain key as a local.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fedapay_payouts import AsyncFedaPay, FedaPay, InvalidArgumentError, RetryPolicy
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.client.client_support import API_KEY, CUSTOMER

Client = type[FedaPay] | type[AsyncFedaPay]
CLIENTS = [pytest.param(FedaPay, id="sync"), pytest.param(AsyncFedaPay, id="async")]
ENV_VARS = ("FEDAPAY_API_KEY", "FEDAPAY_ENVIRONMENT", "FEDAPAY_BASE_URL", "FEDAPAY_ACCOUNT_ID", "FEDAPAY_MAX_RETRIES")

# --- generated bad values -------------------------------------------------------------------------

wrong_types = st.one_of(
    st.booleans(), st.binary(max_size=8), st.lists(st.integers(), max_size=2), st.complex_numbers(),
    st.decimals(allow_nan=True), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
not_finite = st.sampled_from([math.nan, math.inf, -math.inf, -math.nan])


def bad_seconds(maximum: float, *, allow_zero: bool) -> st.SearchStrategy[Any]:
    """Numbers outside `[0 or >0, maximum]` (NaN, inf, negative, huge), numeric strings, wrong types."""
    too_small = st.floats(max_value=-1e-9) | st.integers(max_value=-1)
    if not allow_zero:
        too_small = too_small | st.sampled_from([0, 0.0, -0.0])
    return st.one_of(
        not_finite, too_small, st.floats(min_value=maximum, exclude_min=True), st.integers(min_value=int(maximum) + 1),
        st.integers(min_value=10**300, max_value=10**400), st.text(max_size=6), wrong_types,
    )


bad_timeout_numbers = bad_seconds(86_400, allow_zero=False).filter(lambda v: v is not None)
bad_timeouts = st.one_of(
    bad_timeout_numbers,
    st.builds(lambda field, value: httpx.Timeout(5.0, **{field: value}),
              st.sampled_from(["connect", "read", "write", "pool"]), bad_timeout_numbers),
)
bad_counts = st.one_of(
    st.integers(max_value=-1), st.integers(min_value=101), st.floats(allow_nan=True), st.text(max_size=4),
    st.sampled_from(["3", "2", True, False, 3.0]), wrong_types,
)
CONTROL_OR_SPACE = ["\n", "\r\n", "\r", "\x00", " ", "\t", "\x7f", "\x1b", "\udc80", "\ud800", "\u2028", "\xa0"]
NON_ASCII = ["é", "\u200b", "\u0455"]  # a letter, an invisible space, a look-alike of "s"
NOT_INSIDE_A_HEADER_VALUE = [c for c in CONTROL_OR_SPACE + NON_ASCII if c not in (" ", "\t")]


@st.composite
def spliced(draw: st.DrawFn, good: str, characters: list[str] = CONTROL_OR_SPACE + NON_ASCII) -> str:
    """`good` with a control, whitespace, non-ASCII or lone-surrogate character put somewhere inside it."""
    at = draw(st.integers(0, len(good)))
    return good[:at] + draw(st.sampled_from(characters)) + good[at:]


TOKEN = re.compile(r"[-\w!#$%&'*+.^`|~]+", re.ASCII)
NOT_IN_AN_ENVIRONMENT = re.compile("[\x00\ud800-\udc7f\udd00-\udfff]")  # NUL; surrogates beyond surrogateescape
hosts = st.sampled_from(["example.com", "127.0.0.1", "[::1]", "sandbox-api.fedapay.com"])
bad_base_urls = st.one_of(
    st.builds("{}://{}/v1".format, st.sampled_from(["ftp", "file", "ws", "wss", "gopher", "javascript"]), hosts),
    st.builds("https://{}@{}/v1".format, st.sampled_from(["user", "user:pw", "sk_sandbox_x:", ":pw"]), hosts),
    st.builds("https://{}/v1?{}".format, hosts, st.sampled_from(["", "a=b", "x"])),
    st.builds("https://{}/v1#{}".format, hosts, st.sampled_from(["", "frag"])),
    st.builds("https://{}:{}/v1".format, hosts, st.integers(min_value=65536, max_value=10**7) | st.just(0)),
    st.sampled_from(["", "https://", "http:///v1", "https://:443/v1", "sandbox-api.fedapay.com", "//example.com/v1"]),
    spliced("https://example.com/v1", CONTROL_OR_SPACE),  # not NON_ASCII: an IDN host or a path may hold those
    st.text(max_size=30).filter(lambda s: not s.startswith(("http://", "https://"))),
    wrong_types,
)
bad_account_ids = st.one_of(
    st.integers(max_value=0), st.integers(min_value=2**63), st.floats(allow_nan=True), wrong_types,
    st.text(max_size=70).filter(lambda s: re.fullmatch(r"[\x21-\x7e]{1,64}", s) is None),
    spliced("42"), st.just("42\r\nX-Injected: 1"),
)
bad_environments = st.one_of(
    st.text(max_size=12).filter(lambda s: s.lower() not in ("sandbox", "live")),
    st.sampled_from([" live", "live\n", "production", "sandbox\x00"]),
    st.lists(st.sampled_from(["live", "sandbox"]), max_size=2), st.integers(), st.binary(max_size=6),
)
reserved_headers = st.sampled_from(["Authorization", "Proxy-Authorization", "FedaPay-Account", "Idempotency-Key",
                                    "Content-Type", "Content-Length", "Transfer-Encoding", "Host", "Connection"])
bad_default_headers = st.one_of(
    st.builds(lambda name, flip: {name.swapcase() if flip else name: "x"}, reserved_headers, st.booleans()),
    st.builds(lambda name: {name: "x"}, st.text(max_size=10).filter(lambda s: TOKEN.fullmatch(s) is None)),
    st.builds(lambda value: {"X-Trace": value}, spliced("abc", NOT_INSIDE_A_HEADER_VALUE)),
    st.builds(lambda value: {"X-Trace": value}, st.sampled_from([" abc", "abc ", "abc\t", "\tabc"])),
    st.builds(lambda value: {"X-Trace": value}, wrong_types | st.none() | st.integers()),
    st.just({"X-Trace": "a", "x-trace": "b"}),
    st.sampled_from([["X-Trace", "a"], "X-Trace: a", 5]),
)
bad_retry_policies = st.one_of(wrong_types, st.integers(), st.text(max_size=4), st.just({"max_retries": 2}))

BAD_ARGUMENTS: dict[str, st.SearchStrategy[Any]] = {
    "timeout": bad_timeouts,
    "max_retries": bad_counts.filter(lambda v: v is not None),
    "environment": bad_environments,
    "base_url": bad_base_urls,
    "account_id": bad_account_ids,
    "default_headers": bad_default_headers,
    "retry_policy": bad_retry_policies,
}


@contextmanager
def environment(**variables: str) -> Iterator[None]:
    """Set environment variables for one Hypothesis example (a fixture would span all examples)."""
    os.environ.update(variables)
    try:
        yield
    finally:
        for name in variables:
            os.environ.pop(name, None)


def no_network(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"a request was sent: {request.method} {request.url}")


def offline(cls: Client, api_key: str = API_KEY) -> FedaPay | AsyncFedaPay:
    """A client whose every request fails the test: what it refuses, it refuses before sending.

    A live key gets environment="live": it must be said (issue 13)."""
    transport = httpx.MockTransport(no_network)
    environment = "live" if api_key.startswith("sk_live_") else None
    if cls is FedaPay:
        return FedaPay(api_key, environment=environment, http_client=httpx.Client(transport=transport))
    return AsyncFedaPay(api_key, environment=environment, http_client=httpx.AsyncClient(transport=transport))


def call(client: FedaPay | AsyncFedaPay, operation: Callable[[Any], Any]) -> Any:
    result = operation(client.payouts)
    return asyncio.run(result) if isinstance(client, AsyncFedaPay) else result


# --- class 9: every setting checked at construction ---------------------------------------------


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize("setting", sorted(BAD_ARGUMENTS))
@settings(deadline=None, max_examples=150)
@given(data=st.data())
def test_every_bad_argument_is_refused_at_construction_naming_it(
    cls: Client, setting: str, data: st.DataObject
) -> None:
    value = data.draw(BAD_ARGUMENTS[setting], label=setting)
    with pytest.raises(InvalidArgumentError) as caught:
        cls(API_KEY, **{setting: value})
    assert caught.value.argument.startswith(setting)  # "timeout.read", "default_headers['X-Trace']"
    assert str(caught.value).startswith(caught.value.argument + ": ")


BAD_ENVIRONMENT: dict[str, tuple[str, st.SearchStrategy[Any]]] = {
    "FEDAPAY_API_KEY": ("api_key", spliced("sk_sandbox_abcDEF123456")),
    "FEDAPAY_ENVIRONMENT": ("environment", bad_environments.filter(lambda v: isinstance(v, str))),
    "FEDAPAY_BASE_URL": ("base_url", bad_base_urls.filter(lambda v: isinstance(v, str))),
    "FEDAPAY_ACCOUNT_ID": ("account_id", st.one_of(spliced("42"), st.sampled_from(["0", "-1"]).map(lambda s: s + "\n"),
                                                   st.text(min_size=65, max_size=80))),
    "FEDAPAY_MAX_RETRIES": ("max_retries", st.one_of(
        st.text(max_size=6).filter(lambda s: re.fullmatch(r"\s*[0-9]+\s*", s) is None),
        st.integers(min_value=101, max_value=10**30).map(str),
        st.sampled_from(["²", "٣", "1_0", "+1", "-1", "3.0", "0x3"]),
    )),
}


@settings(deadline=None, max_examples=300)
@given(data=st.data())
def test_every_bad_environment_variable_is_refused_naming_setting_and_variable(data: st.DataObject) -> None:
    variable = data.draw(st.sampled_from(sorted(BAD_ENVIRONMENT)), label="variable")
    setting, values = BAD_ENVIRONMENT[variable]
    value = data.draw(values.filter(lambda v: v != "" and not NOT_IN_AN_ENVIRONMENT.search(v)), label="value")
    base = {} if variable == "FEDAPAY_API_KEY" else {"FEDAPAY_API_KEY": API_KEY}
    with environment(**base, **{variable: value}), pytest.raises(InvalidArgumentError) as caught:
        FedaPay()
    assert caught.value.argument == setting
    assert variable in str(caught.value)


def test_empty_environment_variables_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS[1:]:
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("FEDAPAY_API_KEY", API_KEY)
    with FedaPay() as client:
        assert (client.environment, client.base_url, client.account_id) == (
            "sandbox", "https://sandbox-api.fedapay.com/v1", None)
        assert client.retry_policy.max_retries == 2


def test_default_headers_can_never_replace_or_double_the_authorization() -> None:
    # Today a lower-case "authorization" is kept beside the client's own: two Authorization headers.
    for name in ("Authorization", "authorization", "AUTHORIZATION"):
        with pytest.raises(InvalidArgumentError, match="api_key") as caught:
            FedaPay(API_KEY, default_headers={name: "Bearer sk_live_someone_else"})
        assert "sk_live_someone_else" not in str(caught.value)
    # A default Idempotency-Key would make every create after the first return the first payout.
    with pytest.raises(InvalidArgumentError, match="idempotency_key"):
        FedaPay(API_KEY, default_headers={"Idempotency-Key": "fixed"})
    # Values are never quoted: a custom header may carry a credential.
    with pytest.raises(InvalidArgumentError) as bad_value:
        FedaPay(API_KEY, default_headers={"X-Partner-Token": "tok_SECRETVALUE\r\nX-Evil: 1"})
    assert bad_value.value.argument == "default_headers['X-Partner-Token']"
    assert "SECRETVALUE" not in str(bad_value.value)
    with FedaPay(API_KEY, default_headers={"X-Partner": "a b", "User-Agent": "mine/1"}) as client:
        assert client._http.headers.get_list("authorization") == [f"Bearer {API_KEY}"]
        assert (client._http.headers["x-partner"], client._http.headers["user-agent"]) == ("a b", "mine/1")


def test_a_base_url_with_credentials_is_refused_without_quoting_them() -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        FedaPay(API_KEY, base_url="https://admin:hunter2pass@sandbox-api.fedapay.com/v1")
    assert caught.value.argument == "base_url"
    assert "hunter2pass" not in str(caught.value)
    with FedaPay(API_KEY, base_url="http://[::1]:4010/") as client:
        assert client.base_url == "http://[::1]:4010/v1"


# --- class 9: RetryPolicy --------------------------------------------------------------------------

POLICY_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "max_retries": bad_counts | st.none(),
    "initial_delay": bad_seconds(3600, allow_zero=True) | st.none(),
    "max_delay": bad_seconds(3600, allow_zero=True) | st.none(),
    "max_retry_after": bad_seconds(3600, allow_zero=True) | st.none(),
}


@settings(deadline=None, max_examples=300)
@given(data=st.data())
def test_a_retry_policy_refuses_every_bad_value_when_built_and_when_changed(data: st.DataObject) -> None:
    field = data.draw(st.sampled_from(sorted(POLICY_FIELDS)), label="field")
    value = data.draw(POLICY_FIELDS[field], label="value")
    # `RetryPolicy(max_retries="3")` raised TypeError only after a create got a 500; `initial_delay=inf`
    # crashed the sync client in time.sleep and hung the async one.
    with pytest.raises(InvalidArgumentError) as built:
        RetryPolicy(**{field: value})
    assert built.value.argument == field
    policy = RetryPolicy(3, initial_delay=0.25)
    with pytest.raises(InvalidArgumentError) as changed:
        setattr(policy, field, value)
    assert changed.value.argument == field
    assert (policy.max_retries, policy.initial_delay, policy.max_delay, policy.max_retry_after) == (3, 0.25, 8.0, 60.0)


@settings(deadline=None)
@given(
    max_retries=st.integers(0, 100),
    initial_delay=st.floats(0, 3600),
    max_delay=st.floats(0, 3600),
    retry_number=st.integers(0, 10**6),
)
def test_every_valid_policy_waits_a_finite_bounded_time(
    max_retries: int, initial_delay: float, max_delay: float, retry_number: int
) -> None:
    policy = RetryPolicy(max_retries, initial_delay=initial_delay, max_delay=max_delay)
    delay = policy.delay(retry_number, None)  # today: OverflowError past retry 1023
    assert delay is not None
    assert math.isfinite(delay)
    assert 0.75 * min(max_delay, initial_delay * 2.0 ** min(retry_number, 64)) - 1e-9 <= delay <= max_delay


# --- class 10 (configuration part): every per-call timeout -----------------------------------------

OPERATIONS: list[Callable[[Any, Any], Any]] = [
    lambda payouts, timeout: payouts.retrieve(7, timeout=timeout),
    lambda payouts, timeout: payouts.list(timeout=timeout),
    lambda payouts, timeout: payouts.delete(7, timeout=timeout),
    lambda payouts, timeout: payouts.create(amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER,
                                            timeout=timeout),
    lambda payouts, timeout: payouts.start([7, 8], timeout=timeout),
]


@pytest.mark.parametrize("cls", CLIENTS)
@settings(deadline=None, max_examples=150)
@given(timeout=bad_timeouts, operation=st.sampled_from(OPERATIONS))
def test_a_bad_per_call_timeout_is_refused_before_any_request(
    cls: Client, timeout: Any, operation: Callable[[Any, Any], Any]
) -> None:
    client = offline(cls)
    with pytest.raises(InvalidArgumentError) as caught:
        call(client, lambda payouts: operation(payouts, timeout))
    assert caught.value.argument.startswith("timeout")


# --- class 12: the API key's form, and where it never appears -----------------------------------

key_cores = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789", min_size=16, max_size=40)


def safe_repr(value: object) -> str:
    try:
        return repr(value)
    except Exception:  # noqa: BLE001 - a half-built object's repr may fail; a real printer would skip it too
        return f"<{type(value).__name__}>"


def everything_printed(error: BaseException) -> str:
    """All a logger, error tracker or `--showlocals` could print about `error`.

    Its str, repr and args, the same for its cause and context chain, the formatted traceback, and
    every local of every library frame it passed through.
    """
    texts: list[str] = ["".join(traceback.format_exception(error))]
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current), *map(safe_repr, current.args), *map(safe_repr, vars(current).values())]
        for frame, _ in traceback.walk_tb(current.__traceback__):
            if "fedapay_payouts" in frame.f_code.co_filename:
                texts += [f"{name}={safe_repr(value)}" for name, value in frame.f_locals.items()]
        current = current.__cause__ or current.__context__
    return "\n".join(texts)


def assert_no_part_of(secret: str, text: str) -> None:
    assert secret not in text
    pieces = {secret[i:i + 8] for i in range(len(secret) - 7)}
    found = sorted(piece for piece in pieces if piece in text)
    assert not found, f"parts of the key were printed: {found}"


@pytest.mark.parametrize("cls", CLIENTS)
@settings(deadline=None, max_examples=200)
@given(prefix=st.sampled_from(["sk_sandbox_", "sk_live_", ""]), core=key_cores, data=st.data())
def test_a_malformed_api_key_is_refused_and_no_part_of_it_is_printed(
    cls: Client, prefix: str, core: str, data: st.DataObject
) -> None:
    good = prefix + core
    client = offline(cls, good)  # the form: printable ASCII without spaces
    assert client._headers["authorization"] == f"Bearer {good}"
    bad = data.draw(st.one_of(
        spliced(good),
        st.builds("{}{}{}".format, st.sampled_from(["", " ", "\t", "\n"]), st.just(good),
                  st.sampled_from(["\n", "\r\n", " ", "\t", "\x00"])),
        st.builds("{}{}".format, st.just(good), st.text(min_size=1, max_size=3).filter(lambda s: not s.isascii())),
    ), label="bad key")
    from_environment = data.draw(st.booleans(), label="from the environment") and not NOT_IN_AN_ENVIRONMENT.search(bad)
    variables, arguments = ({"FEDAPAY_API_KEY": bad}, ()) if from_environment else ({}, (bad,))
    with environment(**variables), pytest.raises(InvalidArgumentError) as caught:
        cls(*arguments)
    assert caught.value.argument == "api_key"
    assert ("FEDAPAY_API_KEY" in str(caught.value)) is from_environment
    assert_no_part_of(core, everything_printed(caught.value))


later_failures: list[dict[str, Any]] = [
    {"environment": "production"},
    {"base_url": "ftp://example.com"},
    {"account_id": "4\n2"},
    {"timeout": math.nan},
    {"max_retries": "3"},
    {"default_headers": {"Authorization": "x"}},
    {"http_client": object()},
    {"retry_policy": {"max_retries": 1}},
]


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize("failure", later_failures, ids=[next(iter(f)) for f in later_failures])
@pytest.mark.parametrize("from_environment", [False, True], ids=["argument", "environment"])
def test_no_library_frame_keeps_the_plain_api_key_when_construction_fails(
    cls: Client, failure: dict[str, Any], from_environment: bool
) -> None:
    key = "sk_live_Frame9Locals4Show7Key2"
    # From the environment: today `env = os.environ` sat in resolve_config, and its repr is the whole environment.
    variables, arguments = ({"FEDAPAY_API_KEY": key}, ()) if from_environment else ({}, (key,))
    with environment(**variables), pytest.raises(InvalidArgumentError) as caught:
        cls(*arguments, **{"environment": "live", **failure})  # a live key, said live: `failure` is what fails
    assert caught.value.argument == next(iter(failure))
    assert_no_part_of(key[3:], everything_printed(caught.value))


def test_a_traceback_with_locals_of_a_failed_construction_prints_and_hides_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Before the fix, repr() of the half-built client raised AttributeError inside traceback printing.
    import traceback

    from fedapay_payouts import FedaPay, InvalidArgumentError

    monkeypatch.setenv("FEDAPAY_API_KEY", "sk_sandbox_TracebackLocals123")  # no local of this test holds it
    try:
        FedaPay(timeout=float("nan"))
    except InvalidArgumentError as exc:
        error = exc
    text = "".join(traceback.TracebackException.from_exception(error, capture_locals=True).format())
    assert "InvalidArgumentError" in text
    assert "<not configured>" in text
    assert "TracebackLocals" not in text
