"""`FedaPay` and `AsyncFedaPay`: thin twins over one shared core.

The core (`BaseClient`) settles the configuration and builds requests. Every operation is written
once, in `_payouts.py`, as a generator that yields what it needs done (send this request, sleep
this long) and returns the result; the twins differ only in how they do those two things
(`httpx.Client.send` and `time.sleep`, or their awaitable versions). So the retry policy,
validation and reply reading cannot drift apart between sync and async.

Each driver also holds every call to its bounds: the call's `deadline` (`_deadline.py`: all attempts,
waits and checks; `timeout=` stays per attempt, and its read value bounds the reading of one whole
reply) and `max_response_bytes` (`_reply.py`: each reply is streamed and no more than that is read,
decoded included). And it scrubs the API key from what the server sent back where a repr could show
it (the reason phrase, header values), see `_redact.py`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

import httpx

from ._config import NOT_GIVEN, NotGiven, Secret, TimeoutTypes, check_headers, resolve_config, shown, to_timeout
from ._deadline import (
    ASYNC_TRACE,
    DEFAULT_DEADLINE,
    NO_TRACE,
    SYNC_TRACE,
    Attempt,
    Deadline,
    check_deadline,
    install_network_backend,
)
from ._exceptions import InvalidArgumentError
from ._json import dumps
from ._redact import register
from ._reply import ACCEPT_ENCODING, DEFAULT_MAX_RESPONSE_BYTES, BodyReader, check_max_response_bytes
from ._retry import RetryPolicy, Steps

if TYPE_CHECKING:
    from ._payouts import AsyncPayouts, Payouts

__all__ = ["AsyncFedaPay", "FedaPay"]

R = TypeVar("R")
HttpClient = TypeVar("HttpClient", httpx.Client, httpx.AsyncClient)
Outcome = httpx.Response | httpx.RequestError

USER_AGENT = "fedapay-payouts-python/0.1.0"


class BaseClient(Generic[HttpClient]):
    """Configuration, headers and request building, shared by both twins.

    Arguments (each falls back to the environment, then a default; see `_config.py`): `api_key`,
    `environment` ("sandbox" or "live"), `base_url`, `account_id` (the `FedaPay-Account` header),
    `timeout` (seconds or `httpx.Timeout`, per attempt), `max_retries` or a whole `retry_policy`,
    `default_headers`, and `http_client` (yours to configure and close). Not from the environment:
    `deadline` (seconds for a whole call, all attempts and waits included; 120 by default; each
    operation also takes its own `deadline=`) and `max_response_bytes` (the largest reply body read,
    decoded; 10 MiB by default).
    """

    _http_client_type: type[HttpClient]

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
    ) -> None:
        # Wrapped before anything can raise, and the plain name dropped: no frame local shows the key
        # (tracebacks printed with their locals, debuggers, error trackers).
        key = None if api_key is None else Secret(api_key)
        del api_key
        if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
            raise InvalidArgumentError("retry_policy", f"must be a RetryPolicy, got {shown(retry_policy)}")
        if retry_policy is not None and max_retries is not None:
            raise InvalidArgumentError("max_retries", "give either max_retries or retry_policy, not both")
        http_client_type = self._http_client_type
        if http_client is not None and not isinstance(http_client, http_client_type):
            raise InvalidArgumentError("http_client", f"must be an {http_client_type.__qualname__}")
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
        self._retry = retry_policy if retry_policy is not None else RetryPolicy(config.max_retries)
        self._deadline = DEFAULT_DEADLINE if isinstance(deadline, NotGiven) else check_deadline(deadline)
        self._max_response_bytes = (
            DEFAULT_MAX_RESPONSE_BYTES if isinstance(max_response_bytes, NotGiven)
            else check_max_response_bytes(max_response_bytes)
        )
        self._redactor = register(config.api_key.reveal())  # masks the key in logs while this client lives
        self._trace: str | None = ASYNC_TRACE if self._http_client_type is httpx.AsyncClient else SYNC_TRACE
        # httpx.Headers, not a dict: its repr masks Authorization.
        headers = httpx.Headers({"Accept": "application/json", "User-Agent": USER_AGENT, **extra_headers})
        headers["Accept-Encoding"] = ACCEPT_ENCODING  # only what `_reply.BodyReader` inflates within its limit
        headers["Authorization"] = "Bearer " + config.api_key.reveal()
        if config.account_id is not None:
            headers["FedaPay-Account"] = config.account_id
        self._base_url = config.base_url
        self._http: HttpClient
        if http_client is None:
            self._owns_http = True
            self._http = http_client_type(headers=headers, timeout=config.timeout, follow_redirects=False)
            # Our own client's settings never change, so each request is assembled directly from parts
            # prepared here (see `build_request`).
            self._plain_headers = httpx.Headers(self._http.headers)
            self._json_headers = httpx.Headers({**self._http.headers, "Content-Type": "application/json"})
            self._headers: Mapping[str, str] = httpx.Headers()
            if isinstance(self._http, httpx.Client) and install_network_backend(self._http):
                self._trace = NO_TRACE  # its sockets report each phase themselves
        else:
            # A client we did not make keeps its own settings; ours travel with each request.
            self._owns_http = False
            self._http = http_client
            self._headers = headers
        self._timeout = config.timeout.as_dict()
        self._urls = {path: httpx.URL(self._base_url + path) for path in ("/payouts", "/payouts/start")}  # parsed once

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
        """Mask the API key in the reason phrase and header values a server sent back (reprs show them)."""
        redact = self._redactor.redact
        reason: bytes = response.extensions.get("reason_phrase", b"")
        raw: list[tuple[bytes, bytes]] = response.headers.raw
        seen = "\n".join([reason.decode("latin-1"), *(value.decode("latin-1") for _, value in raw)])
        if redact(seen) is seen:
            return
        response.extensions["reason_phrase"] = redact(reason.decode("latin-1")).encode("latin-1")
        response.headers = httpx.Headers(
            [(name, redact(value.decode("latin-1")).encode("latin-1")) for name, value in raw]
        )

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

        The URLs of create, list and start are parsed once. For a connection pool of our own, the
        request is assembled from parts prepared once (that URL, the client's headers):
        `httpx.Client.build_request` would re-parse the URL and merge the client's headers and cookies
        on every call, about 40 µs here, which is 4 % of a loopback call. Cookies are not sent back:
        this is a bearer-token API. A client you pass in goes through its own `build_request` (with
        the parsed URL), so its headers, cookies and parameters apply.
        """
        content = None if body is None else dumps(body)  # encoded once, here: compact UTF-8 (see `_json.py`)
        extensions = {"timeout": self._timeout if isinstance(timeout, NotGiven) else to_timeout(timeout).as_dict()}
        url = self._urls.get(path) or httpx.URL(self._base_url + path)
        if self._owns_http:
            request_headers = (self._plain_headers if content is None else self._json_headers).copy()
            if headers:
                request_headers.update(headers)
            return httpx.Request(method, url, content=content, params=params, headers=request_headers,
                                 extensions=extensions)
        merged = {**self._headers, **headers} if headers else dict(self._headers)
        if content is not None:
            merged["Content-Type"] = "application/json"
        return self._http.build_request(
            method, url, content=content, params=params, headers=merged, extensions=extensions
        )

    def __repr__(self) -> str:
        # A client whose construction failed half-way has no settings yet: a traceback printed with
        # its locals still calls repr() on it.
        if not hasattr(self, "_config") or not hasattr(self, "_retry"):
            return f"{type(self).__name__}(<not configured>, api_key='[secure]')"
        return (
            f"{type(self).__name__}(environment={self.environment!r}, base_url={self.base_url!r}, "
            f"account_id={self.account_id!r}, max_retries={self._retry.max_retries}, api_key='[secure]')"
        )


