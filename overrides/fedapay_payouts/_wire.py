"""The one place that reads FedaPay's replies.

FedaPay's servers wrap objects under versioned keys (`{"v1/payout": {...}}`, `{"v1/payouts": [...],
"meta": {...}}`), while its reference pages show bare objects and arrays. Both are read here, into
the generated models, so either server behaviour works. Unknown fields land in the models'
`additional_properties` and an unknown `status` is just a string: neither raises. Error replies
(`{"message", "errors"}`, or anything else) become the exceptions of `_exceptions.py`.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

import httpx
from fedapay_payouts_api.models.list_meta import ListMeta
from fedapay_payouts_api.models.payout import Payout

from ._exceptions import APIResponseValidationError, APIStatusError, status_error_class
from ._json import loads

__all__ = ["read_page", "read_payout", "read_payouts", "request_id", "retry_after", "status_error"]

PAYOUT_KEY = "v1/payout"
PAYOUTS_KEY = "v1/payouts"
REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-fedapay-request-id")


def _unreadable(response: httpx.Response, problem: str) -> APIResponseValidationError:
    request = response.request
    effect = "" if request.method == "GET" else "; the operation did take effect on the server"
    return APIResponseValidationError(
        f"{request.method} {request.url.path} replied {response.status_code} but {problem}{effect}", response=response
    )


def _json(response: httpx.Response) -> Any:
    try:
        return loads(response.content)
    except ValueError:
        raise _unreadable(response, "the body is not JSON") from None


def _payout(response: httpx.Response, data: Any) -> Payout:
    try:
        return Payout.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _unreadable(response, f"a payout in it cannot be read ({type(exc).__name__}: {exc})") from exc


def read_payout(response: httpx.Response) -> Payout:
    """`{"v1/payout": {...}}`, or a bare payout object."""
    data = _json(response)
    if isinstance(data, dict):
        return _payout(response, data.get(PAYOUT_KEY, data))
    raise _unreadable(response, "the body is not a payout")


def _items(response: httpx.Response, data: Any) -> list[Payout]:
    if isinstance(data, dict):
        if PAYOUTS_KEY in data:
            data = data[PAYOUTS_KEY]
        elif PAYOUT_KEY in data:
            data = [data[PAYOUT_KEY]]
    if not isinstance(data, list):
        raise _unreadable(response, "the body is not a list of payouts")
    return [_payout(response, item) for item in data]


def read_payouts(response: httpx.Response) -> list[Payout]:
    """A start reply: `{"v1/payouts": [...]}`, or a bare array."""
    return _items(response, _json(response))


def read_page(response: httpx.Response) -> tuple[list[Payout], ListMeta | None]:
    """A list reply: `{"v1/payouts": [...], "meta": {...}}`, or a bare array (no page info)."""
    data = _json(response)
    items = _items(response, data)
    meta = data.get("meta") if isinstance(data, dict) else None
    if meta is None:
        return items, None
    try:
        return items, ListMeta.from_dict(meta)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _unreadable(response, f"its page info cannot be read ({type(exc).__name__}: {exc})") from exc


def request_id(response: httpx.Response) -> str | None:
    headers = response.headers
    for name in REQUEST_ID_HEADERS:
        value: str | None = headers.get(name)
        if value:
            return value
    return None


def retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds (a number or an HTTP date), None when absent or unreadable."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _redact(text: str, response: httpx.Response) -> str:
    # A server that echoes the key back in an error message must not put it in our exception text.
    auth = response.request.headers.get("authorization", "")
    key = auth[7:] if auth[:7].lower() == "bearer " else ""
    return text.replace(key, "[secure]") if len(key) >= 4 else text


def status_error(response: httpx.Response) -> APIStatusError:
    """The exception for an error reply: `{"message": ..., "errors": {field: [problems]}}` or anything else."""
    message: str | None = None
    errors: dict[str, list[str]] = {}
    try:
        data = loads(response.content)
    except ValueError:
        data = None
    if isinstance(data, dict):
        if isinstance(data.get("message"), str):
            message = data["message"]
        raw_errors = data.get("errors")
        if isinstance(raw_errors, dict):
            for field, problems in raw_errors.items():
                values = problems if isinstance(problems, list) else [problems]
                errors[_redact(str(field), response)] = [_redact(str(p), response) for p in values]
    if message is None:
        text = response.text.strip()
        message = text[:200] if text and not text.startswith(("<", "{", "[")) else response.reason_phrase
    cls = status_error_class(response.status_code)
    return cls(
        _redact(message or "error", response),
        response=response,
        errors=errors,
        request_id=request_id(response),
        retry_after=retry_after(response),
    )
