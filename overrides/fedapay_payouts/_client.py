"""`FedaPay` and `AsyncFedaPay`: thin twins over one shared core, each with one driver.

The core (`BaseClient`) settles the configuration and builds requests. Every operation is written
once, in `_payouts.py`, as a generator of events (`_retry.Send(request)`, `_retry.Sleep(seconds)`)
that returns the result; each twin's `drive` performs them (an httpx send, see "Sending" below, and
`time.sleep`, or their awaitable versions). So the retry policy, validation and reply reading cannot drift apart
between sync and async. The layers a call crosses are listed in `_core.py`.

Test seams, public and documented: `transport=` (an httpx transport under the client's own pool,
which keeps its deadline and size machinery) and `sleep=` (what performs `Sleep`, instead of
`time.sleep` / `asyncio.sleep`).

Throughput under concurrency: httpcore's pool scans all its requests and connections on every
request, and hands one idle connection to several callers at once (`_slots.py`), so past a few
requests in flight each one costs more than it brings (on loopback, 64 in flight gave half the
payouts/s of 8). Each twin lets at most `max_in_flight` attempts on the wire at once
(`DEFAULT_MAX_IN_FLIGHT`, from `benchmarks/client/bench_client.py`), and on a pool of its own each of
those places owns one connection; the others wait their turn, within their pool timeout and deadline
(a wait that runs out is an `httpx.PoolTimeout`: not sent).

Each driver also holds every call to its bounds: the call's `deadline` (`_deadline.py`: all attempts,
waits and checks; `timeout=` stays per attempt, and its read value bounds the reading of one whole
reply) and `max_response_bytes` (`_reply.py`: each reply is streamed and no more than that is read,
decoded included). And it scrubs the API key from what the server sent back where a repr could show
it (the reason phrase, header values), see `_redact.py`.

Sending, through our pool or yours (`_send_through`): the drivers send requests built here (the body
already read), streamed, never following a redirect. For those `httpx.Client.send` runs an auth flow,
a redirect loop and the cookie jar's bookkeeping on every call: with no auth the flow hands the
request through unchanged, the loop runs once, and a reply that sets no cookie leaves a standard jar
as it was, yet httpx copies the request and the reply into urllib objects for the jar: about 55 µs of
a loopback create, a sixth of the client's own time (why a client of yours was 1.16x raw httpx where
ours, whose jar is `_NoCookies`, was 1.02x). The drivers do the rest as httpx 0.28 does, in its order:
a closed client refuses (the same RuntimeError), a client that sends is marked opened; its request
hooks; its transport for the URL (mounts: proxies); the error's `request`; `response.elapsed`; its
default encoding; its "HTTP Request: ..." log line; its response hooks; `next_request` on a redirect
reply. Its jar sees every reply that sets a cookie; a reply with no `Set-Cookie` / `Set-Cookie2`
skips the jar only when that is httpx's `Cookies` over the standard `CookieJar` (which would then change
nothing but a clock it reads again before any use) and `http.cookiejar.debug` is off. What is not a
pass-through stays with httpx: a client with `auth`, a URL with user info (httpx adds Basic auth) or a
negative `max_redirects` goes through `Client.send` whole. httpx is pinned below 0.29 (pyproject.toml);
tests/client/test_client_send_path.py compares both ways, reply for reply and request for request.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from functools import cache, cached_property
from http import cookiejar
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, Self, TypeVar, cast

import httpx
from httpx._client import BoundAsyncStream, BoundSyncStream, ClientState

from ._assemble import AUTO_HEADERS, assemble, head_is_plain
from ._config import (
    MAX_RETRIES_LIMIT,
    NOT_GIVEN,
    Config,
    NotGiven,
    Secret,
    TimeoutTypes,
    check_account_id,
    check_count,
    check_headers,
    proxy_problem,
    resolve_config,
    shown,
    to_timeout,
)
from ._deadline import (
    ASYNC_TRACE,
    DEFAULT_DEADLINE,
    NO_TRACE,
    READING,
    SYNC_TRACE,
    Attempt,
    Deadline,
    check_deadline,
)
from ._exceptions import APIConnectionError, InvalidArgumentError
from ._logs import setup_logging
from ._overrun import aread_open, close_if_overrun, read_open
from ._redact import register
from ._reply import ACCEPT_ENCODING, DEFAULT_MAX_RESPONSE_BYTES, BodyReader, check_max_response_bytes
from ._retry import HANDED, RetryPolicy, Send, Sleep, Steps, UnexpectedError, interrupted_note, logger
from ._slots import (
    SLOT,
    AsyncSlotTransport,
    AsyncTurns,
    PerLoopTransport,
    Slot,
    SlotTransport,
    SyncTurns,
    async_transport,
    per_loop_proxy_mounts,
    sync_transport,
    track,
)
from ._version import user_agent

if TYPE_CHECKING:
    import asyncio

    from ._payouts import AsyncPayouts, Payouts

__all__ = ["DEFAULT_MAX_IN_FLIGHT", "DEFAULT_MAX_IN_FLIGHT_SHARED_POOL", "AsyncFedaPay", "FedaPay"]

R = TypeVar("R")
HttpClient = TypeVar("HttpClient", httpx.Client, httpx.AsyncClient)
Transport = TypeVar("Transport", httpx.BaseTransport, httpx.AsyncBaseTransport)
SleepHook = TypeVar("SleepHook")
Outcome = httpx.Response | httpx.RequestError

# With one connection per place (`_slots.py`), 8 to 64 callers get the same payouts/s on loopback at this
# cap (benchmarks/client/RESULTS.md), and on a real network a client does about max_in_flight / RTT
# calls per second: 32 at a 150 ms RTT is about 210/s, where 8 was about 53/s.
DEFAULT_MAX_IN_FLIGHT: Final = 32
# With an `http_client` or `transport` of yours, the places are turns only and its one pool serves them all;
# past about 8 requests in flight that pool spends more CPU on itself than it gains (32 in flight on
# loopback: 1.10x raw httpx's time per call at a cap of 32, 0.85x at 8), hence a lower default there.
DEFAULT_MAX_IN_FLIGHT_SHARED_POOL: Final = 8
MAX_MAX_IN_FLIGHT: Final = 10_000

USER_AGENT = user_agent()
_AUTO_HEADERS: Final = frozenset(name.encode("ascii") for name in AUTO_HEADERS)
_HTTPX_LOG: Final = logging.getLogger("httpx")  # httpx's own logger: its filters (`_redact.py`) apply
_SETS_COOKIE: Final = frozenset({b"set-cookie", b"set-cookie2"})
_CLOSED: Final = "Cannot send a request, as the client has been closed."
# A reply header whose name showed the API key, renamed (`_scrub`): its value stays, redacted like any other.
REDACTED_HEADER: Final = b"x-fedapay-redacted-header"


class _NoCookies(httpx.Cookies):
    """The cookie jar of our own pool: it takes none (a Set-Cookie is ignored) and so sends none."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:
        return None


