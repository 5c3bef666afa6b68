"""What the spec cannot say: the client's own checks, each a declared rule with its reason.

Every other check of a request comes from the spec (`_schema.py`). A function here that refuses a
value is registered with `@rule(name)`, and `DECLARED` lists every rule and why it exists; a spine
test proves that every `InvalidArgumentError` raised while building a request is either the spec's
or raised under one of these rules.
"""

from __future__ import annotations

import datetime
import math
import re
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any, Final, ParamSpec, TypeVar

from ._config import header_name_problem
from ._exceptions import InvalidArgumentError
from ._schema import shown_value as _shown
from ._when import parse_schedule, wire

P = ParamSpec("P")
R = TypeVar("R")

DECLARED: Final[dict[str, str]] = {
    "plain JSON": "a schema describes JSON values: bytes, sets, NaN, infinities, lone surrogates, non-string keys"
    " and values nested past 32 levels cannot be sent as JSON, and FedaPay's integers are 64-bit",
    "aware datetimes": "a datetime given for a date field must say its timezone: a naive one names no instant,"
    " and the client will not guess when a payout is sent",
    "future schedule": "a scheduled_at in the past would send the payout at once; the spec's pattern cannot"
    " compare with the clock (every form is read as the spec says, no zone meaning UTC, and sent as UTC)",
    "spec keywords": "keywords are the spec's fields and parameters: a misspelt optional field would be sent and"
    " ignored (undeclared fields go through extra_body=)",
    "customer id or description": "the spec's oneOf lets a new customer's description carry an extra `id`, which"
    " FedaPay ignores: a new customer would be paid instead of the one named",
    "start items": "a start item takes id, scheduled_at and phone_number only: a misspelt scheduled_at would be"
    " ignored and the payout sent at once",
    "distinct start ids": "start replies are matched to the ids asked: a repeated id cannot be matched",
    "one phone override": "phone_number= overrides one payout's number; given for several it would send them"
    " all to one wallet",
    "ids are ints": "payouts= takes an int id, a StartItem mapping or a list of them: bytes, strings, sets and"
    " generators are never iterated (b'42' iterated is the ids 52 and 50)",
    "idempotency key token": "the Idempotency-Key must reach the server byte for byte on every retry: printable"
    " ASCII without spaces",
    "escape hatches": "extra_body must be a JSON object merged into an object body, extra_query flat"
    " JSON scalars: they go where the spec says nothing, so only their JSON form is checked; a field the spec"
    " declares given there would skip its checks (a past scheduled_at, a negative amount), so it is refused, in"
    " extra_query at any depth of the body and in any case (servers read a body field missing from the body in"
    " the query), as is a declared parameter the call sets itself",
    "header values": "extra headers must be printable ASCII: HTTP carries nothing else, and a CR or LF would"
    " split the request; a header the client sets (Authorization, Idempotency-Key, Content-Length, Host...) or a"
    " declared parameter's header would silently replace what the client checked and reports (a create's"
    " Idempotency-Key in its PayoutOutcomeUnknownError), and one name given twice in two cases is ambiguous",
}

_RULES: dict[str, str] = {}  # function qualname -> rule name


