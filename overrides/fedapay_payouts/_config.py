"""Configuration: arguments first, then the environment, then defaults; every value checked at construction.

| setting | argument | environment | default |
|---|---|---|---|
| API key | `api_key` | `FEDAPAY_API_KEY` | none: required |
| environment | `environment` | `FEDAPAY_ENVIRONMENT` | `sandbox` (or `live`) |
| base URL | `base_url` | `FEDAPAY_BASE_URL` | the environment's URL |
| sub-account | `account_id` | `FEDAPAY_ACCOUNT_ID` | none (no `FedaPay-Account` header) |
| timeouts | `timeout` | - | connect 5 s, read/write/pool 30 s |
| retries | `max_retries` | `FEDAPAY_MAX_RETRIES` | 2 |
| extra headers | `default_headers` | - | none |

What each accepts (anything else raises `InvalidArgumentError` naming the setting, and the variable
it came from, when the client is built rather than on the first payout):

- `api_key`: 1-1024 printable ASCII characters, no space or control character (`sk_sandbox_...`).
- `environment`: `sandbox` or `live`, in any case. It must agree with the key's prefix: an `sk_live_` key
  with the sandbox, or an `sk_sandbox_` key with live, is refused; an `sk_live_` key needs the environment
  said explicitly (argument or variable), since the sandbox is only a default (see `_key_matches`).
- `base_url`: `http(s)://host[:port][/path]`; no user name or password, query, fragment or whitespace. With
  a live key or environment, https only (plain http to this machine, for a local proxy or mock).
- `account_id`: a positive integer, or 1-64 printable ASCII characters without space.
- `timeout` (also every per-call `timeout=`): seconds in (0, 86400], None (no timeout), or an
  `httpx.Timeout` whose four fields are each such seconds or None.
- `max_retries`: a whole number from 0 to 100 (`RetryPolicy` checks its delays: 0 to 3600 s).
- `default_headers`: token names and printable ASCII values, never a header the client sets itself
  (Authorization, FedaPay-Account, Idempotency-Key, Content-Type/Length, Host...), nor one name twice in
  two cases. A call's `extra_headers=` is held to the same names (`header_name_problem`).

An environment variable set to the empty string counts as unset. No message quotes a secret: the API
key's problems are described in words, never shown. The API key and webhook secrets travel inside
`Secret` from the moment they enter the library, so no frame local or attribute holds the plain text
(tracebacks printed with their locals show `Secret('[secure]')`).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from typing import Final, Literal

import httpx

from ._exceptions import InvalidArgumentError

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "LIVE_BASE_URL",
    "MAX_RETRIES_LIMIT",
    "MAX_TIMEOUT",
    "MAX_WAIT",
    "NOT_GIVEN",
    "SANDBOX_BASE_URL",
    "Config",
    "NotGiven",
    "Secret",
    "check_account_id",
    "check_count",
    "check_headers",
    "check_seconds",
    "header_name_problem",
    "proxy_problem",
    "resolve_config",
    "shown",
    "to_timeout",
]

SANDBOX_BASE_URL: Final = "https://sandbox-api.fedapay.com/v1"
LIVE_BASE_URL: Final = "https://api.fedapay.com/v1"
BASE_URLS: Final = {"sandbox": SANDBOX_BASE_URL, "live": LIVE_BASE_URL}

# Explicit, because httpx's `None` would wait forever and its default (5 s for everything) is short
# for a payout the server may take a while to accept.
DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)
DEFAULT_MAX_RETRIES: Final = 2

# Bounds. A longer timeout overflows the sync socket layer (`time_t`) or hangs the async one, and
# surely is a typo; `None` is the way to say "no timeout". 100 retries at the longest back-off is
# already hours of trying.
MAX_TIMEOUT: Final = 86_400.0
MAX_RETRIES_LIMIT: Final = 100
MAX_WAIT: Final = 3_600.0  # the longest delay a `RetryPolicy` accepts
MAX_SECRET_LENGTH: Final = 1024

Environment = Literal["sandbox", "live"]
TimeoutTypes = float | httpx.Timeout | None

_VISIBLE_ASCII: Final = re.compile(r"[\x21-\x7e]+")
_DIGITS: Final = re.compile(r"[0-9]{1,4}")
_TOKEN: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}")  # an HTTP header name (RFC 9110 token)
_HEADER_VALUE: Final = re.compile(r"(?:[\x21-\x7e](?:[\x20-\x7e\t]{0,8190}[\x21-\x7e])?)?")
_HOST: Final = re.compile(r"[A-Za-z0-9._:-]+")  # after IDNA encoding; IPv6 without its brackets
# Headers the client sets itself: a default would leak into every request or break the framing.
_RESERVED_HEADERS: Final = {
    "authorization": "the API key goes in api_key",
    "proxy-authorization": "configure proxies on an http_client of your own",
    "fedapay-account": "use account_id",
    "idempotency-key": "it must differ per payout: pass idempotency_key to create",
    "content-type": "the client sets it",
    "content-length": "the client sets it",
    "transfer-encoding": "the client sets it",
    "host": "it comes from base_url",
    "connection": "the connection pool manages it",
    # What the client reads back: a reply in a form it did not ask for (brotli, text) would turn a success
    # into an outcome it cannot read.
    "accept": "the client asks for JSON and reads only JSON",
    "accept-encoding": "the client asks for what it can decode (gzip, deflate) and bounds it",
    "te": "the connection pool manages it",
    "expect": "the client sends its bodies at once",
    "upgrade": "the connection pool manages it",
}


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
    """A secret (API key, webhook secret) that never shows itself: not in `repr`, `str`, f-strings or pickles.

    Wrap a secret the moment it enters the library and reveal it only inside the expression that
    uses it, so tracebacks printed with their locals never show it. The constructor accepts anything
    and never raises (a raising frame would show its argument); `form_problem` checks the form.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('[secure]')"

    __str__ = __repr__

    def __reduce__(self) -> str:
        raise TypeError("a Secret cannot be pickled or copied")

    def form_problem(self) -> str | None:
        """What is wrong with the secret's form, in words that quote no part of it; None when it is fine.

        The form is 1-1024 printable ASCII characters without spaces: what `sk_sandbox_...`, `sk_live_...`
        and webhook secrets look like, and what can travel in an HTTP header or be encoded for HMAC.
        Reads `self._value` in place: no local of this frame holds the plain text either.
        """
        if not isinstance(self._value, str):
            return f"must be a string, got {type(self._value).__name__}"
        if not self._value:
            return "is empty"
        if len(self._value) > MAX_SECRET_LENGTH:
            return f"is longer than {MAX_SECRET_LENGTH} characters"
        if not self._value.isascii():
            return "contains a non-ASCII character (a look-alike or invisible character copied with it?)"
        if _VISIBLE_ASCII.fullmatch(self._value) is None:
            return "contains a space, line break or other control character (copied with surrounding whitespace?)"
        return None

    def environment(self) -> Environment | None:
        """The environment the key's own prefix names (`sk_live_...` -> "live", `sk_sandbox_...` -> "sandbox"),
        None for any other key (a mock's or a test's). Reads `self._value` in place, like `form_problem`."""
        if isinstance(self._value, str):
            if self._value.startswith("sk_live_"):
                return "live"
            if self._value.startswith("sk_sandbox_"):
                return "sandbox"
        return None


