"""Every error this package raises.

```
FedaPayError                          base of everything below
├── InvalidArgumentError (ValueError) bad input, refused before any request; `.argument` names it
├── WebhookVerificationError (ValueError)  a webhook's signature, timestamp or body is wrong
└── APIError                          a request was attempted; `.request` (method + URL)
    ├── APIConnectionError            no reply (refused, dropped, reset)
    │   └── APITimeoutError           no reply in time (connect, read, write or pool timeout)
    ├── APIStatusError                a reply with an error status; `.status_code`, `.message`,
    │   │                              `.errors`, `.request_id`, `.response`
    │   ├── BadRequestError           400
    │   ├── AuthenticationError       401
    │   ├── PermissionDeniedError     403
    │   ├── NotFoundError             404
    │   ├── ConflictError             409
    │   ├── UnprocessableEntityError  422 (`.errors`: field name -> problems)
    │   ├── RateLimitError            429 (`.retry_after`)
    │   └── InternalServerError       5xx (`.retry_after`)
    ├── APIResponseValidationError    a success reply this client cannot read
    └── PayoutOutcomeUnknownError     the server may have acted and we cannot tell: says how to check
```

`APIConnectionError.request_sent` tells the two kinds of connection failure apart: `False` means
no byte reached the server (nothing can have happened), `True` means the server may have acted.
Mutating calls never raise a plain connection or status error after the server may have acted:
they raise `PayoutOutcomeUnknownError` instead (see `_retry.py`).

No exception's text contains the API key or a webhook secret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._redact import redact_body

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "FedaPayError",
    "InternalServerError",
    "InvalidArgumentError",
    "NotFoundError",
    "PayoutOutcomeUnknownError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "WebhookVerificationError",
]


class FedaPayError(Exception):
    """Base class of every error raised by fedapay_payouts."""

    def __reduce__(self) -> tuple[Any, ...]:
        """Copied and pickled (a process pool hands a worker's error to its parent) with its attributes, which
        the constructors' keyword-only arguments kept out (`TypeError` on unpickling: a `ProcessPoolExecutor`
        reported `BrokenProcessPool` and the idempotency key was lost), and without the request's headers and body:
        they hold the API key (`Authorization`), and a pickle may be stored (a task queue's results). The request
        keeps its method and URL; a reply its status, headers and body (already redacted, `_redact`)."""
        state = dict(self.__dict__)
        request = state.get("request")
        if request is not None:
            state["request"] = _bare_request(request)
        response = state.get("response")
        if response is not None:
            state["response"] = _bare_response(response, state.get("request"))
        return (_rebuild, (type(self), self.args), state)


def _rebuild(kind: type[FedaPayError], args: tuple[Any, ...]) -> FedaPayError:
    return kind.__new__(kind, *args)  # no __init__ (its arguments are the state's): the state is set after


def _bare_request(request: httpx.Request) -> httpx.Request:
    import httpx

    return httpx.Request(request.method, request.url)


def _bare_response(response: httpx.Response, request: httpx.Request | None) -> httpx.Response:
    import httpx

    try:
        content = response.content
    except httpx.ResponseNotRead:
        content = b""
    return httpx.Response(response.status_code, headers=response.headers, content=content, request=request)


class InvalidArgumentError(FedaPayError, ValueError):
    """An argument is wrong; raised before any request is sent."""

    def __init__(self, argument: str, problem: str) -> None:
        self.argument = argument
        self.problem = problem
        super().__init__(f"{argument}: {problem}")


class WebhookVerificationError(FedaPayError, ValueError):
    """A webhook could not be trusted: missing or malformed header, stale timestamp, bad signature or body."""


class APIError(FedaPayError):
    """A request to the API was attempted and did not succeed."""

    def __init__(self, message: str, *, request: httpx.Request | None) -> None:
        self.message = message
        self.request = request
        super().__init__(message)

    @property
    def method(self) -> str | None:
        return None if self.request is None else self.request.method

    @property
    def path(self) -> str | None:
        return None if self.request is None else self.request.url.path


class APIConnectionError(APIError):
    """No reply came back."""

    def __init__(self, message: str, *, request: httpx.Request | None, request_sent: bool) -> None:
        super().__init__(message, request=request)
        self.request_sent = request_sent

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, request_sent={self.request_sent})"


class APITimeoutError(APIConnectionError):
    """No reply came back in time."""


class APIResponseValidationError(APIError):
    """The server answered 2xx, but its reply is not a shape this client can read, or not FedaPay's answer to the
    request (another payout, another amount...).

    For a create, start, update or delete the server may have acted: those end in `PayoutOutcomeUnknownError`,
    which carries this error as its cause and says how to check.
    """

    def __init__(
        self, message: str, *, response: httpx.Response | None = None, request: httpx.Request | None = None
    ) -> None:
        super().__init__(message, request=response.request if response is not None else request)
        if response is not None:
            redact_body(response)  # the reply it carries shows no key a hostile server echoed
        self.response = response
        self.status_code = None if response is None else response.status_code


class APIStatusError(APIError):
    """The server replied with an error status."""

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        errors: Mapping[str, Sequence[str]] | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, request=response.request)
        redact_body(response)  # the reply it carries shows no key a hostile server echoed
        self.response = response
        self.status_code = response.status_code
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in (errors or {}).items()}
        self.request_id = request_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        text = f"{self.status_code} {self.method} {self.path}: {self.message}"
        if self.errors:
            text += " (" + "; ".join(f"{field}: {', '.join(problems)}" for field, problems in self.errors.items()) + ")"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, message={self.message!r}, "
            f"errors={self.errors!r}, request_id={self.request_id!r})"
        )


class BadRequestError(APIStatusError):
    """400: the request is malformed."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong, or for the other environment."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this (or not on this account)."""


class NotFoundError(APIStatusError):
    """404: no such payout."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the payout's current state."""


class UnprocessableEntityError(APIStatusError):
    """422: validation failed; `.errors` maps each field to its problems."""


class RateLimitError(APIStatusError):
    """429: too many requests; `.retry_after` says how long the server asked to wait."""


class InternalServerError(APIStatusError):
    """5xx: FedaPay could not process the request."""


class PayoutOutcomeUnknownError(APIError):
    """The server may have acted on a mutating request, and this client could not confirm it.

    Raised instead of a connection, timeout or status error when an earlier attempt of the same
    call reached the server without a reply (or with a 5xx). The message says what may have
    happened and how to check; the attributes say it to code. The last failure is `__cause__`.
    """

    def __init__(
        self,
        message: str,
        *,
        request: httpx.Request | None,
        operation: str,
        payout_ids: Sequence[int] = (),
        idempotency_key: str | None = None,
        merchant_reference: str | None = None,
        found: Mapping[int, str] | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.operation = operation
        self.payout_ids = list(payout_ids)
        self.idempotency_key = idempotency_key
        self.merchant_reference = merchant_reference
        # What a check after the failure found, per payout id ("pending", "sent, started at ... before
        # this call", ...); empty when no check could be made.
        self.found: dict[int, str] = dict(found or {})

    def __repr__(self) -> str:
        # What a log reader needs to recover: the key a retry must reuse, the reference to look the payout up by.
        found = f", found={self.found!r}" if self.found else ""
        key = f", idempotency_key={self.idempotency_key!r}" if self.idempotency_key else ""
        reference = f", merchant_reference={self.merchant_reference!r}" if self.merchant_reference else ""
        return (f"{type(self).__name__}(operation={self.operation!r}, payout_ids={self.payout_ids!r}{key}{reference}"
                f"{found})")


STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    if status_code >= 500:
        return InternalServerError
    return STATUS_ERRORS.get(status_code, APIStatusError)


# Tracebacks and reprs name the public path (`fedapay_payouts.NotFoundError`), not this private module.
for _name in __all__:
    _cls = globals()[_name]
    if isinstance(_cls, type) and _cls.__module__ == __name__:
        _cls.__module__ = "fedapay_payouts"