def rule(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a check as one of the declared rules (`DECLARED[name]` says why)."""
    if name not in DECLARED:
        raise KeyError(name)

    def mark(function: Callable[P, R]) -> Callable[P, R]:
        _RULES[function.__qualname__] = name
        return function

    return mark


HEADER_SAFE_RE: Final = re.compile(r"[!-~]{1,255}")
HEADER_VALUE_RE: Final = re.compile(r"[ -~]*")
MAX_JSON_DEPTH: Final = 32
MAX_WIRE_INT: Final = 2**63 - 1
MIN_WIRE_INT: Final = -(2**63)


def _encodes(text: str) -> bool:
    """Whether `text` can be UTF-8 (no lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@rule("plain JSON")
def _utf8(value: str, where: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidArgumentError(
            where, f"contains a character that is not valid Unicode text (position {exc.start})"
        ) from None
    return value


@rule("aware datetimes")
def iso_instant(value: datetime.datetime, where: str) -> str:
    """An aware datetime as UTC ISO 8601 (`2031-01-01T00:00:00Z`)."""
    try:
        offset = value.utcoffset()
    except (TypeError, ValueError):  # a tzinfo whose utcoffset() misbehaves
        offset = None
    if offset is None:
        raise InvalidArgumentError(
            where, f"must say its timezone (e.g. tzinfo=datetime.UTC or a trailing 'Z'), got {_shown(value)}"
        )
    try:
        utc = value.astimezone(datetime.UTC)
    except (OverflowError, ValueError, OSError):
        raise InvalidArgumentError(where, f"is outside the years 1 to 9999 in UTC: {_shown(value)}") from None
    return utc.isoformat().replace("+00:00", "Z")


NOT_JSON: Final = "\x00(not JSON)"  # stands for a refused value while the spec's checks look at the rest


@rule("plain JSON")
def _not_json(where: str, problem: str, problems: list[InvalidArgumentError] | None) -> str:
    error = InvalidArgumentError(where or "body", problem)
    if problems is None:
        raise error
    problems.append(error)
    return NOT_JSON


def json_value(
    value: object, where: str, depth: int, problems: list[InvalidArgumentError] | None = None, *, dates: bool = True
) -> Any:
    """`value` as plain JSON (generated models as their dicts, a keyword's datetime or date as ISO text), or an
    error naming `where`. Dates inside free-form values (`custom_metadata`) are refused, not turned into text.

    With `problems`, a value that cannot be JSON is noted there and replaced by `NOT_JSON`, so that the
    spec's checks can say which field it is in (`customer.id`, not `customer.id[0]`).
    """
    kind = type(value)  # the common exact types first: this runs on every request
    if kind is str:
        try:
            value.encode("utf-8")  # type: ignore[attr-defined]
            return value
        except UnicodeEncodeError:
            pass
    elif kind is int:
        if MIN_WIRE_INT <= value <= MAX_WIRE_INT:  # type: ignore[operator]
            return value
    elif kind is dict and depth > 0:
        wire = {}
        top = not where
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str or not (key.isascii() or _encodes(key)):
                break
            # An ASCII string or a 64-bit int is taken as it is, without a call or its path (only errors name it).
            item_kind = type(item)
            if (item_kind is str and item.isascii()) or (
                item_kind is int and MIN_WIRE_INT <= item <= MAX_WIRE_INT
            ):
                wire[key] = item
                continue
            # Dates: a keyword's own, and `scheduled_at` at any depth (a start item's, in `call()`'s body too).
            wire[key] = json_value(item, f"{where}.{key}" if where else key, depth - 1, problems,
                                   dates=top or key == "scheduled_at")
        else:
            return wire
    # A subclass (Django's SafeString, markupsafe's Markup, an IntEnum, numpy's str_) goes out as the plain value
    # its base holds: the schema validator and the JSON encoder take only the built-in types.
    if isinstance(value, str):
        try:
            return _utf8(str.__str__(value), where or "body")
        except InvalidArgumentError as exc:
            return _not_json(exc.argument, exc.problem, problems)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not MIN_WIRE_INT <= value <= MAX_WIRE_INT:
            return _not_json(where, f"must fit in 64 bits (FedaPay's integers), got {_shown(value)}", problems)
        return int.__int__(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return _not_json(where, f"must be a finite number, got {value!r} (not valid JSON)", problems)
        return float.__float__(value)
    if dates and isinstance(value, datetime.datetime):
        return iso_instant(value, where)
    if dates and isinstance(value, datetime.date):
        return value.isoformat()
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and hasattr(type(value), "__attrs_attrs__"):  # a generated model
        value = to_dict()
    if depth <= 0:
        return _not_json(where, f"nests deeper than {MAX_JSON_DEPTH} levels", problems)
    if isinstance(value, Mapping):
        wire = {}
        for key, item in value.items():
            if not isinstance(key, str):
                return _not_json(where, f"keys must be strings, got {type(key).__name__} {_shown(key)}", problems)
            try:
                _utf8(key, f"{where} (a key)" if where else "a key")
            except InvalidArgumentError as exc:
                return _not_json(exc.argument, exc.problem, problems)
            top = not where  # the keywords themselves
            # Dates: a keyword's own, and `scheduled_at` at any depth (a start item's, in `call()`'s body too).
            wire[key] = json_value(item, f"{where}.{key}" if where else key, depth - 1, problems,
                                   dates=top or key == "scheduled_at")
        return wire
    if isinstance(value, list | tuple):
        return [
            json_value(item, f"{where}[{index}]", depth - 1, problems, dates=False) for index, item in enumerate(value)
        ]
    return _not_json(
        where, f"must be JSON (str, int, float, bool, None, list or mapping), got {type(value).__name__}", problems
    )


@rule("future schedule")
def future(value: str, where: str) -> str:
    """A `scheduled_at` the spec accepts, in the future, as it is sent: UTC with a `Z` (`_when.wire`).

    Every form of the spec's pattern is read as the spec says (no zone: UTC; Ruby's `UTC` and `+0100`), so a
    past time in any form is refused, never sent (a past schedule sends the payout at once)."""
    try:
        when = parse_schedule(value)
    except ValueError as exc:
        raise InvalidArgumentError(where, str(exc)) from None
    if when.timestamp() <= time.time():
        raise InvalidArgumentError(where, f"is not in the future ({_shown(value)}); use send_now() to send now")
    return wire(when)


def scheduled_at(value: object, where: str = "scheduled_at") -> str:
    """A datetime or a string as the wire's `scheduled_at`, in the future (the start and update forms)."""
    text = iso_instant(value, where) if isinstance(value, datetime.datetime) else value
    if not isinstance(text, str):
        return text  # type: ignore[return-value]  # the spec's schema names the type it wants
    return future(text, where)


@rule("customer id or description")
def customer_form(value: object) -> None:
    if isinstance(value, Mapping) and "id" in value and len(value) > 1:
        raise InvalidArgumentError(
            "customer",
            f"give either an existing customer's id or a description, not both (got {sorted(map(repr, value))})",
        )


@rule("start items")
def start_item(item: Mapping[Any, Any], where: str) -> None:
    unknown = set(item) - {"id", "scheduled_at", "phone_number"}
    if unknown:
        raise InvalidArgumentError(where, f"unknown field(s) {sorted(map(repr, unknown))}")


@rule("distinct start ids")
def _distinct(ids: list[Any]) -> None:
    if len(set(map(repr, ids))) != len(ids):
        raise InvalidArgumentError("payouts", f"names a payout more than once: {ids}")


@rule("idempotency key token")
def _idempotency_key(value: object) -> None:
    if not isinstance(value, str) or not HEADER_SAFE_RE.fullmatch(value):
        raise InvalidArgumentError("idempotency_key", "must be 1 to 255 printable ASCII characters without spaces")


def declared(operation_id: str, body: Any, params: Mapping[str, Any]) -> None:
    """The declared rules that apply to a request the spec has accepted."""
    if "idempotency_key" in params:
        _idempotency_key(params["idempotency_key"])
    if operation_id == "start_payouts" and isinstance(body, list):  # the documented bare array of items
        body = {"payouts": body}  # the same list: items are checked and rewritten in place
    if not isinstance(body, dict):
        return
    if isinstance(body.get("customer"), Mapping):
        customer_form(body["customer"])
    if isinstance(body.get("scheduled_at"), str):
        body["scheduled_at"] = future(body["scheduled_at"], "scheduled_at")
    items = body.get("payouts")
    if operation_id == "start_payouts" and isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict):
                start_item(item, f"payouts[{index}]")
                if isinstance(item.get("scheduled_at"), str):
                    item["scheduled_at"] = future(item["scheduled_at"], f"payouts[{index}].scheduled_at")
        _distinct([item.get("id") if isinstance(item, dict) else item for item in items])


@rule("header values")
def header_value(value: str, where: str) -> str:
    if not HEADER_VALUE_RE.fullmatch(value):
        raise InvalidArgumentError(where, "must be printable ASCII (no control characters)")
    return value


@rule("header values")
def headers(value: object, where: str, declared: Mapping[str, str] | None = None) -> dict[str, str]:
    """A call's extra headers: token names, printable values, none the client sets itself (`_config`'s
    list, as for `default_headers`) nor one of `declared` (lowercase header name -> its keyword); values
    are never quoted."""
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(where, "must be a mapping of header names to values")
    out: dict[str, str] = {}
    seen: set[str] = set()
    for name, item in value.items():
        if not isinstance(name, str) or not HEADER_SAFE_RE.fullmatch(name) or not isinstance(item, str):
            raise InvalidArgumentError(where, f"header {_shown(name)} must be a token name with a string value")
        keyword = None if declared is None else declared.get(name.lower())
        if keyword is not None:
            raise InvalidArgumentError(where, f"{name} is a parameter of this operation: pass {keyword}= instead")
        problem = header_name_problem(name, seen)
        if problem is not None:
            raise InvalidArgumentError(where, problem)
        out[name] = header_value(item, f"{where}.{name}")
    return out


@rule("spec keywords")
def unknown_keyword(name: str, operation_id: str, known: str, *, has_body: bool) -> InvalidArgumentError:
    """An operation with a body takes undeclared fields in `extra_body=`; one without (a GET) in `extra_query=`."""
    escape = "a field the spec does not declare with extra_body=" if has_body else (
        "a query parameter the spec does not declare with extra_query= (this operation has no body)"
    )
    return InvalidArgumentError(
        name, f"is not a field or parameter of {operation_id} in the spec (those are: {known}); send {escape}"
    )


@rule("escape hatches")
def merge_extra_body(
    body: Any, extra_body: object, operation_id: str, declared: Mapping[str, str], *, takes_body: bool = True
) -> Any:
    """The body with `extra_body`'s fields added, each plain JSON, none of them a field the spec declares
    (`declared`: wire name -> the argument that carries it, checked). An operation without a body (a GET)
    refuses it: a GET carrying a JSON body is not what the caller meant."""
    if not takes_body:
        raise InvalidArgumentError(
            "extra_body", f"{operation_id} takes no body: send what the spec does not declare with extra_query="
        )
    extra = json_value(extra_body, "extra_body", MAX_JSON_DEPTH + 1)
    if not isinstance(extra, dict):
        raise InvalidArgumentError("extra_body", "must be a mapping of fields to add to the body")
    for key in extra:
        if key in declared:
            raise InvalidArgumentError(
                "extra_body", f"{_shown(key)} is a field of {operation_id} in the spec: pass {declared[key]}= instead"
                " (extra_body is for fields the spec does not declare)",
            )
    if body is None:
        return extra
    if not isinstance(body, dict):
        raise InvalidArgumentError("extra_body", f"{operation_id}'s body is not an object: nothing to merge into")
    return {**body, **extra}


@rule("escape hatches")
def extra_query(
    value: object, operation_id: str = "", declared: Mapping[str, str] | None = None,
    exact: Collection[str] = (),
) -> dict[str, str | int | float | bool]:
    """`value`'s parameters, flat JSON scalars, none of them named like one the operation declares (`declared`:
    lowercase wire name -> the argument that carries it: a parameter, or a body field at any depth) but the
    declared query parameters named exactly (`exact`), which the caller checks as declared. Servers read a
    field from the query when the body lacks it (PHP frameworks merge the two): an `amount` or a past
    `scheduled_at` there would reach one unchecked. Compared without case and up to the first `[` (`amount[]`,
    `customer[email]`, as PHP reads them)."""
    if not isinstance(value, Mapping):
        raise InvalidArgumentError("extra_query", "must be a mapping of query parameters")
    out: dict[str, str | int | float | bool] = {}
    for key, item in value.items():
        if type(key) is not str or not _encodes(key):  # a key goes in the URL: text, named by its repr
            shown = _shown(key) if isinstance(key, str | int | float | bool) or key is None else type(key).__name__
            raise InvalidArgumentError(
                f"extra_query[{shown}]", "a query parameter's name must be a string of valid Unicode text"
            )
        keyword = None if declared is None else declared.get(key.split("[", 1)[0].strip().lower())
        if keyword is not None and key not in exact:
            raise InvalidArgumentError(
                "extra_query", f"{_shown(key)} is a parameter or field of {operation_id} in the spec, set with"
                f" {keyword}= (extra_query is for parameters the spec does not declare)",
            )
        plain = json_value(item, f"extra_query.{key}", 1)
        if not isinstance(plain, str | int | float):
            raise InvalidArgumentError(f"extra_query.{key}", "must be a string, number or bool")
        out[key] = plain
    return out


@rule("escape hatches")
def query_set_twice(wire: str, operation_id: str, keyword: str) -> InvalidArgumentError:
    """A declared query parameter in `extra_query` the call also sets: the query's would replace the checked one."""
    return InvalidArgumentError(
        "extra_query", f"{wire!r} is a parameter of {operation_id} this call sets: pass {keyword}= instead"
    )


@rule("spec keywords")
def unknown_operation(operation_id: object, known: list[str]) -> InvalidArgumentError:
    shown = _shown(operation_id) if isinstance(operation_id, str) else f"a {type(operation_id).__name__}"
    return InvalidArgumentError("operation", f"{shown} is not an operation of the spec ({', '.join(known)})")