def shown(value: object) -> str:
    """A short rendering of a bad value for an error message: a plain value's repr, else its type's name.

    Never used for secrets. Cut to 60 characters, and never a `repr` of the caller's own objects
    (which might fail, or be huge).
    """
    if value is None or type(value) in (bool, int, float, str):
        try:
            text = repr(value)
        except ValueError:  # an int too long to print
            return "a very large integer"
        return text if len(text) <= 60 else text[:57] + "..."
    return f"a {type(value).__name__}"


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

    @property
    def environment_proxies(self) -> bool:
        """Whether the proxies the environment names (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY) may carry this client's
        requests: not a live key's over plain http, which goes only to this machine (`_private_channel`), never
        through a proxy that would take it across the network unencrypted."""
        live = self.environment == "live" or self.api_key.environment() == "live"
        return not (live and httpx.URL(self.base_url).scheme == "http")

    def __repr__(self) -> str:
        return (
            f"Config(environment={self.environment!r}, base_url={self.base_url!r}, account_id={self.account_id!r}, "
            f"timeout={self.timeout!r}, max_retries={self.max_retries!r}, api_key='[secure]')"
        )


def check_seconds(value: object, argument: str, *, maximum: float, allow_zero: bool, hint: str = "") -> float:
    """A finite number of seconds within `[0 or >0, maximum]` as a float, else `InvalidArgumentError`.

    Compared before any conversion, so NaN, infinities, huge integers and wrong types all fail here
    rather than as `OverflowError` or `TypeError` later, in the middle of a call.
    """
    if not isinstance(value, bool) and isinstance(value, int | float):
        low_ok = value >= 0 if allow_zero else value > 0
        if low_ok and value <= maximum:  # False for NaN
            return float(value)
    low = "from 0" if allow_zero else "above 0"
    problem = f"must be a number of seconds {low} up to {maximum:g}{hint}, got {shown(value)}"
    raise InvalidArgumentError(argument, problem)


