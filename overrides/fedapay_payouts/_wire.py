"""The one place that reads FedaPay's replies.

FedaPay's servers wrap objects under versioned keys (`{"v1/payout": {...}}`, `{"v1/payouts": [...],
"meta": {...}}`), while its reference pages show bare objects and arrays. Both are read here, into
the generated models, so either server behaviour works. Unknown fields land in the models'
`additional_properties` and an unknown `status` is just a string: neither raises. Error replies
(`{"message", "errors"}`, or anything else) become the exceptions of `_exceptions.py`.

However malformed a reply, reading it raises `APIResponseValidationError` or an `APIStatusError`,
never a plain Python error: the generated models check no types, so every field a model declares is
checked here after parsing (an id that is a list, a `next_page` that is a string, a null
`current_page` would otherwise fail later, as a `TypeError` in the caller's code or ours). Every text
taken from the reply is redacted (`_redact.py`) before it is cut and put in an error.
"""

from __future__ import annotations

import datetime
import email.utils
import operator
import re
import time
import types
import typing
from collections.abc import Callable
from typing import Any, Final

import attrs
import httpx
from fedapay_payouts_api.models.list_meta import ListMeta
from fedapay_payouts_api.models.payout import Payout

from ._evidence import SENT_ON
from ._exceptions import APIResponseValidationError, APIStatusError, status_error_class
from ._json import loads
from ._redact import redact
from ._reply import TOO_LARGE  # the limit a reply's body went past (its body was not read)

__all__ = ["read_page", "read_payout", "read_payouts", "request_id", "retry_after", "status_error"]

PAYOUT_KEY = "v1/payout"
PAYOUTS_KEY = "v1/payouts"
REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-fedapay-request-id")
MAX_TEXT: Final = 200  # characters of server text kept in an error (after redaction)
MAX_REQUEST_ID: Final = 128

def _cut(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def server_text(text: str, response: httpx.Response, limit: int = MAX_TEXT) -> str:
    """Server text fit for an error: redacted first (a key cut in two would leak its first half), then cut."""
    return _cut(redact(text[: limit + 4096], response.request), limit)



def _unreadable(response: httpx.Response, problem: str) -> APIResponseValidationError:
    request = response.request
    effect = "" if request.method == "GET" else "; the server may have acted"
    return APIResponseValidationError(
        f"{request.method} {request.url.path} replied {response.status_code} but {problem}{effect}", response=response
    )


def _json(response: httpx.Response) -> Any:
    limit: int | None = response.extensions.get(TOO_LARGE)
    if limit is not None:
        raise _unreadable(response, f"its body is larger than the {limit}-byte limit (max_response_bytes); not read")
    try:
        return loads(response.content)
    except ValueError as exc:
        raise _unreadable(response, f"the body is not JSON ({server_text(str(exc), response)})") from None


class _Declared:
    """The fields of a generated model with the exact types their annotations allow (`int | None`...)."""

    __slots__ = ("allowed", "get", "names", "nested")

    def __init__(self, model: type[Any]) -> None:
        # The annotations resolved (the models import what they name), not their text: a caller may have
        # resolved them already (`attrs.resolve_types`), which turns each field's `type` into objects.
        hints = typing.get_type_hints(model)
        names: list[str] = []
        allowed: list[frozenset[type[Any]]] = []
        nested: list[tuple[str, type[Any]]] = []
        for field in attrs.fields(model):
            if field.name == "additional_properties":
                continue
            kinds = _kinds(hints[field.name])
            if float in kinds:
                kinds.add(int)
            if Any not in kinds:
                names.append(field.name)
                allowed.append(frozenset(kinds))
            # A field holding another generated model (the payout's `customer`, `currency`): its fields too.
            nested.extend((field.name, kind) for kind in kinds if attrs.has(kind))
        self.names = tuple(names)
        self.allowed = tuple(allowed)
        self.get: Callable[[Any], tuple[Any, ...]] = (
            operator.attrgetter(*names) if len(names) > 1 else self._few  # attrgetter of one name gives no tuple
        )
        self.nested = tuple(nested)

    def _few(self, value: Any) -> tuple[Any, ...]:
        return tuple(getattr(value, name) for name in self.names)

    def wrong(self, value: Any) -> str | None:
        """The first field of `value` of a type its model does not declare (`customer.id` for a nested one), or
        None (checked at C speed)."""
        found = tuple(map(type, self.get(value)))
        if not all(map(operator.contains, self.allowed, found)):
            fields = zip(self.names, self.allowed, found, strict=True)
            return next(name for name, kinds, kind in fields if kind not in kinds)
        for name, model in self.nested:
            inner = getattr(value, name)
            if type(inner) is model:
                wrong = declared(model).wrong(inner)
                if wrong is not None:
                    return f"{name}.{wrong}"
        return None


def _kinds(hint: Any) -> set[Any]:
    """The runtime types a field's annotation allows: each member of a union (`X | Y`, or `typing.Union`, which a
    union holding a `Literal` is), a `Literal`'s values' types (a reply enum: `None | PayoutLastErrorCodeType1`),
    a generic's origin (`list[Payout]` -> list)."""
    origin = typing.get_origin(hint)
    if isinstance(hint, types.UnionType) or origin is typing.Union:
        return set().union(*(_kinds(member) for member in typing.get_args(hint)))
    if origin is typing.Literal:
        return {type(value) for value in typing.get_args(hint)}
    return {origin or hint}


def declared(model: type[Any]) -> _Declared:
    """The checks of `model`'s fields, made once per model."""
    return _DECLARED.get(model) or _DECLARED.setdefault(model, _Declared(model))


_DECLARED: dict[type[Any], _Declared] = {}


def _model(response: httpx.Response, model: type[Any], data: Any, what: str) -> Any:
    """`model.from_dict(data)`, with every declared field of the declared type, or APIResponseValidationError."""
    if not isinstance(data, dict):
        raise _unreadable(response, f"{what} in it is not an object")
    try:
        value = model.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError) as exc:
        detail = server_text(f"{type(exc).__name__}: {exc}", response)
        raise _unreadable(response, f"{what} in it cannot be read ({detail})") from None
    wrong = declared(model).wrong(value)
    if wrong is not None:
        kind = type(operator.attrgetter(wrong)(value)).__name__
        raise _unreadable(response, f"{what} in it has a {wrong} of the wrong type ({kind})")
    return value


