"""`FedaPay` and `AsyncFedaPay`: thin twins over one shared core.

The core (`BaseClient`) settles the configuration and builds requests. Every operation is written
once, in `_payouts.py`, as a generator that yields what it needs done (send this request, sleep
this long) and returns the result; the twins differ only in how they do those two things
(`httpx.Client.send` and `time.sleep`, or their awaitable versions). So the retry policy,
validation and reply reading cannot drift apart between sync and async.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

import httpx

from ._config import NOT_GIVEN, NotGiven, Secret, TimeoutTypes, check_headers, resolve_config, shown, to_timeout
from ._exceptions import InvalidArgumentError
from ._json import dumps
from ._retry import RetryPolicy, Steps

if TYPE_CHECKING:
    from ._payouts import AsyncPayouts, Payouts

__all__ = ["AsyncFedaPay", "FedaPay"]

R = TypeVar("R")
HttpClient = TypeVar("HttpClient", httpx.Client, httpx.AsyncClient)

USER_AGENT = "fedapay-payouts-python/0.1.0"


class BaseClient(Generic[HttpClient]):
    """Configuration, headers and request building, shared by both twins.

    Arguments (each falls back to the environment, then a default; see `_config.py`): `api_key`,
    `environment` ("sandbox" or "live"), `base_url`, `account_id` (the `FedaPay-Account` header),
    `timeout` (seconds or `httpx.Timeout`), `max_retries` or a whole `retry_policy`,
    `default_headers`, and `http_client` (yours to configure and close).
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
        # httpx.Headers, not a dict: its repr masks Authorization.
        headers = httpx.Headers({"Accept": "application/json", "User-Agent": USER_AGENT, **extra_headers})
        headers["Authorization"] = "Bearer " + config.api_key.reveal()
        if config.account_id is not None:
            headers["FedaPay-Account"] = config.account_id
        self._payouts_url = config.base_url + "/payouts"
        self._http: HttpClient
        if http_client is None:
            self._owns_http = True
            self._http = http_client_type(headers=headers, timeout=config.timeout, follow_redirects=False)
            # Our own client's settings never change, so each request is assembled directly from parts
            # prepared here (see `build_request`).
            self._plain_headers = httpx.Headers(self._http.headers)
            self._json_headers = httpx.Headers({**self._http.headers, "Content-Type": "application/json"})
            self._headers: Mapping[str, str] = httpx.Headers()
        else:
            # A client we did not make keeps its own settings; ours travel with each request.
            self._owns_http = False
            self._http = http_client
            self._headers = headers
        self._timeout = config.timeout.as_dict()
        self._urls = {path: httpx.URL(self._payouts_url + path) for path in ("", "/start")}  # parsed once

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
        url = self._urls.get(path) or httpx.URL(self._payouts_url + path)
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

    def _run(self, steps: Steps[R]) -> R:
        """Drive an operation: send what it asks to send, sleep when it asks to wait."""
        send = self._http.send
        try:
            action = next(steps)
            while True:
                if isinstance(action, httpx.Request):
                    try:
                        outcome: httpx.Response | httpx.RequestError | None = send(action)
                    except httpx.RequestError as exc:
                        outcome = exc
                else:
                    self._sleep(action)
                    outcome = None
                action = steps.send(outcome)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

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

    async def _run(self, steps: Steps[R]) -> R:
        """Drive an operation: send what it asks to send, sleep when it asks to wait."""
        send = self._http.send
        try:
            action = next(steps)
            while True:
                if isinstance(action, httpx.Request):
                    try:
                        outcome: httpx.Response | httpx.RequestError | None = await send(action)
                    except httpx.RequestError as exc:
                        outcome = exc
                else:
                    await self._sleep(action)
                    outcome = None
                action = steps.send(outcome)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

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
