"""Form-encoded bodies with bracket keys, as FedaPay's PHP and Ruby libraries send them.

`payouts[][id]=1&payouts[][id]=2` (Ruby/Rack), `payouts[0][id]=1` (PHP `http_build_query`) and
`customer[phone_number][number]=...` become nested dicts and lists; values stay strings until the
spec's schema types them (`SchemaValidator.coerce_form`).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY_RE = re.compile(r"\[([^\[\]]*)\]")
MAX_DEPTH = 16


class MalformedFormError(ValueError):
    """A key the bracket syntax cannot place."""


def _split(key: str) -> list[str]:
    head, bracket, _ = key.partition("[")
    if not bracket:
        return [key]
    rest = key[len(head) :]
    parts = _KEY_RE.findall(rest)
    if "".join(f"[{p}]" for p in parts) != rest or len(parts) > MAX_DEPTH:
        raise MalformedFormError(f"cannot read the form key {key[:60]!r}")
    return [head, *parts]


def _assign(container: dict[str, Any], parts: list[str], value: str, key: str) -> None:
    name, rest = parts[0], parts[1:]
    if not rest:
        container[name] = value
        return
    if rest[0] == "":
        items = container.setdefault(name, [])
        if not isinstance(items, list):
            raise MalformedFormError(f"form key {key[:60]!r} mixes a list and a value")
        tail = rest[1:]
        if not tail:
            items.append(value)
            return
        # Rack: start a new element when the last one already has this field.
        if not items or not isinstance(items[-1], dict) or _has(items[-1], tail):
            items.append({})
        _assign(items[-1], tail, value, key)
        return
    child = container.setdefault(name, {})
    if not isinstance(child, dict):
        raise MalformedFormError(f"form key {key[:60]!r} mixes an object and a value")
    _assign(child, rest, value, key)


def _has(node: dict[str, Any], parts: list[str]) -> bool:
    head, rest = parts[0], parts[1:]
    if head not in node:
        return False
    if not rest or rest[0] == "":
        return True
    child = node[head]
    return isinstance(child, dict) and _has(child, rest)


def decode_form(raw: bytes) -> dict[str, Any]:
    """Nested dicts and lists of strings from an `application/x-www-form-urlencoded` body."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedFormError("the form body is not UTF-8") from exc
    out: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True, strict_parsing=False, max_num_fields=1000):
        _assign(out, _split(key), value, key)
    return out


# PHP's integers are 64-bit: a JSON integer outside this range is a float once PHP has decoded it.
_PHP_INT_MIN, _PHP_INT_MAX = -(2**63), 2**63 - 1


def as_php_form(value: Any) -> Any:
    """A stored value as it comes back in a form from FedaPay's PHP library (`save()` encodes the payout it read
    with `Util::encodeParameters`), once `decode_form` has read it: text everywhere (`42` -> "42", true -> "1",
    false and null -> "", `1.0` -> "1", floats to 14 significant digits as PHP writes them), an object whose keys
    are 0, 1, ... a list (PHP makes it one), and an empty object or list left out (PHP writes nothing for it):
    None. A form cannot tell 42 from "42", so an update compares a form's values with this (`PayoutStore`)."""
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value) if _PHP_INT_MIN <= value <= _PHP_INT_MAX else _php_float(float(value))
    if isinstance(value, float):
        return _php_float(value)
    if isinstance(value, dict):
        if list(value) == [str(n) for n in range(len(value))]:  # PHP's list: keys 0, 1, ... in order
            return as_php_form(list(value.values()))
        fields = {key: as_php_form(item) for key, item in value.items()}
        kept = {key: item for key, item in fields.items() if item is not None}
        return kept or None
    if isinstance(value, list):
        items = [as_php_form(item) for item in value]
        return [item for item in items if item is not None] or None
    return value


def as_ruby_form(value: Any) -> Any:
    """A stored value as it comes back in a form from FedaPay's Ruby library (`Util.encode_parameters` of what
    `save` serializes), once `decode_form` has read it: `to_s` everywhere (true -> "true", false -> "false", null
    -> "", `1.0` -> "1.0"), an empty object or list left out (None). Its objects stay objects (Rack's lists are
    `key[]`)."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _ruby_float(value)
    if isinstance(value, dict):
        fields = {key: as_ruby_form(item) for key, item in value.items()}
        kept = {key: item for key, item in fields.items() if item is not None}
        return kept or None
    if isinstance(value, list):
        items = [as_ruby_form(item) for item in value]
        return [item for item in items if item is not None] or None
    return value


def same_in_form(value: Any, current: Any) -> bool:
    """Whether a form's value (as the schema typed it) is `current` as a library's form writes it: PHP's
    (`as_php_form`) or Ruby's (`as_ruby_form`). A form cannot tell null from "" (nor 42 from "42"): a nullable
    field sent as "" is read as null, which is the stored "" saved back, not a change."""
    return bool(as_php_form(value) == as_php_form(current) or as_ruby_form(value) == as_ruby_form(current))


def _ruby_float(value: float) -> str:
    """Ruby's `Float#to_s`: the shortest digits that read back (as Python's `repr`), with `.0` on a whole
    mantissa, and an exponent from 1e15 unless all 17 digits are needed (Python's from 1e16): `1.0`, `0.25`,
    `1.0e+15`, `1000000000000000.5`, `1.0e-05`."""
    text = repr(value)
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, point, fraction = digits.partition(".")
    if "e" not in digits and point and len(whole) == 16:  # 1e15 <= |value| < 1e16
        shown = (whole + fraction).rstrip("0")
        if len(shown) <= 16:
            return f"{sign}{shown[0]}.{shown[1:] or '0'}e+15"
    mantissa, e, exponent = text.partition("e")
    if e and "." not in mantissa:
        mantissa += ".0"
    return mantissa + e + exponent


def _php_float(value: float) -> str:
    """PHP's `(string)` of a float (precision 14): `0.1`, `1` for 1.0, `1.0E+20`, `1.0E-5`."""
    text = format(value, ".14G")
    if "E" not in text:
        return text
    mantissa, exponent = text.split("E")
    if "." not in mantissa:
        mantissa += ".0"
    return f"{mantissa}E{exponent[0]}{exponent[1:].lstrip('0') or '0'}"