def _payout(response: httpx.Response, data: Any) -> Payout:
    payout: Payout = _model(response, Payout, data, "a payout")
    return payout


def read_payout(response: httpx.Response) -> Payout:
    """`{"v1/payout": {...}}`, or a bare payout object."""
    data = _json(response)
    if isinstance(data, dict):
        return _payout(response, data.get(PAYOUT_KEY, data))
    raise _unreadable(response, "the body is not a payout")


# A `deleted` flag saying yes; any other value present (false, 0, "false") says no. Null says nothing.
_DELETED_YES: Final = (True, 1, "true", "1")


# What a reply says to mean "it failed" whatever else it holds: `{"success": false}`, `{"ok": false}`, an error,
# `{"status": "error"}`.
_FAILURE_FLAGS: Final = ("success", "ok")
_ERROR_KEYS: Final = ("error", "errors")


def _says_not_deleted(shown: dict[str, Any]) -> bool:
    flag = shown.get("deleted")
    if flag is not None and not any(flag == yes and type(flag) is type(yes) for yes in _DELETED_YES):
        return True
    if any(shown.get(name) in (False, "false", 0) and type(shown.get(name)) is not float for name in _FAILURE_FLAGS):
        return True
    if shown.get("status") == "error":  # no payout status: the reply's own
        return True
    return any(shown.get(name) not in (None, False, "", [], {}) for name in _ERROR_KEYS)


def _shown_payouts(data: Any) -> list[Any] | None:
    """The payouts a delete's reply shows: itself, in `v1/payout` or `v1/payouts` (an object or a list in
    either), or in a list, envelopes inside lists unwrapped. None when an envelope holds neither."""
    if isinstance(data, dict):
        found = [data[key] for key in (PAYOUT_KEY, PAYOUTS_KEY) if key in data]
        if not found:
            return [data]
        shown: list[Any] = []
        for held in found:
            if isinstance(held, dict):
                shown.append(held)
            elif isinstance(held, list):
                shown += held
            else:
                return None
        data = shown
    if isinstance(data, list):
        return [item[PAYOUT_KEY] if isinstance(item, dict) and PAYOUT_KEY in item else item for item in data]
    return []