def check_count(value: object, argument: str, *, maximum: int, minimum: int = 0) -> int:
    """A whole number from `minimum` to `maximum` (not a bool, not a float), else `InvalidArgumentError`."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidArgumentError(
            argument, f"must be a whole number from {minimum} to {maximum}, got {shown(value)}"
        )
    return int(value)


_TIMEOUT_HINT: Final = ", an httpx.Timeout or None (no timeout)"


def to_timeout(value: object, argument: str = "timeout") -> httpx.Timeout:
    """A number of seconds, an `httpx.Timeout`, or None (no timeout) as an `httpx.Timeout`; every field checked.

    Used for the client's `timeout` and for every per-call `timeout=`, so a bad value is refused
    before any request rather than crashing the transport (`inf` overflows a socket timeout).
    """
    if value is None:
        return httpx.Timeout(None)
    if isinstance(value, httpx.Timeout):
        connect, read, write, pool = (
            None if seconds is None
            else check_seconds(seconds, f"{argument}.{name}", maximum=MAX_TIMEOUT, allow_zero=False, hint=" or None")
            for name, seconds in (("connect", value.connect), ("read", value.read), ("write", value.write),
                                  ("pool", value.pool))
        )
        return httpx.Timeout(connect=connect, read=read, write=write, pool=pool)
    return httpx.Timeout(check_seconds(value, argument, maximum=MAX_TIMEOUT, allow_zero=False, hint=_TIMEOUT_HINT))


def header_name_problem(name: str, seen: set[str]) -> str | None:
    """Why a header of the caller's (`default_headers`, a call's `extra_headers`) cannot be sent, or None:
    one the client sets itself, or a name already in `seen` (lowercase names, added to here) in another case.
    The message names the header only, never a value."""
    lower = name.lower()
    if lower in _RESERVED_HEADERS:
        return f"{name} is set by the client: {_RESERVED_HEADERS[lower]}"
    if lower in seen:
        return f"{name} is given twice (header names ignore case)"
    seen.add(lower)
    return None


def check_headers(headers: object) -> dict[str, str]:
    """`default_headers` as a plain dict, every name a token and every value printable ASCII.

    Values are never quoted in the message: a custom header may carry a credential.
    """
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise InvalidArgumentError("default_headers", f"must be a mapping of names to values, got {shown(headers)}")
    checked: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in headers.items():
        if not isinstance(name, str) or _TOKEN.fullmatch(name) is None:
            raise InvalidArgumentError(
                "default_headers", f"{shown(name)} is not a header name (letters, digits and !#$%&'*+.^_`|~-)"
            )
        problem = header_name_problem(name, seen)
        if problem is not None:
            raise InvalidArgumentError("default_headers", problem)
        if not isinstance(value, str) or _HEADER_VALUE.fullmatch(value) is None:
            raise InvalidArgumentError(
                f"default_headers[{name!r}]",
                "must be a string of printable ASCII characters without line breaks or surrounding whitespace",
            )
        checked[name] = value
    return checked


def _env(name: str) -> str | None:
    """The variable's value; unset and empty both mean "not set" (an empty `FOO=` line in a .env file)."""
    return os.environ.get(name) or None


