"""The run's options checked once, before the file is read: an operator's mistake is one line, exit 2.

Each check is shared by the command line (argparse types, which name the option) and the library form
(`BulkOptions`, `InvalidArgumentError` naming the field), so neither can accept what the run cannot use.
"""

from __future__ import annotations

import importlib.util
import math
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fedapay_payouts import InvalidArgumentError

from .when import parse_schedule, wire

if TYPE_CHECKING:
    from .engine import BulkOptions

MAX_CONCURRENCY = 64
MAX_GROUP = 100
MAX_WAIT_TIMEOUT = 7 * 24 * 3600.0  # a week: longer is a typo, and polling would outlive any operator
BATCH_RE = re.compile(r"[A-Za-z0-9_-]{1,40}")
# spec/openapi.yaml, CurrencyInput.iso: the currencies the API accepts (tests/bulk checks this copy).
SPEC_CURRENCIES = frozenset({"XOF", "GNF"})
# A mode's shape. spec/openapi.yaml gives `Payout.mode` no enum on purpose (FedaPay adds operators: its known
# values are only named in the description), so a new mode is sent as the client would send it; only text
# that cannot be a mode name (spaces, capitals, control characters) is refused before anything is sent.
MODE_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
COUNTRY_RE = re.compile(r"[A-Za-z]{2}")


def concurrency(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY:
        raise ValueError(f"must be a whole number from 1 to {MAX_CONCURRENCY}, got {value!r}")
    return value


def wait_timeout(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not 0 < value <= MAX_WAIT_TIMEOUT:
        raise ValueError(f"must be a number of seconds above 0, at most {MAX_WAIT_TIMEOUT:g} (a week), got {value!r}")
    return float(value)


def group_size(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_GROUP:
        raise ValueError(f"must be a whole number from 1 to {MAX_GROUP} (payouts per start), got {value!r}")
    return value


def batch(value: str) -> str:
    if value and not BATCH_RE.fullmatch(value):
        raise ValueError("must be 1 to 40 letters, digits, '-' or '_'")
    return value


def mode(value: str) -> str:
    """`--mode`, and a row's mode: a mode name (`MODE_RE`)."""
    if MODE_RE.fullmatch(value) is None:
        raise ValueError(f"{value!r} is not a mode name (lower-case letters, digits and _, e.g. mtn_open, moov)")
    return value


def currency(value: str) -> str:
    """`--currency`, and a row's currency: one the spec accepts, in any case."""
    if value.upper() not in SPEC_CURRENCIES:
        raise ValueError(f"{value!r} is not one FedaPay accepts ({', '.join(sorted(SPEC_CURRENCIES))})")
    return value


def country(value: str) -> str:
    """`--country`, and a row's country: a 2-letter code of a country whose numbers `phonenumbers` reads (`zz` got
    its bare "Missing or invalid default region." for each national number, and nothing for international ones)."""
    if not COUNTRY_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a 2-letter country code (bj, tg, ci, ...)")
    if not _known_country(value.upper()):
        raise ValueError(f"{value!r} is no country code phonenumbers knows (bj, tg, ci, ...)")
    return value


def _known_country(code: str) -> bool:
    """Asked of `phonenumbers` (the `bulk` extra) once it is there: without it the command stops on that first."""
    if importlib.util.find_spec("phonenumbers") is None:
        return True
    import phonenumbers

    return code in phonenumbers.SUPPORTED_REGIONS


def schedule_at(value: str) -> str:
    """One of the spec's forms (a time without a zone is UTC). Whether it is still in the future is asked
    by `prepare.py`, of the rows not yet created only: a resumed journal keeps the plan of the others."""
    parse_schedule(value)
    return value


def not_past(value: str) -> None:
    """`ValueError` if the time has passed."""
    when = parse_schedule(value)
    if when.timestamp() <= time.time():
        raise ValueError(f"{value!r} ({wire(when)}; a time without a zone is UTC) is not in the future")


def check_options(options: BulkOptions) -> None:
    """`InvalidArgumentError` naming the first wrong option; nothing is read or sent before this passes."""
    checks: list[tuple[str, Callable[[Any], object], object]] = [
        ("concurrency", concurrency, options.concurrency),
        ("wait_timeout", wait_timeout, options.wait_timeout),
        ("batch", batch, options.batch),
        ("group_size", group_size, options.group_size),
    ]
    if options.schedule_at is not None:
        checks.append(("schedule_at", schedule_at, options.schedule_at))
    checks.append(("currency", currency, options.currency))
    if options.mode is not None:
        checks.append(("mode", mode, options.mode))
    if options.country is not None:
        checks.append(("country", country, options.country))
    for name, check, value in checks:
        try:
            check(value)
        except ValueError as exc:
            raise InvalidArgumentError(name, str(exc)) from None