def _whole(client: httpx.Client | httpx.AsyncClient, request: httpx.Request) -> bool:
    """Whether httpx must send this request itself (an auth flow to run, or a setting that refuses it)."""
    return client.auth is not None or client.max_redirects < 0 or bool(request.url.userinfo)


def _take_cookies(client: httpx.Client | httpx.AsyncClient, response: httpx.Response) -> None:
    jar = client.cookies
    if (
        type(jar) is httpx.Cookies and type(jar.jar) is cookiejar.CookieJar and not getattr(cookiejar, "debug", False)
        and not any(name.lower() in _SETS_COOKIE for name, _ in response.headers.raw)
    ):
        return  # nothing for the jar: it would end as it was
    jar.extract_cookies(response)


def _log(request: httpx.Request, response: httpx.Response) -> None:
    if _HTTPX_LOG.isEnabledFor(logging.INFO):
        _HTTPX_LOG.info('HTTP Request: %s %s "%s %d %s"', request.method, request.url, response.http_version,
                        response.status_code, response.reason_phrase)


def _open(client: httpx.Client | httpx.AsyncClient) -> None:
    """What `send` does first: a closed client refuses (httpx's RuntimeError), one that sends is marked opened."""
    if client.is_closed:
        raise RuntimeError(_CLOSED)
    client._state = ClientState.OPENED


def _received(client: httpx.Client | httpx.AsyncClient, request: httpx.Request, response: httpx.Response) -> None:
    """What `send` does with a reply before its response hooks (the stream already bound by the caller)."""
    response.request = request
    _take_cookies(client, response)
    response.default_encoding = client._default_encoding
    _log(request, response)


def _after_hooks(client: httpx.Client | httpx.AsyncClient, request: httpx.Request, response: httpx.Response) -> None:
    """What `send` does after the response hooks: no history (nothing followed), the redirect it would take."""
    response.history = []
    if response.has_redirect_location:
        response.next_request = client._build_redirect_request(request, response)


_CLOSING: set[asyncio.Task[None]] = set()  # transports being closed in the background (`_renew`), kept alive


def _renew(slot: Slot[httpx.AsyncBaseTransport]) -> None:
    """Give `slot` a new transport at its next use (`AsyncSlotTransport`); close its old one in the background
    (the caller may be cancelled: nothing of this is awaited)."""
    import asyncio

    old, slot.transport = slot.transport, None
    if old is None:
        return
    task = asyncio.get_running_loop().create_task(old.aclose())
    _CLOSING.add(task)
    task.add_done_callback(_closed)


def _closed(task: asyncio.Task[None]) -> None:
    _CLOSING.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: a failed close of a transport let go is nobody's error


class _Interruption:
    """One call's watch for an interruption: a cancellation (asyncio) or Ctrl-C leaving the call after a request
    that changes state was handed to the transport (`_retry.HANDED`) gets a note saying the server may have acted
    (`_retry.interrupted_note`); the caller's own exception goes on. Shared by both drivers."""

    __slots__ = ("acted",)

    def __init__(self) -> None:
        self.acted: httpx.Request | None = None

    def __enter__(self) -> _Interruption:
        return self

    def saw(self, request: httpx.Request) -> None:
        if request.method != "GET" and request.extensions.get(HANDED):
            self.acted = request

    def __exit__(self, kind: object, exc: BaseException | None, traceback: object) -> None:
        if self.acted is not None and exc is not None and not isinstance(exc, Exception):
            note = interrupted_note(self.acted)
            exc.add_note(note)
            # Also logged: a note does not always reach the caller (an `asyncio.TaskGroup` reports its first
            # failure, not the siblings it cancelled; `gather(return_exceptions=True)` makes a new CancelledError).
            logger.warning("%s", note)


def _send_through(client: httpx.Client, request: httpx.Request) -> httpx.Response:
    """`client.send(request, stream=True, follow_redirects=False)`, less its steps that do nothing here (module).
    The steps shared with `_asend_through` are `_open`, `_received` and `_after_hooks`."""
    if _whole(client, request):
        return client.send(request, stream=True, follow_redirects=False)
    _open(client)
    hooks = client.event_hooks
    for hook in hooks["request"]:
        hook(request)
    transport = client._transport_for_url(request.url)
    start = time.perf_counter()
    try:
        response = transport.handle_request(request)
    except httpx.RequestError as exc:
        exc.request = request  # what httpx's `request_context` does
        raise
    response.stream = BoundSyncStream(response.stream, response=response, start=start)  # type: ignore[arg-type]
    _received(client, request, response)
    try:
        for hook in hooks["response"]:
            hook(response)
        _after_hooks(client, request, response)
    except BaseException:
        response.close()
        raise
    return response