def _env_secret(name: str) -> Secret | None:
    return None if not os.environ.get(name) else Secret(os.environ[name])


def _from(variable: str | None) -> str:
    return f"{variable} (from the environment) " if variable else ""


def _base_url(url: object, variable: str | None) -> str:
    """The API root: the URL without a trailing slash, with `/v1` added to a bare host (FedaPay libraries' form).

    The URL itself is never quoted: a user name and password inside it would be.
    """
    source = _from(variable)
    if not isinstance(url, str):
        raise InvalidArgumentError("base_url", f"{source}must be a string, got {shown(url)}")
    if not url or len(url) > 2048 or not url.isprintable() or any(c.isspace() for c in url):
        raise InvalidArgumentError(
            "base_url", f"{source}must be a non-empty http(s) URL of printable characters without whitespace"
        )
    try:
        parsed = httpx.URL(url)
        port = parsed.port
        host = parsed.raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError, ValueError):
        raise InvalidArgumentError("base_url", f"{source}is not a valid URL") from None
    if parsed.scheme not in ("http", "https"):
        raise InvalidArgumentError("base_url", f"{source}must be an http(s) URL, got scheme {shown(parsed.scheme)}")
    if not host or _HOST.fullmatch(host) is None:
        raise InvalidArgumentError("base_url", f"{source}has no valid host")
    if port is not None and not 0 < port < 65536:
        raise InvalidArgumentError("base_url", f"{source}has a port outside 1-65535")
    if parsed.userinfo or "@" in url:
        raise InvalidArgumentError(
            "base_url", f"{source}must not contain a user name or password (the API key goes in api_key)"
        )
    if "?" in url or "#" in url:
        raise InvalidArgumentError("base_url", f"{source}must not contain a query or fragment")
    url = url.rstrip("/")
    # FedaPay's own libraries take the API root and add /v1 themselves; accept that form too.
    return url if parsed.path.strip("/") else url + "/v1"


def check_account_id(account: object, variable: str | None = None) -> str:
    """An account id (the `FedaPay-Account` header) as a string: a positive integer or a short printable token."""
    if isinstance(account, int) and not isinstance(account, bool):
        if 0 < account < 2**63:
            return str(account)
    elif isinstance(account, str) and len(account) <= 64 and _VISIBLE_ASCII.fullmatch(account):
        return account
    raise InvalidArgumentError(
        "account_id",
        f"{_from(variable)}must be a positive integer or 1-64 printable ASCII characters without spaces, "
        f"got {shown(account)}",
    )


PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")


def proxy_problem(problem: Exception) -> InvalidArgumentError:
    """What httpx's refusal of an environment proxy (an unknown scheme, SOCKS without `socksio`) becomes: the
    variables named, the value not quoted (a proxy URL may carry a password)."""
    named = [name for name in PROXY_VARIABLES if _env(name) is not None or _env(name.lower()) is not None]
    return InvalidArgumentError(
        " / ".join(named) or "proxy",
        f"(from the environment) is not a proxy this client can use ({type(problem).__name__}): give an http:// or "
        "https:// proxy URL, or socks5:// with the socksio package installed (pip install 'httpx[socks]')",
    )


def _private_channel(url: str) -> bool:
    """Whether a request to `url` keeps the key off the network unencrypted: https, or http to this machine."""
    parsed = httpx.URL(url)
    if parsed.scheme == "https":
        return True
    host = parsed.host.lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _key_matches(key: Secret, chosen: Environment, *, given: bool, variable: str | None,
                 from_environment: bool) -> None:
    """A key whose prefix names the other environment is refused; a live key needs an explicit environment.

    `FedaPay("sk_live_...")` once went to the sandbox without a word: the payouts failed there as "bad
    key" at best, or a sandbox key pointed at live did. Both are refused here, before any request. A
    live key with no environment given (argument or FEDAPAY_ENVIRONMENT) is refused too, rather than
    switched to live on the key's word: real money moves only when the code or its environment says
    "live". The message names the kinds of key only, never the key or a part of it. A custom
    `base_url` is checked the same way (the environment still says which kind of key it expects);
    keys with neither prefix (a mock's, a test's) are not checked.
    """
    kind = key.environment()
    if kind is None or (kind == chosen and (given or kind == "sandbox")):
        return
    source = "FEDAPAY_API_KEY" if from_environment else "api_key"
    if not given:
        raise InvalidArgumentError(
            "environment",
            f"is not set and {source} is a live key: the sandbox is only the default. To move real money, say so: "
            "pass environment='live' (or set FEDAPAY_ENVIRONMENT=live); for the sandbox, use a sandbox key",
        )
    raise InvalidArgumentError(
        "environment",
        f"{_from(variable)}is '{chosen}' but {source} is a {kind} key: use a {chosen} key, or environment='{kind}' "
        f"if this key is meant for the {kind} environment",
    )


