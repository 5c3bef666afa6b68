"""Client-side checks, run before any request: each failure names the argument.

Each check returns the value as it goes on the wire. They catch mistakes that would otherwise
reach the server (or worse, be accepted by it): a float amount, a naive datetime, a missing name.
"""

from __future__ import annotations

import datetime
import math
import re
import time
from collections.abc import Mapping
from typing import Any

from fedapay_payouts_api.models.customer_input import CustomerInput
from fedapay_payouts_api.models.customer_ref import CustomerRef
from fedapay_payouts_api.models.phone_number import PhoneNumber

from ._exceptions import InvalidArgumentError

PHONE_RE = re.compile(r"\+?[0-9]{4,15}")
COUNTRY_RE = re.compile(r"[A-Za-z]{2}")
CURRENCY_RE = re.compile(r"[A-Za-z]{3}")
HEADER_SAFE_RE = re.compile(r"[!-~]{1,255}")
# FedaPay's integers (ids, amounts, pages) are 64-bit on the wire; a larger one is no id of theirs.
MAX_WIRE_INT = 2**63 - 1


def _shown(value: object) -> str:
    """A short, safe description of a bad value for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def positive_int(value: object, argument: str) -> int:
    """Exactly an `int` (not a bool, not bytes or a numeric string), from 1 to 2**63 - 1."""
    if type(value) is not int:
        raise InvalidArgumentError(
            argument, f"must be a positive integer (int), got {type(value).__name__} {_shown(value)}"
        )
    if not 0 < value <= MAX_WIRE_INT:
        raise InvalidArgumentError(argument, f"must be a positive integer up to 2**63 - 1, got {_shown(value)}")
    return value


def payout_id(value: object, argument: str = "id") -> int:
    """A payout id: exactly an `int`. Bytes, strings, bools and floats are refused, never converted:
    `b"42"` iterated is the ids 52 and 50, and `"42"` is the ids 4 and 2."""
    return positive_int(value, argument)


def _utf8(value: str, argument: str) -> str:
    """Refuse strings that cannot travel as UTF-8 JSON (lone surrogates, e.g. from a bad decode)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidArgumentError(
            argument, f"contains a character that is not valid Unicode text (position {exc.start})"
        ) from None
    return value