async def _asend_through(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """The asyncio twin of `_send_through`: only the awaits differ."""
    if _whole(client, request):
        return await client.send(request, stream=True, follow_redirects=False)
    _open(client)
    hooks = client.event_hooks
    for hook in hooks["request"]:
        await hook(request)
    transport = client._transport_for_url(request.url)
    start = time.perf_counter()
    try:
        response = await transport.handle_async_request(request)
    except httpx.RequestError as exc:
        exc.request = request
        raise
    response.stream = BoundAsyncStream(response.stream, response=response, start=start)  # type: ignore[arg-type]
    _received(client, request, response)
    try:
        for hook in hooks["response"]:
            await hook(response)
        _after_hooks(client, request, response)
    except BaseException:
        await response.aclose()
        raise
    return response


def _kind_of(value: object) -> str:
    """A callable named by what it is, never by its repr (`sleep=` messages)."""
    name = getattr(value, "__qualname__", None)
    return f"{name}()" if isinstance(name, str) and len(name) <= 60 else shown(value)


@cache
def default_ssl_context() -> ssl.SSLContext:
    """httpx's default verification (certifi's CA bundle), made once per process and shared: a context is
    safe to share between connections and threads, and this one is never changed after it is made."""
    return httpx.create_ssl_context()


class BaseClient(Generic[HttpClient, Transport, SleepHook]):
    """Configuration, headers and request building, shared by both twins.

    Arguments (each falls back to the environment, then a default; see `_config.py`): `api_key`,
    `environment` ("sandbox" or "live"), `base_url`, `account_id` (the `FedaPay-Account` header),
    `timeout` (seconds or `httpx.Timeout`, per attempt), `max_retries` or a whole `retry_policy`,
    `default_headers`, and `http_client` (yours to configure and close). Not from the environment:
    `deadline` (seconds for a whole call, all attempts and waits included; 120 by default; each
    operation also takes its own `deadline=`), `max_response_bytes` (the largest reply body read,
    decoded; 10 MiB by default), `max_in_flight` (attempts of this client on the wire at once, 32 by
    default; 8 with an `http_client` or `transport` of yours, whose one pool serves them all),
    `transport` (an httpx transport for the client's own pool: tests, proxies, mounts) and
    `sleep` (what waits between retries: `time.sleep`, or `asyncio.sleep` for the async twin).
    """

    _http_client_type: type[HttpClient]
    _transport_type: type[Transport]

    def __init__(
        self,
        api_key: str | None = None,
        *,
        environment: str | None = None,
        base_url: str | None = None,
        account_id: str | int | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        retry_policy: RetryPolicy | None = None,
        default_headers: Mapping[str, str] | None = None,
        http_client: HttpClient | None = None,
        deadline: float | NotGiven = NOT_GIVEN,
        max_response_bytes: int | NotGiven = NOT_GIVEN,
        max_in_flight: int | NotGiven = NOT_GIVEN,
        transport: Transport | None = None,
        sleep: SleepHook | None = None,
    ) -> None:
        # Wrapped before anything can raise, and the plain name dropped: no frame local shows the key
        # (tracebacks printed with their locals, debuggers, error trackers).
        key = None if api_key is None else Secret(api_key)
        del api_key
        setup_logging()  # FEDAPAY_LOG=info|debug: this package's log on stderr (`_logs.py`)
        if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
            raise InvalidArgumentError("retry_policy", f"must be a RetryPolicy, got {shown(retry_policy)}")
        if retry_policy is not None and max_retries is not None:
            raise InvalidArgumentError("max_retries", "give either max_retries or retry_policy, not both")
        http_client_type = self._http_client_type
        if http_client is not None and not isinstance(http_client, http_client_type):
            raise InvalidArgumentError("http_client", f"must be an {http_client_type.__qualname__}")
        if transport is not None and not isinstance(transport, self._transport_type):
            raise InvalidArgumentError("transport", f"must be an {self._transport_type.__qualname__}")
        if transport is not None and http_client is not None:
            raise InvalidArgumentError("transport", "give either transport or http_client, not both")
        if sleep is not None:
            self._check_sleep(sleep)
        if isinstance(max_in_flight, NotGiven):
            own_pool = http_client is None and transport is None
            max_in_flight = DEFAULT_MAX_IN_FLIGHT if own_pool else DEFAULT_MAX_IN_FLIGHT_SHARED_POOL
        self._max_in_flight = check_count(max_in_flight, "max_in_flight", maximum=MAX_MAX_IN_FLIGHT, minimum=1)
        extra_headers = check_headers(default_headers)
        config = resolve_config(
            api_key=key,
            environment=environment,
            base_url=base_url,
            account_id=account_id,
            timeout=timeout,
            max_retries=retry_policy.max_retries if retry_policy is not None else max_retries,
        )
        self._config = config
        from ._json import dumps  # orjson (4 ms to import) loads with the first client, not with the package

        self._dumps = dumps
        self._retry = retry_policy if retry_policy is not None else RetryPolicy(config.max_retries)
        self._deadline = DEFAULT_DEADLINE if isinstance(deadline, NotGiven) else check_deadline(deadline)
        self._max_response_bytes = (
            DEFAULT_MAX_RESPONSE_BYTES if isinstance(max_response_bytes, NotGiven)
            else check_max_response_bytes(max_response_bytes)
        )
        self._redactor = register(config.api_key.reveal())  # masks the key in logs while this client lives
        self._trace: str | None = ASYNC_TRACE if self._http_client_type is httpx.AsyncClient else SYNC_TRACE
        self._default_headers = extra_headers
        headers = self._our_headers()
        self._base_url = config.base_url
        self._http: HttpClient
        self._prepare(sleep)
        self._slotted = http_client is None and transport is None  # a pool of our own: one connection per place
        if http_client is None:
            self._owns_http = True
            # One SSL context for every client of the process and all their places' transports: loading the
            # CA bundle costs about 20 ms, which each client, copy and place would otherwise pay again.
            verify = default_ssl_context()
            try:
                self._http = http_client_type(
                    headers=headers, timeout=config.timeout, follow_redirects=False, verify=verify,
                    transport=cast(Any, transport),  # checked above against this twin's transport type
                    trust_env=config.environment_proxies,
                )
            except (ImportError, ValueError, httpx.InvalidURL) as problem:  # an environment proxy httpx refuses
                raise proxy_problem(problem) from None
            if self._slotted:  # httpx's own transport (env proxies stay as its mounts) gives way to the places
                self._http._transport = self._slot_transport(verify)
                if isinstance(self._http, httpx.AsyncClient):  # its proxy mounts: a pool per event loop too
                    per_loop_proxy_mounts(self._http, verify)
            if isinstance(self._http, httpx.Client):
                track(self._http)  # its proxy mounts' connections are not shared with a forked child
            # A bearer-token API needs no cookies: our own pool neither sends nor keeps them. httpx
            # would otherwise copy every reply's request into a urllib request for its cookie jar,
            # about a tenth of the client's own time per call (`_NoCookies`).
            self._http._cookies = _NoCookies()  # httpx 0.28 (pinned <0.29): the jar `send` updates
            # httpx's own defaults under ours (Connection: keep-alive), kept for copies (`with_options`).
            self._pool_headers = httpx.Headers(self._http.headers)
            for name in headers:
                del self._pool_headers[name]
            if isinstance(self._http, httpx.Client):
                from ._socket_deadline import install  # httpcore loads with the first client, not the package

                if install(self._http):
                    self._trace = NO_TRACE  # its sockets report each phase themselves
        else:
            # A client we did not make keeps its own settings; ours travel with each request.
            self._owns_http = False
            self._http = http_client
        self._closes_http = self._owns_http  # a copy (`with_options`) never closes the pool it shares
        # Whether the transport says when a request starts to leave (see `_deadline.Attempt`): httpx's own
        # transports (httpcore's trace) and the places' do; yours (MockTransport, ASGI, custom) may not.
        self._phased = isinstance(
            self._http._transport_for_url(httpx.URL(self._base_url)),
            httpx.HTTPTransport | httpx.AsyncHTTPTransport | SlotTransport | AsyncSlotTransport | PerLoopTransport,
        )
        self._prepare_headers(headers)
        self._timeout = config.timeout.as_dict()
        self._urls = {path: httpx.URL(self._base_url + path) for path in ("/payouts", "/payouts/start")}  # parsed once

    def _prepare(self, sleep: SleepHook | None) -> None:
        """Each twin's own parts: what performs `Sleep`, and the places of `max_in_flight` (`_slots.py`)."""
        raise NotImplementedError

    @staticmethod
    def _check_sleep(sleep: object) -> None:
        """Each twin's kind of `sleep=` (a plain function, or an async one), refused at construction otherwise."""
        raise NotImplementedError

    def _refuse_closed(self) -> None:
        """A call on a closed client (or a copy of one): a typed error before anything is built or sent."""
        if self._http.is_closed:
            raise APIConnectionError(
                "the client has been closed (close() or the end of its `with` block; a with_options copy shares "
                "its original's pool): the request was not sent, nothing happened on the server. Make a new client.",
                request=None, request_sent=False,
            )

    @staticmethod
    def _unexpected(attempt: Attempt, exc: Exception) -> UnexpectedError:
        """An exception that is not httpx's, raised while sending: handed on typed (`_retry.UnexpectedError`),
        saying whether the request may have left. Not chained to it: its text is redacted on the way out
        (`_retry.connection_error`), its traceback's frames could not be."""
        try:
            text = str(exc)[:200]
        except Exception:  # noqa: BLE001 - an exception whose own text fails: its type says enough
            text = "(its text could not be read)"
        return UnexpectedError(f"{type(exc).__name__}: {text}", request=attempt.request, sent=attempt.may_have_left())

    @staticmethod
    def _bad_sleep(result: object, wanted: str) -> InvalidArgumentError:
        return InvalidArgumentError("sleep", f"returned {shown(result)} instead of {wanted}: it did not wait")

    @staticmethod
    def _sleep_failed(exc: Exception) -> InvalidArgumentError:
        """`sleep=` raised when called with the seconds to wait (a wrong signature, a bug of its own): named by its
        type only (its text is the caller's code's, not ours to show)."""
        return InvalidArgumentError("sleep", f"raised {type(exc).__name__} when called with the seconds to wait: "
                                             "it did not wait")

    def _slot_transport(self, verify: Any) -> Any:
        """The transport of a pool of our own: one connection per place."""
        raise NotImplementedError

    def _our_headers(self) -> httpx.Headers:
        """The headers this client sends on every request (httpx.Headers, not a dict: its repr masks Authorization)."""
        headers = httpx.Headers({"Accept": "application/json", "User-Agent": USER_AGENT, **self._default_headers})
        headers["Accept-Encoding"] = ACCEPT_ENCODING  # only what `_reply.BodyReader` inflates within its limit
        headers["Authorization"] = "Bearer " + self._config.api_key.reveal()
        if self._config.account_id is not None:
            headers["FedaPay-Account"] = self._config.account_id
        return headers

    def _prepare_headers(self, headers: httpx.Headers) -> None:
        """The heads requests are assembled from (`_assemble.py`, `build_request`). On a pool of our own they are
        made here once: Host, httpx's defaults, then ours. A client you passed in has its headers read at each
        call, with ours merged over them."""
        self._host: bytes = httpx.URL(self._base_url).netloc  # every URL of ours is base_url + a path
        if self._owns_http:
            self._plain_headers: httpx.Headers = httpx.Headers(self._pool_headers)
            self._plain_headers.update(headers)
            self._json_headers: httpx.Headers = httpx.Headers(
                {**self._plain_headers, "Content-Type": "application/json"}
            )
            self._headers: Mapping[str, str] = httpx.Headers()
            self._plain_head: httpx.Headers = httpx.Headers([(b"Host", self._host), *self._plain_headers.raw])
            self._json_head: httpx.Headers = httpx.Headers([(b"Host", self._host), *self._json_headers.raw])
        else:
            self._headers = headers
            # Kept as httpx.Headers, whose repr masks the API key (a list of raw pairs would show it in `vars()`).
            self._our_names: frozenset[bytes] = frozenset(name.lower() for name, _ in headers.raw)
            self._our_plain: httpx.Headers = headers
            self._our_json: httpx.Headers = httpx.Headers([*headers.raw, (b"Content-Type", b"application/json")])

    def with_options(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        account_id: str | int | NotGiven | None = NOT_GIVEN,
        deadline: float | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        retry_policy: RetryPolicy | NotGiven = NOT_GIVEN,
        max_response_bytes: int | NotGiven = NOT_GIVEN,
    ) -> Self:
        """A copy of this client with some settings changed, sharing its connection pool and its in-flight limit.

        `client.with_options(account_id=7).payouts.create(...)` pays from sub-account 7 (the
        `FedaPay-Account` header) on the same connections; `account_id=None` sends no account header.
        `timeout` (per attempt), `max_retries` (the policy's delays kept), `deadline` (per call) and
        `default_headers` (merged over this client's), `retry_policy` (a whole policy, instead of
        `max_retries`) and `max_response_bytes` are checked as the constructor checks them
        (`InvalidArgumentError` naming the option); what is not given is this client's own value, never
        read again from the environment. The pool stays this client's: closing a copy (or leaving its
        `with` block) closes nothing, and closing this client ends the copies' pool too.
        """
        config = self._config
        if not isinstance(retry_policy, NotGiven | RetryPolicy):
            raise InvalidArgumentError("retry_policy", f"must be a RetryPolicy, got {shown(retry_policy)}")
        if isinstance(retry_policy, RetryPolicy) and not isinstance(max_retries, NotGiven):
            raise InvalidArgumentError("max_retries", "give either max_retries or retry_policy, not both")
        reply_limit = (
            self._max_response_bytes if isinstance(max_response_bytes, NotGiven)
            else check_max_response_bytes(max_response_bytes)
        )
        new_timeout = config.timeout if isinstance(timeout, NotGiven) else to_timeout(timeout)
        retries = (
            retry_policy.max_retries if isinstance(retry_policy, RetryPolicy)
            else self._retry.max_retries if isinstance(max_retries, NotGiven)
            else check_count(max_retries, "max_retries", maximum=MAX_RETRIES_LIMIT)
        )
        account = (
            config.account_id if isinstance(account_id, NotGiven)
            else None if account_id is None else check_account_id(account_id)
        )
        new_deadline = self._deadline if isinstance(deadline, NotGiven) else check_deadline(deadline)
        extra = dict(self._default_headers)
        if not isinstance(default_headers, NotGiven):
            given = check_headers(default_headers)
            extra = {name: value for name, value in extra.items() if name.lower() not in {n.lower() for n in given}}
            extra.update(given)
        copy = object.__new__(type(self))
        copy.__dict__.update({name: value for name, value in self.__dict__.items() if name != "payouts"})
        copy._config = Config(
            api_key=config.api_key, environment=config.environment, base_url=config.base_url,
            account_id=account, timeout=new_timeout, max_retries=retries,
        )
        if isinstance(retry_policy, RetryPolicy):
            copy._retry = retry_policy
        else:  # its own policy (a RetryPolicy can be changed in place): a copy never changes its parent
            policy = self._retry
            copy._retry = RetryPolicy(retries, initial_delay=policy.initial_delay, max_delay=policy.max_delay,
                                      max_retry_after=policy.max_retry_after)
        copy._deadline = new_deadline
        copy._max_response_bytes = reply_limit
        copy._timeout = new_timeout.as_dict()
        copy._default_headers = extra
        copy._closes_http = False
        copy._prepare_headers(copy._our_headers())
        return copy

    @property
    def environment(self) -> str:
        return self._config.environment

    @property
    def base_url(self) -> str:
        return self._config.base_url

    @property
    def account_id(self) -> str | None:
        return self._config.account_id

    @property
    def timeout(self) -> httpx.Timeout:
        return self._config.timeout

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._retry

    @property
    def deadline(self) -> float:
        """Seconds a call may take in all (attempts, waits, checks), unless it passes its own `deadline=`."""
        return self._deadline

    @property
    def max_response_bytes(self) -> int:
        return self._max_response_bytes

    @property
    def max_in_flight(self) -> int:
        """Attempts of this client on the wire at once; more calls wait their turn (see the module)."""
        return self._max_in_flight

    def _no_turn(self, attempt: Attempt) -> httpx.RequestError:
        """No place among the `max_in_flight` came free in time: nothing was sent."""
        if attempt.deadline.remaining() <= 0:
            return attempt.timed_out(None)
        return httpx.PoolTimeout(
            f"no free place among max_in_flight={self._max_in_flight} within the pool timeout",
            request=attempt.request,
        )

    def _start_deadline(self, deadline: object = NOT_GIVEN) -> Deadline:
        """The deadline of a call starting now: its own `deadline=` (checked) or the client's."""
        return Deadline(self._deadline if isinstance(deadline, NotGiven) else check_deadline(deadline))

    @staticmethod
    def _keep(response: httpx.Response, reader: BodyReader, body: bytes | None) -> None:
        """Give the response its body, or mark it as too large (nothing of it kept)."""
        if body is None or len(body) > reader.limit:
            reader.refuse(response)
        else:
            response._content = body  # what `Response.read()` sets; the stream was read here, within the limit

    def _scrub(self, response: httpx.Response) -> None:
        """Mask the API key in the reason phrase and the headers a server sent back (reprs and logs show them):
        in values, and in names, where it is looked for in any case (httpx lowercases names) and the whole name
        is replaced."""
        redactor = self._redactor
        redact = redactor.redact
        reason: bytes = response.extensions.get("reason_phrase", b"")
        raw: list[tuple[bytes, bytes]] = response.headers.raw
        seen = "\n".join([reason.decode("latin-1"), *(value.decode("latin-1") for _, value in raw)])
        names = [redactor.shows_folded(name.decode("latin-1")) for name, _ in raw]
        if redact(seen) is seen and not any(names):
            return
        response.extensions["reason_phrase"] = redact(reason.decode("latin-1")).encode("latin-1")
        response.headers = httpx.Headers([
            (REDACTED_HEADER if echoed else name, redact(value.decode("latin-1")).encode("latin-1"))
            for (name, value), echoed in zip(raw, names, strict=True)
        ])

    def build_request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> httpx.Request:
        """One request, built once and re-sent unchanged on every retry (same body, same Idempotency-Key).

        The URLs of create, list and start are parsed once, and the request is assembled from a head
        merged once (`_assemble.py`; `httpx.Client.build_request` and `httpx.Request` would merge and
        normalise every header again: 20 µs per call on our pool, 60 µs through yours, of a 300 µs
        loopback create). Our pool sends no cookies: this is a bearer-token API. Through a client you
        pass in, its headers as they are at this call go under ours; when its jar holds cookies or it
        has query parameters of its own, its `build_request` merges them. A header of the call
        (`extra_headers`) replaces ours, whatever its case, on either pool.
        """
        content = None if body is None else self._dumps(body)  # encoded once: compact UTF-8 (`_json.py`)
        extensions = {"timeout": self._timeout if isinstance(timeout, NotGiven) else to_timeout(timeout).as_dict()}
        url = self._urls.get(path) or httpx.URL(self._base_url + path)
        head = self._head(method, url, content, headers)
        if head is not None:
            return assemble(method, url, head, content, params=params, headers=headers, extensions=extensions)
        if self._owns_http:
            request_headers = (self._plain_headers if content is None else self._json_headers).copy()
            if headers:
                request_headers.update(headers)
            return httpx.Request(method, url, content=content, params=params, headers=request_headers,
                                 extensions=extensions)
        merged = httpx.Headers(self._headers)
        if content is not None:
            merged["Content-Type"] = "application/json"
        if headers:
            merged.update(headers)  # a call's header replaces ours whatever its case (a dict would keep both)
        return self._http.build_request(
            method, url, content=content, params=params, headers=merged, extensions=extensions
        )

    def _head(
        self, method: str, url: httpx.URL, content: bytes | None, headers: Mapping[str, str] | None
    ) -> httpx.Headers | None:
        """The head `assemble` starts from, or None when httpx must build the request itself: a header or an
        empty POST of httpx's own choosing (`head_is_plain`), and through your client, cookies in its jar or
        query parameters of its own (httpx merges those), or a header of httpx's own among its defaults."""
        if not head_is_plain(method, content, headers) or url.netloc != self._host:
            return None
        if self._owns_http:
            return (self._plain_head if content is None else self._json_head).copy()
        yours = self._http
        if yours.params or yours.cookies:
            return None
        ours = self._our_names
        kept: list[tuple[bytes, bytes]] = []
        for name, value in yours.headers.raw:  # as they are now: you may change them between calls
            lower = name.lower()
            if lower in _AUTO_HEADERS:
                return None
            if lower not in ours:
                kept.append((name, value))
        ours_now: httpx.Headers = self._our_plain if content is None else self._our_json
        return httpx.Headers([(b"Host", self._host), *kept, *ours_now.raw])

    def __repr__(self) -> str:
        # A client whose construction failed half-way has no settings yet: a traceback printed with
        # its locals still calls repr() on it.
        if not hasattr(self, "_config") or not hasattr(self, "_retry"):
            return f"{type(self).__name__}(<not configured>, api_key='[secure]')"
        return (
            f"{type(self).__name__}(environment={self.environment!r}, base_url={self.base_url!r}, "
            f"account_id={self.account_id!r}, max_retries={self._retry.max_retries}, api_key='[secure]')"
        )


class FedaPay(BaseClient[httpx.Client, httpx.BaseTransport, Callable[[float], None]]):
    """The FedaPay payouts client.

    ```python
    with FedaPay() as client:            # FEDAPAY_API_KEY, FEDAPAY_ENVIRONMENT from the environment
        payout = client.payouts.create(amount=1000, currency="XOF", mode="mtn_open",
                                       customer={"firstname": "Ada", "lastname": "Lovelace"})
    ```

    One connection pool per client: create one and reuse it (from many threads too).
    """

    _http_client_type = httpx.Client
    _transport_type = httpx.BaseTransport

    def _prepare(self, sleep: Callable[[float], None] | None) -> None:
        self._sleep = sleep or time.sleep
        self._turns = SyncTurns(self._max_in_flight)  # shared with `with_options` copies

    @staticmethod
    def _check_sleep(sleep: object) -> None:
        import inspect

        if not callable(sleep) or inspect.iscoroutinefunction(sleep) or inspect.iscoroutinefunction(
            getattr(sleep, "__call__", None)  # noqa: B004 - an object whose __call__ is async
        ):
            raise InvalidArgumentError(
                "sleep", f"must be a plain function taking seconds (time.sleep), got {_kind_of(sleep)}"
            )

    def _slept(self, seconds: float) -> InvalidArgumentError | None:
        """Wait with `sleep=`; the error to hand to the operation when it did not wait. Without `sleep=`, what
        `time.sleep` raises is no fault of an argument: a signal handler's exception (an alarm's `TimeoutError`,
        Celery's `SoftTimeLimitExceeded`) goes on as it is."""
        if self._sleep is time.sleep:
            time.sleep(seconds)
            return None
        try:
            waited: object = self._sleep(seconds)
        except Exception as exc:  # noqa: BLE001 - the hook's own failure, handed on typed
            return self._sleep_failed(exc)
        if waited is not None and inspect.isawaitable(waited):  # an async sleep= given to FedaPay
            getattr(waited, "close", lambda: None)()  # not awaited: no "never awaited" warning
            return self._bad_sleep(waited, "None (a plain function's result)")
        return None

    def _slot_transport(self, verify: Any) -> httpx.BaseTransport:
        from ._socket_deadline import install_on  # httpcore loads with the first client, not the package

        return sync_transport(self._turns, verify, install_on)

    @cached_property
    def payouts(self) -> Payouts:
        from ._payouts import Payouts

        return Payouts(self)

    def drive(self, steps: Callable[[], Steps[R]], deadline: float | NotGiven = NOT_GIVEN) -> R:
        """Run one call: make its steps, send what they ask to send, sleep when they ask to wait, all by the
        call's `deadline` (its own, checked first, or the client's)."""
        self._refuse_closed()
        limit = self._start_deadline(deadline)
        events = steps()
        # Only the operation's own end (StopIteration from `events`) ends the call: one raised by a
        # transport or a sleep must not pass for a result.
        with limit, _Interruption() as interrupted:
            try:
                event = next(events)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            while True:
                if type(event) is Send:
                    try:
                        outcome: Outcome | None = self._send(event.request, limit)
                    finally:
                        interrupted.saw(event.request)
                elif type(event) is Sleep:
                    outcome = None
                    problem = self._slept(min(event.seconds, max(limit.remaining(), 0.0)))
                    if problem is not None:  # handed to the operation: it says whether the server may have acted
                        try:
                            event = events.throw(problem)
                        except StopIteration as done:
                            return done.value  # type: ignore[no-any-return]
                        continue
                else:
                    raise TypeError(f"an operation yielded {type(event).__name__}, not Send or Sleep")
                try:
                    event = events.send(outcome)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                finally:
                    # Not kept in this frame once handed over: a transport error may quote what a server sent
                    # (the key echoed in a malformed status line), and a traceback printed with its locals
                    # shows every frame's.
                    del outcome

    def _send(self, request: httpx.Request, deadline: Deadline) -> Outcome:
        """One attempt: the reply read whole (within the size limit) by the attempt's limits, or the error."""
        attempt = Attempt(deadline, request, self._trace, self._phased)
        response = None
        slot = None
        interrupted = False
        try:
            if deadline.remaining() <= 0:
                return attempt.timed_out(None)
            slot = self._turns.take_now() or self._turns.take(self._turn_wait(attempt))
            if slot is None:
                return self._no_turn(attempt)
            if self._slotted:
                request.extensions[SLOT] = slot
            attempt.handed = True
            request.extensions[HANDED] = True
            response = _send_through(self._http, request)
            if attempt.phase != READING:  # a transport that reports no phases: its reply says the request left
                attempt.reading()
            if response.is_stream_consumed:  # a transport that hands the body already read
                self._keep(response, BodyReader(response, self._max_response_bytes), response.content)
            else:
                reader = BodyReader(response, self._max_response_bytes)
                for chunk in read_open(response):  # left open: see `_overrun`
                    if not reader.feed(chunk):
                        reader.refuse(response)
                        break
                    attempt.check()
                else:
                    close_if_overrun(response)  # bytes after the reply: no reply to the next request
                    self._keep(response, reader, reader.finish())
            self._scrub(response)
            return response
        except httpx.TimeoutException as exc:
            return attempt.timed_out(exc)
        except httpx.RequestError as exc:
            return attempt.failed(exc)
        except Exception as exc:  # noqa: BLE001 - not httpx's: handed on typed, see `_unexpected`
            # Raised anywhere inside httpcore (a signal handler's `TimeoutError` from an alarm, Celery's soft time
            # limit, a transport's bug), it can leave the place's pool as wedged as Ctrl-C does: see below.
            interrupted = True
            return self._unexpected(attempt, exc)
        except BaseException:
            interrupted = True  # Ctrl-C (or a signal handler's exception) mid-attempt: see below
            raise
        finally:
            deadline.attempt = None
            try:
                if response is not None:
                    response.close()  # the place's connection back to idle (or closed) before the place is free
            finally:
                if slot is not None:
                    try:
                        request.extensions.pop(SLOT, None)
                        if interrupted:
                            # Interrupted inside httpcore, the place's pool may still count its request active, and
                            # every later call on the place would wait out its pool timeout: a new transport instead.
                            old, slot.transport = slot.transport, None
                            if old is not None:
                                with contextlib.suppress(Exception):
                                    old.close()
                    finally:
                        self._turns.give(slot)  # whatever happens above (a second Ctrl-C): the place is not lost

    @staticmethod
    def _turn_wait(attempt: Attempt) -> float:
        """How long to wait for a place: the attempt's pool timeout, or what is left of the deadline."""
        wait = attempt.timeouts.get("pool")
        return max(attempt.deadline.remaining(), 0.0) if wait is None else wait

    def close(self) -> None:
        """Close the connection pool (only when this client created it: not an `http_client` you passed in,
        nor the pool a `with_options` copy shares)."""
        if self._closes_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


async def _asyncio_sleep(seconds: float) -> None:
    import asyncio  # only when a retry waits: keeps `import fedapay_payouts` light

    await asyncio.sleep(seconds)


class AsyncFedaPay(BaseClient[httpx.AsyncClient, httpx.AsyncBaseTransport, Callable[[float], Awaitable[None]]]):
    """The asyncio twin of `FedaPay`: the same arguments, every operation awaitable."""

    _http_client_type = httpx.AsyncClient
    _transport_type = httpx.AsyncBaseTransport

    def _prepare(self, sleep: Callable[[float], Awaitable[None]] | None) -> None:
        self._sleep = sleep or _asyncio_sleep
        self._turns = AsyncTurns(self._max_in_flight)  # shared with `with_options` copies

    @staticmethod
    def _check_sleep(sleep: object) -> None:
        import inspect

        # A plain function may return an awaitable (checked when it is called); a builtin (time.sleep) cannot.
        if not callable(sleep) or inspect.isbuiltin(sleep) or inspect.isgeneratorfunction(sleep):
            raise InvalidArgumentError(
                "sleep", f"must be an async function taking seconds (asyncio.sleep), got {_kind_of(sleep)}"
            )

    def _refuse_other_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """A pool of yours (`http_client`, `transport`) holds connections made on one event loop: used from
        another it fails half-way, or hands a dead loop's connection on. Refused before anything is sent."""
        if not self._turns.first_loop(loop):
            raise APIConnectionError(
                "this AsyncFedaPay uses an http_client or transport of yours, whose connections belong to the "
                "event loop of its first call; it was called from another event loop (a second asyncio.run, or "
                "another thread): the request was not sent, nothing happened on the server. Make one client per "
                "event loop, or let the client make its own pool (it keeps one per loop).",
                request=None, request_sent=False,
            )

    async def _slept(self, seconds: float) -> InvalidArgumentError | None:
        """Wait with `sleep=`; the error to hand to the operation when it did not wait (a cancellation passes).
        Without `sleep=`, what asyncio's sleep raises goes on as it is (see the sync twin)."""
        if self._sleep is _asyncio_sleep:
            await _asyncio_sleep(seconds)
            return None
        try:
            waiting: object = self._sleep(seconds)
            if not inspect.isawaitable(waiting):  # a plain sleep= given to AsyncFedaPay
                return self._bad_sleep(waiting, "an awaitable (an async function's)")
            await waiting
        except Exception as exc:  # noqa: BLE001 - the hook's own failure, handed on typed
            return self._sleep_failed(exc)
        return None

    def _slot_transport(self, verify: Any) -> httpx.AsyncBaseTransport:
        return async_transport(self._turns, verify)

    @cached_property
    def payouts(self) -> AsyncPayouts:
        from ._payouts import AsyncPayouts

        return AsyncPayouts(self)

    async def drive(self, steps: Callable[[], Steps[R]], deadline: float | NotGiven = NOT_GIVEN) -> R:
        """Run one call: make its steps, send what they ask to send, sleep when they ask to wait, all by the
        call's `deadline` (its own, checked first, or the client's)."""
        import asyncio

        self._refuse_closed()
        if not self._slotted:
            self._refuse_other_loop(asyncio.get_running_loop())
        limit = self._start_deadline(deadline)
        events = steps()
        with limit, _Interruption() as interrupted:
            try:
                event = next(events)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            while True:
                if type(event) is Send:
                    try:
                        outcome: Outcome | None = await self._send(event.request, limit)
                    finally:
                        interrupted.saw(event.request)
                elif type(event) is Sleep:
                    outcome = None
                    problem = await self._slept(min(event.seconds, max(limit.remaining(), 0.0)))
                    if problem is not None:  # handed to the operation: it says whether the server may have acted
                        try:
                            event = events.throw(problem)
                        except StopIteration as done:
                            return done.value  # type: ignore[no-any-return]
                        continue
                else:
                    raise TypeError(f"an operation yielded {type(event).__name__}, not Send or Sleep")
                try:
                    event = events.send(outcome)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                finally:
                    # Not kept in this frame once handed over: a transport error may quote what a server sent
                    # (the key echoed in a malformed status line), and a traceback printed with its locals
                    # shows every frame's.
                    del outcome

    async def _send(self, request: httpx.Request, deadline: Deadline) -> Outcome:
        """One attempt: the reply read whole (within the size limit) by the attempt's limits, or the error."""
        import asyncio

        attempt = Attempt(deadline, request, self._trace, self._phased)
        response = None
        watch: asyncio.Timeout | None = None
        places = self._turns.on(asyncio.get_running_loop())  # this loop's places and connections
        waits = places.waits
        slot = None
        interrupted = False
        try:
            if deadline.remaining() <= 0:
                return attempt.timed_out(None)
            async with asyncio.timeout(deadline.remaining()) as watch:
                if waits.locked():
                    try:
                        async with asyncio.timeout(attempt.timeouts.get("pool")):
                            await waits.acquire()
                    except TimeoutError:
                        if watch.expired():
                            raise
                        return self._no_turn(attempt)
                else:
                    await waits.acquire()  # a free place: returns at once
                slot = places.free.pop()  # no await since the semaphore: no other caller took it
                if self._slotted:
                    request.extensions[SLOT] = slot
                attempt.watch = watch  # when the reply starts, its read timeout may bound it sooner
                attempt.handed = True
                request.extensions[HANDED] = True
                response = await _asend_through(self._http, request)
                if attempt.phase != READING:  # a transport that reports no phases: its reply says the request left
                    attempt.reading()
                if response.is_stream_consumed:  # a transport that hands the body already read
                    self._keep(response, BodyReader(response, self._max_response_bytes), response.content)
                else:
                    reader = BodyReader(response, self._max_response_bytes)
                    async for chunk in aread_open(response):  # left open: see `_overrun`
                        if not reader.feed(chunk):
                            reader.refuse(response)
                            break
                    else:
                        close_if_overrun(response)  # bytes after the reply: no reply to the next request
                        self._keep(response, reader, reader.finish())
            self._scrub(response)
            return response
        except TimeoutError as exc:
            if watch is None or not watch.expired():
                interrupted = True  # the transport's own, not our deadline's: see the sync twin
                return self._unexpected(attempt, exc)
            return attempt.timed_out(None)
        except httpx.TimeoutException as exc:
            return attempt.timed_out(exc)
        except httpx.RequestError as exc:
            return attempt.failed(exc)
        except Exception as exc:  # noqa: BLE001 - not httpx's: handed on typed, see `_unexpected`
            interrupted = True  # see the sync twin: its place gets a new transport
            return self._unexpected(attempt, exc)
        except BaseException:
            interrupted = True  # cancelled mid-attempt: see below
            raise
        finally:
            deadline.attempt = None
            closed = False
            try:
                if response is not None:
                    await response.aclose()  # the place's connection back to idle (or closed) first
                closed = True
            finally:
                if slot is not None:
                    request.extensions.pop(SLOT, None)
                    if interrupted or not closed or (watch is not None and watch.expired()):
                        # A cancellation inside httpcore (ours at the deadline, or the caller's) can leave its
                        # one-connection pool counting a connection busy forever: every later call on this place
                        # would wait out its pool timeout. The place gets a new transport; the old one is closed.
                        _renew(slot)
                    AsyncTurns.give(slot, places)

    async def close(self) -> None:
        """Close the connection pool (only when this client created it: not an `http_client` you passed in,
        nor the pool a `with_options` copy shares)."""
        if self._closes_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