def _max_retries_from(variable: str, value: str) -> int:
    if _DIGITS.fullmatch(value.strip()) is None or int(value) > MAX_RETRIES_LIMIT:
        problem = f"must be a whole number from 0 to {MAX_RETRIES_LIMIT}, got {shown(value)}"
        raise InvalidArgumentError("max_retries", _from(variable) + problem)
    return int(value)


def resolve_config(
    *,
    api_key: Secret | None,
    environment: str | None,
    base_url: str | None,
    account_id: str | int | None,
    timeout: TimeoutTypes | NotGiven,
    max_retries: int | None,
) -> Config:
    """Settle and check every setting (see the module docstring). `api_key` comes wrapped: see `Secret`."""
    if api_key is not None and not isinstance(api_key, Secret):
        api_key = Secret(api_key)  # defensive: a plain key must not sit in this frame
    key = api_key if api_key is not None else _env_secret("FEDAPAY_API_KEY")
    if key is None:
        raise InvalidArgumentError("api_key", "is missing: pass api_key=... or set FEDAPAY_API_KEY")
    problem = key.form_problem()
    if problem is not None:
        raise InvalidArgumentError("api_key", _from(None if api_key is not None else "FEDAPAY_API_KEY") + problem)

    variable = None if environment is not None else "FEDAPAY_ENVIRONMENT"
    name = environment if environment is not None else _env("FEDAPAY_ENVIRONMENT") or "sandbox"
    if isinstance(name, str) and name.lower() in BASE_URLS:
        name = name.lower()  # `LIVE` and `Sandbox` mean what they say (issue 13); spaces are still refused
    if not isinstance(name, str) or name not in BASE_URLS:
        raise InvalidArgumentError("environment", f"{_from(variable)}must be 'sandbox' or 'live', got {shown(name)}")
    chosen: Environment = "live" if name == "live" else "sandbox"
    _key_matches(key, chosen, given=environment is not None or _env("FEDAPAY_ENVIRONMENT") is not None,
                 variable=variable, from_environment=api_key is None)

    variable = None if base_url is not None else "FEDAPAY_BASE_URL"
    url = base_url if base_url is not None else _env("FEDAPAY_BASE_URL")
    url = BASE_URLS[chosen] if url is None else _base_url(url, variable)
    if (chosen == "live" or key.environment() == "live") and not _private_channel(url):
        raise InvalidArgumentError(
            "base_url",
            f"{_from(variable)}must be https with a live key (plain http only to this machine: localhost, 127.0.0.1,"
            " ::1): the key would cross the network unencrypted",
        )

    variable = None if account_id is not None else "FEDAPAY_ACCOUNT_ID"
    account = account_id if account_id is not None else _env("FEDAPAY_ACCOUNT_ID")
    account = None if account is None else check_account_id(account, variable)

    if max_retries is not None:
        retries = check_count(max_retries, "max_retries", maximum=MAX_RETRIES_LIMIT)
    else:
        text = _env("FEDAPAY_MAX_RETRIES")
        retries = DEFAULT_MAX_RETRIES if text is None else _max_retries_from("FEDAPAY_MAX_RETRIES", text)

    return Config(
        api_key=key,
        environment=chosen,
        base_url=url,
        account_id=account,
        timeout=DEFAULT_TIMEOUT if isinstance(timeout, NotGiven) else to_timeout(timeout),
        max_retries=retries,
    )