def delete_reply_problem(response: httpx.Response, payout_id: int) -> str | None:
    """Why a delete's 2xx does not say payout `payout_id` is deleted, or None when it is the server's yes.

    FedaPay documents 204 with no body; its PHP library reads any JSON after a delete, its Ruby library the
    object (a `deleted` flag, Stripe-style), and its PHP tests answer `[]`. So any JSON is a yes, unless what it
    shows says otherwise: `false`, a `deleted` flag other than yes (outside or inside an envelope), an envelope
    holding no payout, or a payout (alone, in `v1/payout`, in a list or in `v1/payouts`) that is another one,
    this one scheduled, sent or on its way and not marked deleted (it would still be paid), or this one with
    `deleted_at` stated null, or a failure stated in a field (`success` or `ok` false, an `error` or `errors`
    that is not empty, `status` "error"). Prose is not judged (a `message` is not read). A body that is not JSON
    at all (an HTML page from a proxy) is not FedaPay's answer."""
    if not response.content.strip():
        return None
    try:
        data = _json(response)
    except APIResponseValidationError:
        return "its body is not JSON"
    if data is False or (isinstance(data, dict) and _says_not_deleted(data)):
        return f"saying payout {payout_id} is not deleted"
    shown = _shown_payouts(data)
    if shown is None:
        return "with an envelope that holds no payout"
    for payout in shown:
        if not isinstance(payout, dict):
            continue
        found = payout.get("id")
        if found is not None and (type(found) is not int or found != payout_id):
            return f"with payout {found!r}, not payout {payout_id} as asked"
        if _says_not_deleted(payout):
            return f"saying payout {payout_id} is not deleted"
        if payout.get("deleted") is True or payout.get("deleted_at"):
            continue
        status = payout.get("status")
        if status is not None and not isinstance(status, str):
            return f"with payout {payout_id} whose status is a {type(status).__name__}, not a string"
        if status in SENT_ON or status == "scheduled":
            return f"with payout {payout_id} {status}, not deleted"
        if "deleted_at" in payout:  # stated null: not deleted
            return f"with payout {payout_id} shown without a deletion time (deleted_at null)"
    return None


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
    page: ListMeta = _model(response, ListMeta, meta, "the page info")
    if page.current_page < 1 or page.per_page < 1:
        raise _unreadable(response, "its page info has a page number or page size below 1")
    if any(isinstance(total, int) and total < 0 for total in (page.total_count, page.total_pages)):
        raise _unreadable(response, "its page info has a negative total")
    return items, page


def request_id(response: httpx.Response) -> str | None:
    """The server's id for this request (redacted, at most 128 characters), or None."""
    headers = response.headers
    for name in REQUEST_ID_HEADERS:
        value: str | None = headers.get(name)
        if value:
            return server_text(value, response, MAX_REQUEST_ID)
    return None


# RFC 9110's delta-seconds (ASCII digits), with a fraction tolerated: never `nan`, `inf`, `1_5` nor `٣`.
_DELTA_SECONDS: Final = re.compile(r"[0-9]+(\.[0-9]+)?")
MAX_RETRY_AFTER: Final = 1e9  # seconds (31 years): a longer wait is read as this, finite (`time.sleep` takes it)


def retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds (a number or an HTTP date), None when absent or unreadable. A date without a
    zone (the asctime form, `-0000`) is GMT, as RFC 9110 says, not this machine's local time."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.UTC)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


MAX_ERROR_FIELDS: Final = 50


def status_error(response: httpx.Response) -> APIStatusError:
    """The exception for an error reply: `{"message": ..., "errors": {field: [problems]}}` or anything else."""
    message: str | None = None
    errors: dict[str, list[str]] = {}
    limit: int | None = response.extensions.get(TOO_LARGE)
    data: Any = None
    if limit is None:
        try:
            data = loads(response.content)
        except ValueError:
            data = None
    if isinstance(data, dict):
        # FedaPay's `message`; `error` as other APIs (and proxies in front of FedaPay) write it.
        for key in ("message", "error"):
            if isinstance(data.get(key), str):
                message = data[key]
                break
        raw_errors = data.get("errors")
        if isinstance(raw_errors, list):  # problems not tied to a field: kept under ""
            raw_errors = {"": raw_errors}
        if isinstance(raw_errors, dict):
            for field, problems in list(raw_errors.items())[:MAX_ERROR_FIELDS]:
                values = problems if isinstance(problems, list) else [problems]
                shown = [server_text(str(problem), response) for problem in values[:MAX_ERROR_FIELDS]]
                errors[server_text(str(field), response)] = shown
    if message is None:
        text = "" if limit is not None else response.text.strip()
        message = text if text and not text.startswith(("<", "{", "[")) else response.reason_phrase
        if limit is not None:
            message = f"{message} (body larger than the {limit}-byte limit, not read)"
    cls = status_error_class(response.status_code)
    return cls(
        server_text(message or "error", response),
        response=response,
        errors=errors,
        request_id=request_id(response),
        retry_after=retry_after(response),
    )


def read_reply(response: httpx.Response, model: Any) -> Any:
    """The success reply of any operation: its generated model (`model.from_dict`), the JSON when the
    spec names no model, None when there is no body. Anything unreadable is `APIResponseValidationError`."""
    if not response.content and model is None:
        return None
    data = _json(response)
    if model is None:
        return data
    if not isinstance(data, dict):
        raise _unreadable(response, "the body is not an object")
    try:
        return model.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError) as exc:
        detail = server_text(f"{type(exc).__name__}: {exc}", response)
        raise _unreadable(response, f"the body cannot be read as {model.__name__} ({detail})") from None