class FedaPay(BaseClient[httpx.Client]):
    """The FedaPay payouts client.

    ```python
    with FedaPay() as client:            # FEDAPAY_API_KEY, FEDAPAY_ENVIRONMENT from the environment
        payout = client.payouts.create(amount=1000, currency="XOF", mode="mtn_open",
                                       customer={"firstname": "Ada", "lastname": "Lovelace"})
    ```

    One connection pool per client: create one and reuse it.
    """

    _http_client_type = httpx.Client
    _sleep: Callable[[float], None] = staticmethod(time.sleep)

    @cached_property
    def payouts(self) -> Payouts:
        from ._payouts import Payouts

        return Payouts(self)

    def _run(self, steps: Steps[R], deadline: Deadline | None = None) -> R:
        """Drive an operation: send what it asks to send, sleep when it asks to wait, all by the deadline."""
        # Only the operation's own end (StopIteration from `steps`) ends the call: one raised by a
        # transport or a sleep must not pass for a result.
        with deadline or self._start_deadline() as limit:
            try:
                action = next(steps)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            while True:
                if isinstance(action, httpx.Request):
                    outcome: Outcome | None = self._send(action, limit)
                else:
                    self._sleep(min(action, max(limit.remaining(), 0.0)))
                    outcome = None
                try:
                    action = steps.send(outcome)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]

    def _send(self, request: httpx.Request, deadline: Deadline) -> Outcome:
        """One attempt: the reply read whole (within the size limit) by the attempt's limits, or the error."""
        attempt = Attempt(deadline, request, self._trace)
        response = None
        try:
            if deadline.remaining() <= 0:
                return attempt.timed_out(None)
            response = self._http.send(request, stream=True, follow_redirects=False)
            if response.is_stream_consumed:  # a transport that hands the body already read
                self._keep(response, BodyReader(response, self._max_response_bytes), response.content)
            else:
                reader = BodyReader(response, self._max_response_bytes)
                for chunk in response.iter_raw():
                    if not reader.feed(chunk):
                        reader.refuse(response)
                        break
                    attempt.check()
                else:
                    self._keep(response, reader, reader.finish())
            self._scrub(response)
            return response
        except httpx.TimeoutException as exc:
            return attempt.timed_out(exc)
        except httpx.RequestError as exc:
            return exc
        finally:
            deadline.attempt = None
            if response is not None:
                response.close()

    def close(self) -> None:
        """Close the connection pool (only when this client created it)."""
        if self._owns_http:
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