def text(value: object, argument: str) -> str:
    """A string with something in it (surrounding spaces removed)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(argument, f"must be a non-empty string, got {_shown(value)}")
    return _utf8(value.strip(), argument)


def optional_string(value: object, argument: str) -> str:
    if not isinstance(value, str):
        raise InvalidArgumentError(argument, f"must be a string, got {type(value).__name__}")
    return _utf8(value, argument)


def currency(value: object) -> str:
    if not isinstance(value, str) or not CURRENCY_RE.fullmatch(value):
        raise InvalidArgumentError("currency", f"must be a 3-letter ISO 4217 code such as 'XOF', got {_shown(value)}")
    return value.upper()


def metadata(value: object, argument: str) -> dict[str, Any]:
    """Plain JSON only (what FedaPay stores and gives back); a failure names the place: `custom_metadata.lines[2]`."""
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(argument, f"must be a mapping with string keys, got {type(value).__name__}")
    wire: dict[str, Any] = _plain_json(value, argument, 0)
    return wire


MAX_JSON_DEPTH = 32


def _plain_json(value: object, where: str, depth: int) -> Any:
    """A copy of `value` as JSON types (dict, list, str, int, finite float, bool, None), or an error naming `where`."""
    if isinstance(value, str):
        return _utf8(value, where)
    if value is None or isinstance(value, int):  # bool is an int
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgumentError(where, f"must be a finite number, got {value!r} (not valid JSON)")
        return value
    if depth >= MAX_JSON_DEPTH:
        raise InvalidArgumentError(where, f"nests deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, Mapping):
        wire = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidArgumentError(where, f"keys must be strings, got {type(key).__name__} {_shown(key)}")
            _utf8(key, f"{where} (a key)")
            wire[key] = _plain_json(item, f"{where}.{key}", depth + 1)
        return wire
    if isinstance(value, (list, tuple)):
        return [_plain_json(item, f"{where}[{index}]", depth + 1) for index, item in enumerate(value)]
    raise InvalidArgumentError(
        where, f"must be JSON (str, int, float, bool, None, list or mapping), got {type(value).__name__}"
    )


def phone_number(value: object, argument: str) -> dict[str, str]:
    if isinstance(value, PhoneNumber):
        value = value.to_dict()
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(argument, 'must be {"number": "+22997808080", "country": "bj"}')
    number = value.get("number")
    if not isinstance(number, str) or not PHONE_RE.fullmatch(number := number.replace(" ", "")):
        raise InvalidArgumentError(
            f"{argument}.number", f"must be 4 to 15 digits with an optional +, got {_shown(number)}"
        )
    country = value.get("country")
    if not isinstance(country, str) or not COUNTRY_RE.fullmatch(country):
        raise InvalidArgumentError(f"{argument}.country", f"must be a 2-letter country code, got {_shown(country)}")
    return {"number": number, "country": country.lower()}


def customer(value: object) -> dict[str, Any]:
    """A new beneficiary described in full, or an existing customer as `{"id": n}`; never both."""
    if isinstance(value, CustomerInput | CustomerRef):
        value = value.to_dict()
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            "customer", 'must be {"firstname": ..., "lastname": ...}, {"id": <customer id>} or a CustomerInput'
        )
    if "id" in value:
        if len(value) > 1:
            raise InvalidArgumentError(
                "customer",
                f"give either an existing customer's id or a description, not both (got {sorted(map(repr, value))})",
            )
        return {"id": positive_int(value["id"], "customer.id")}
    wire: dict[str, Any] = {
        "firstname": text(value.get("firstname"), "customer.firstname"),
        "lastname": text(value.get("lastname"), "customer.lastname"),
    }
    email = value.get("email")
    if email is not None:
        if not isinstance(email, str) or "@" not in email:
            raise InvalidArgumentError("customer.email", f"must be an email address, got {_shown(email)}")
        wire["email"] = _utf8(email.strip(), "customer.email")
    phone = value.get("phone_number")
    if phone is not None:
        wire["phone_number"] = phone_number(phone, "customer.phone_number")
    unknown = set(value) - {"firstname", "lastname", "email", "phone_number"}
    if unknown:
        raise InvalidArgumentError("customer", f"unknown field(s) {sorted(map(repr, unknown))}")
    return wire


def scheduled_at(value: object, argument: str = "scheduled_at") -> str:
    """A timezone-aware datetime or ISO 8601 string, in the future, sent as UTC (`...Z`)."""
    when: datetime.datetime
    if isinstance(value, datetime.datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = datetime.datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidArgumentError(argument, f"is not an ISO 8601 date and time: {_shown(value)}") from None
    else:
        raise InvalidArgumentError(
            argument, f"must be a timezone-aware datetime or ISO 8601 string, got {_shown(value)}"
        )
    try:
        offset = when.utcoffset()
    except (TypeError, ValueError):  # a tzinfo whose utcoffset() misbehaves
        offset = None
    if offset is None:
        raise InvalidArgumentError(
            argument, f"must say its timezone (e.g. tzinfo=datetime.UTC or a trailing 'Z'), got {_shown(value)}"
        )
    try:
        utc = when.astimezone(datetime.UTC)
    except (OverflowError, ValueError, OSError):
        raise InvalidArgumentError(argument, f"is outside the years 1 to 9999 in UTC: {_shown(value)}") from None
    if utc.timestamp() <= time.time():
        raise InvalidArgumentError(argument, f"is not in the future ({_shown(value)}); use send_now() to send now")
    return utc.isoformat().replace("+00:00", "Z")


def idempotency_key(value: object) -> str:
    if not isinstance(value, str) or not HEADER_SAFE_RE.fullmatch(value):
        raise InvalidArgumentError("idempotency_key", "must be 1 to 255 printable ASCII characters without spaces")
    return value


def page_number(value: object, argument: str) -> int:
    return positive_int(value, argument)


def per_page(value: object) -> int:
    number = positive_int(value, "per_page")
    if number > 100:
        raise InvalidArgumentError("per_page", f"must be at most 100, got {number}")
    return number
