"""Configuration: arguments first, then the environment, then defaults.

| setting | argument | environment | default |
|---|---|---|---|
| API key | `api_key` | `FEDAPAY_API_KEY` | none: required |
| environment | `environment` | `FEDAPAY_ENVIRONMENT` | `sandbox` (or `live`) |
| base URL | `base_url` | `FEDAPAY_BASE_URL` | the environment's URL |
| sub-account | `account_id` | `FEDAPAY_ACCOUNT_ID` | none (no `FedaPay-Account` header) |
| timeouts | `timeout` | - | connect 5 s, read/write/pool 30 s |
| retries | `max_retries` | `FEDAPAY_MAX_RETRIES` | 2 |
"""

from __future__ import annotations

import os
from typing import Final, Literal

import httpx

from ._exceptions import InvalidArgumentError

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "LIVE_BASE_URL",
    "NOT_GIVEN",
    "SANDBOX_BASE_URL",
    "Config",
    "NotGiven",
    "Secret",
    "resolve_config",
]

SANDBOX_BASE_URL: Final = "https://sandbox-api.fedapay.com/v1"
LIVE_BASE_URL: Final = "https://api.fedapay.com/v1"
BASE_URLS: Final = {"sandbox": SANDBOX_BASE_URL, "live": LIVE_BASE_URL}

# Explicit, because httpx's `None` would wait forever and its default (5 s for everything) is short
# for a payout the server may take a while to accept.
DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)
DEFAULT_MAX_RETRIES: Final = 2

Environment = Literal["sandbox", "live"]
TimeoutTypes = float | httpx.Timeout | None


class NotGiven:
    """The type of `NOT_GIVEN`: "use the client's default", as opposed to `None`.

    `timeout=None` means "no timeout at all" (httpx's meaning); leaving the argument out must
    mean "the default", so the two need different values.
    """

    __slots__ = ()

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()


class Secret:
    """A string that never shows itself in `repr`, `str` or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('[secure]')"

    __str__ = __repr__


class Config:
    """The settled configuration of one client."""

    __slots__ = ("account_id", "api_key", "base_url", "environment", "max_retries", "timeout")

    def __init__(
        self,
        *,
        api_key: Secret,
        environment: Environment,
        base_url: str,
        account_id: str | None,
        timeout: httpx.Timeout,
        max_retries: int,
    ) -> None:
        self.api_key = api_key
        self.environment: Environment = environment
        self.base_url = base_url
        self.account_id = account_id
        self.timeout = timeout
        self.max_retries = max_retries

    def __repr__(self) -> str:
        return (
            f"Config(environment={self.environment!r}, base_url={self.base_url!r}, account_id={self.account_id!r}, "
            f"timeout={self.timeout!r}, max_retries={self.max_retries!r}, api_key='[secure]')"
        )


def to_timeout(value: TimeoutTypes, argument: str = "timeout") -> httpx.Timeout:
    """A number of seconds, an `httpx.Timeout`, or None (no timeout) as an `httpx.Timeout`."""
    if isinstance(value, httpx.Timeout):
        return value
    if value is None:
        return httpx.Timeout(None)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise InvalidArgumentError(
            argument, f"must be a positive number of seconds, an httpx.Timeout or None, got {value!r}"
        )
    return httpx.Timeout(float(value))


def _normalize_base_url(url: str) -> str:
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidArgumentError("base_url", f"must be an http(s) URL, got {url!r}")
    url = url.rstrip("/")
    # FedaPay's own libraries take the API root and add /v1 themselves; accept that form too.
    return url if parsed.path.strip("/") else url + "/v1"


def resolve_config(
    *,
    api_key: str | None,
    environment: str | None,
    base_url: str | None,
    account_id: str | int | None,
    timeout: TimeoutTypes | NotGiven,
    max_retries: int | None,
) -> Config:
    env = os.environ
    key = api_key if api_key is not None else env.get("FEDAPAY_API_KEY")
    if not key or not isinstance(key, str) or not key.strip():
        raise InvalidArgumentError("api_key", "is missing: pass api_key=... or set FEDAPAY_API_KEY")

    name = environment if environment is not None else env.get("FEDAPAY_ENVIRONMENT") or "sandbox"
    if name not in BASE_URLS:
        raise InvalidArgumentError("environment", f"must be 'sandbox' or 'live', got {name!r}")
    chosen: Environment = "live" if name == "live" else "sandbox"

    url = base_url if base_url is not None else env.get("FEDAPAY_BASE_URL")
    url = _normalize_base_url(url) if url else BASE_URLS[chosen]

    account = account_id if account_id is not None else env.get("FEDAPAY_ACCOUNT_ID")
    if isinstance(account, bool) or (account is not None and not str(account).strip()):
        raise InvalidArgumentError("account_id", f"must be an account id, got {account!r}")

    retries: int | str | None = max_retries if max_retries is not None else env.get("FEDAPAY_MAX_RETRIES")
    if retries is None:
        retries = DEFAULT_MAX_RETRIES
    elif isinstance(retries, str):
        if not retries.strip().isdigit():
            raise InvalidArgumentError("max_retries", f"FEDAPAY_MAX_RETRIES must be a whole number, got {retries!r}")
        retries = int(retries)
    elif isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise InvalidArgumentError("max_retries", f"must be a whole number >= 0, got {retries!r}")

    return Config(
        api_key=Secret(key.strip()),
        environment=chosen,
        base_url=url,
        account_id=None if account is None else str(account).strip(),
        timeout=DEFAULT_TIMEOUT if isinstance(timeout, NotGiven) else to_timeout(timeout),
        max_retries=retries,
    )