class AsyncFedaPay(BaseClient[httpx.AsyncClient]):
    """The asyncio twin of `FedaPay`: the same arguments, every operation awaitable."""

    _http_client_type = httpx.AsyncClient
    _sleep: Callable[[float], Awaitable[None]] = staticmethod(_asyncio_sleep)

    @cached_property
    def payouts(self) -> AsyncPayouts:
        from ._payouts import AsyncPayouts

        return AsyncPayouts(self)

    async def _run(self, steps: Steps[R], deadline: Deadline | None = None) -> R:
        """Drive an operation: send what it asks to send, sleep when it asks to wait, all by the deadline."""
        with deadline or self._start_deadline() as limit:
            try:
                action = next(steps)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            while True:
                if isinstance(action, httpx.Request):
                    outcome: Outcome | None = await self._send(action, limit)
                else:
                    await self._sleep(min(action, max(limit.remaining(), 0.0)))
                    outcome = None
                try:
                    action = steps.send(outcome)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]

    async def _send(self, request: httpx.Request, deadline: Deadline) -> Outcome:
        """One attempt: the reply read whole (within the size limit) by the attempt's limits, or the error."""
        import asyncio

        attempt = Attempt(deadline, request, self._trace)
        response = None
        watch: asyncio.Timeout | None = None
        loop = asyncio.get_running_loop()
        try:
            if deadline.remaining() <= 0:
                return attempt.timed_out(None)
            async with asyncio.timeout(deadline.remaining()) as watch:
                # When the reply starts, the read timeout may bound it sooner than the deadline.
                attempt.on_reading = lambda seconds: watch.reschedule(loop.time() + seconds)
                response = await self._http.send(request, stream=True, follow_redirects=False)
                if response.is_stream_consumed:  # a transport that hands the body already read
                    self._keep(response, BodyReader(response, self._max_response_bytes), response.content)
                else:
                    reader = BodyReader(response, self._max_response_bytes)
                    async for chunk in response.aiter_raw():
                        if not reader.feed(chunk):
                            reader.refuse(response)
                            break
                    else:
                        self._keep(response, reader, reader.finish())
            self._scrub(response)
            return response
        except TimeoutError:
            if watch is None or not watch.expired():
                raise
            return attempt.timed_out(None)
        except httpx.TimeoutException as exc:
            return attempt.timed_out(exc)
        except httpx.RequestError as exc:
            return exc
        finally:
            deadline.attempt = None
            if response is not None:
                await response.aclose()

    async def close(self) -> None:
        """Close the connection pool (only when this client created it)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
