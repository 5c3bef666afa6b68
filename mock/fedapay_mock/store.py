"""Payouts in memory: ids, references, lifecycle, idempotency and counters.

Every public method takes one lock, so the store stays consistent whether it is driven by one event
loop (the normal case) or by threads. The lifecycle runs on `MockClock` time: due transitions sit in a
heap and are applied by `settle()` before any read or write, so results do not depend on wall time
when the clock is frozen.

Each payout keeps its wire form (`Payout.wire`), changed in place with the payout: a reply encodes it as it
is, so a request formats no timestamp and copies no template it did not change.
"""

from __future__ import annotations

import heapq
import itertools
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, overload

from .clock import MockClock
from .fees import Fees, compute_fees
from .forms import same_in_form
from .shape import COMPUTED_FIELDS as COMPUTED_FIELDS  # re-exported: where the wire's order is read
from .shape import PayoutShape
from .wallets import Wallet, wallet
from .wire import dumps

FAILING_SUFFIX = "0000"
FAILED_CODE = "sandbox_failure"
FAILED_MESSAGE = "The operator refused the transfer (sandbox rule: numbers ending in 0000 always fail)."
REFERENCE_BASE = 1_000_000_000_000
# FedaPay's documented rule: at most this many payouts to one mobile-money number within DAY_SECONDS.
MAX_PAYOUTS_PER_NUMBER = 3
DAY_SECONDS = 86_400.0
# Statuses that count towards that rule (a failed payout moved no money) and statuses that can still be
# deleted (not yet sent). Both decided in spec/overlays/14-fedapay-rules.yaml.
COUNTED_STATUSES = frozenset({"started", "scheduled", "sent"})
DELETABLE_STATUSES = frozenset({"pending", "scheduled"})

EventListener = Callable[[str, dict[str, Any]], None]
# A start's plan for one item: (item index, payout, when to send (None: now), the item's (phone number,
# country) or None, the wallet the per-number rule counts or None).
_Plan = tuple[int, "Payout", float | None, tuple[str, str | None] | None, Wallet | None]


_SECONDS: dict[int, str] = {}
# Each millisecond's text, formatted once (the f-string with a format spec was half of `iso`'s time); the
# last entry is for a fraction that rounds up to 1000 ms: capped at .999, never carried into the next second.
_MILLIS = (*(f".{ms:03d}Z" for ms in range(1000)), ".999Z")
_floor = math.floor


@overload
def iso(t: float) -> str: ...
@overload
def iso(t: None) -> None: ...
def iso(t: float | None) -> str | None:
    """Epoch seconds -> `2018-10-24T17:27:45.677Z`, FedaPay's timestamp format.

    Called when a payout changes, not when it is sent: a payout keeps its timestamps as text (`Payout.wire`)."""
    if t is None:
        return None
    whole = _floor(t)
    prefix = _SECONDS.get(whole)
    if prefix is None:
        # Many timestamps share their second under load; formatting is the costly part.
        if len(_SECONDS) > 4096:
            _SECONDS.clear()
        prefix = _SECONDS[whole] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    return prefix + _MILLIS[round((t - whole) * 1000)]


# The forms of the spec's `scheduled_at` pattern (`StartPayout`, `PayoutUpdate`): ASCII digits (JSON Schema's
# `\d`; Python's is any Unicode digit), a fraction of any length (only the first 9 digits count: nanoseconds),
# matched on the whole text. One linear pass with no nested repetition, so no length makes it slow; the
# request body's size bounds the text.
_DATE = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[T ]([0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]+))?"
    r"(?:(Z)| ?([+-][0-9]{2}):?([0-9]{2})| (UTC))?",
    re.ASCII,
)


# The first instant `iso` would write with a five-digit year (10000-01-01T00:00:00Z): a date the spec's pattern
# allows can fall there once read in UTC (`9999-12-31T23:59:59-14:00`), and FedaPay's timestamps (and every
# client's parser) have four-digit years, so no such date is ever stored.
YEAR_10000 = 253_402_300_800.0
# The last millisecond before it (`9999-12-31T23:59:59.999Z`): where a fraction that rounds up past it is kept.
_LAST_MILLISECOND = YEAR_10000 - 0.001


def parse_when(text: str) -> float:
    """Seconds since the epoch of a date in one of the forms FedaPay's libraries send: ISO 8601
    (`2030-01-01T10:00:00Z`, `+01:00`), `YYYY-MM-DD HH:MM:SS` (PHP; no zone means UTC) and Ruby's
    `Time#to_s` (`2030-01-01 10:00:00 UTC`, `2030-01-01 11:00:00 +0100`), to the nearest millisecond. Raises
    ValueError, also for an instant after the year 9999 in UTC (every date the store keeps comes from here)."""
    if not isinstance(text, str):  # another spec may allow any JSON value here
        raise ValueError(f"must be a date string, not {type(text).__name__}")
    found = _DATE.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"{text[:64]!r} is not a valid date")
    day, whole, fraction, _z, hours, minutes, _utc = found.groups()
    zone = "+00:00" if hours is None else f"{hours}:{minutes}"
    try:
        seconds = datetime.fromisoformat(f"{day}T{whole}{zone}").timestamp()
    except (ValueError, OverflowError, OSError) as exc:
        raise ValueError(f"{text[:64]!r} is not a valid date") from exc
    if seconds >= YEAR_10000:
        raise ValueError(f"{text[:64]!r} is after the year 9999 in UTC")
    if not fraction:
        return seconds
    # Kept to the millisecond, the precision of every timestamp a reply shows (`iso`): a payout read and sent
    # back says the same instant, so saving it back is no change (nearest millisecond, from the first 9 digits).
    milliseconds = (int(fraction[:9].ljust(9, "0")) + 500_000) // 1_000_000
    # `9999-12-31T23:59:59.9999Z` is in 9999 but rounds up to the year 10000: kept at its last millisecond.
    return min(seconds + milliseconds / 1000, _LAST_MILLISECOND)


class StoreError(Exception):
    """The store refuses a request: `status` (404 or 422), a message and the errors by request field."""

    status = 422

    def __init__(self, message: str, errors: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class NotFoundError(StoreError):
    """Unknown payout (or customer) ids, by request field."""

    status = 404

    def __init__(self, errors: dict[str, list[str]], message: str = "No payout with this id.") -> None:
        super().__init__(message, errors)


class RefusedError(StoreError):
    """A business rule refuses the request (422), by request field."""


# Request fields the store acts on itself; every other request field is kept in `Payout.fields`.
CORE_REQUEST_FIELDS = frozenset({"amount", "currency", "customer", "mode", "scheduled_at", "include"})
# Update fields where null (or "" in a form) changes nothing, rather than clearing the value: a merchant
# reference is the caller's way to find a payout again, and a schedule is cancelled by delete. For every
# other nullable update field null clears it. (Decided here; FedaPay does not document it: docs/mock.md.)
NULL_MEANS_UNCHANGED = frozenset({"merchant_reference", "scheduled_at"})
# What `include` may embed in a payout.
EMBEDDABLE = frozenset({"customer", "currency"})
WILDCARD = "*"
# The fee fields of a payout on the wire, by name (`Fees`' fields); all null when there is no amount.
NO_FEES: dict[str, int | None] = dict.fromkeys(Fees._fields)


_FEES: dict[Any, dict[str, int | None]] = {}


def _fees(amount: Any) -> dict[str, int | None]:
    """The fee fields of a whole amount, as the wire has them (never changed: shared); null when the amount
    is missing (a spec that made it optional).

    A pure function of the amount: looked up (up to 4096 amounts at a time) or computed as a payout is
    created or its amount changes."""
    found = _FEES.get(amount) if type(amount) is int else None
    if found is None:
        found = compute_fees(amount)._asdict() if type(amount) is int and amount > 0 else NO_FEES
        if type(amount) is int:
            if len(_FEES) >= 4096:
                _FEES.clear()
            _FEES[amount] = found
    return found


# The `fields` of a payout created with none: one shared dict, never written (`PayoutStore.update` gives the
# payout its own before the first change).
NO_FIELDS: dict[str, Any] = {}


class Payout:
    """A stored payout: its wire form, kept current as the payout changes, and what the store needs beside it.

    `wire` is the payout as FedaPay sends it inside `v1/payout` / `v1/payouts` (every field in FedaPay's order:
    `COMPUTED_FIELDS`, then the spec's other nullable fields, then the echoed request fields), updated in place
    at each change (timestamps formatted then), so a reply encodes it as it is instead of rebuilding it. The
    store hands it out as it is: whoever gets it encodes it (or copies it) before the store runs again."""

    __slots__ = (
        "country",
        "fields",
        "finished_at",
        "id",
        "idempotency_key",
        "phone_number",
        "scheduled_at",
        "started_at",
        "status",
        "wire",
    )

    def __init__(
        self,
        payout_id: int,
        wire: dict[str, Any],
        fields: dict[str, Any],
        phone_number: str | None,
        country: str | None,
        idempotency_key: str | None,
    ) -> None:
        self.id = payout_id
        self.wire = wire
        self.status = "pending"  # also `wire["status"]`: read here, written to both
        # The request's other fields (description, merchant_reference, custom_metadata, any new one), as sent.
        self.fields = fields
        self.phone_number = phone_number
        self.country = country  # the phone number's: with it, the wallet the per-number rule counts (`wallet`)
        self.idempotency_key = idempotency_key
        # The times the lifecycle reads (the wire has them as text): when a scheduled payout is due, and when a
        # payout was started (the per-number rule).
        self.scheduled_at: float | None = None
        self.started_at: float | None = None
        # When the payout was sent or failed, until its wire says so: the clock settles payouts nobody may
        # read (`PayoutStore._finish`), so their wire is brought up to date when read (`PayoutStore._wire`).
        self.finished_at: float | None = None

    @property
    def reference(self) -> str:
        """FedaPay's reference: a number string, unique like the id it is made from."""
        return str(REFERENCE_BASE + self.id)


def wire_template(others: Mapping[str, Any]) -> dict[str, Any]:
    """Every field of a payout on the wire, in order, null but `klass`: the store's fields, then `others` with
    their values (`PayoutShape.template`: the spec's other nullable fields as null, its other required ones)."""
    template: dict[str, Any] = dict.fromkeys(COMPUTED_FIELDS)
    template["klass"] = "v1/payout"
    for name, value in others.items():
        template.setdefault(name, value)
    return template


@dataclass
class _IdempotencyRecord:
    fingerprint: bytes
    payout_id: int


@dataclass
class Counters:
    created: int = 0
    started: int = 0
    scheduled: int = 0
    sent: int = 0
    failed: int = 0
    deleted: int = 0
    idempotent_replays: int = 0
    requests: dict[str, int] = field(default_factory=dict)


class PayoutStore:
    """The mock's state. `currencies` maps ISO codes to currency ids; `shape` is the spec's payout
    (`fedapay_mock.shape.payout_shape`): which request fields are echoed, which reply fields sent as null.

    The payouts the methods return are the stored wire forms (`Payout.wire`), not copies: encode them (or copy
    them) before the store changes again. Listeners get copies."""

    def __init__(
        self,
        clock: MockClock,
        *,
        settle_seconds: float,
        currencies: dict[str, int],
        shape: PayoutShape | None = None,
        max_payouts_per_number: int | None = MAX_PAYOUTS_PER_NUMBER,
        delete_only_unsent: bool = True,
    ) -> None:
        self.clock = clock
        self.settle_seconds = settle_seconds
        self.max_payouts_per_number = max_payouts_per_number
        self.delete_only_unsent = delete_only_unsent
        self.currencies = dict(currencies)
        self.shape = shape or PayoutShape()
        # A new payout's wire before its values are filled in (`create`).
        self._new = wire_template(self.shape.template)
        self._new["status"] = "pending"
        # What the store computes is never overwritten by what a caller sent.
        self._echoed = self.shape.echoed - frozenset(COMPUTED_FIELDS)
        self._stored_on_create = tuple(sorted(self.shape.create_fields - CORE_REQUEST_FIELDS))
        self._stored_set = frozenset(self._stored_on_create)
        self.listeners: list[EventListener] = []
        self._lock = threading.RLock()
        self._reset_state()

    def _reset_state(self) -> None:
        self._payouts: dict[int, Payout] = {}
        self._next_id = 1
        self._customers: dict[tuple[Any, ...], int] = {}
        self._customer_phones: dict[int, tuple[str | None, str | None]] = {}  # by customer id: (number, country)
        self._customer_names: dict[int, dict[str, Any]] = {}  # by customer id: firstname, lastname, email
        self._idempotency: dict[str, _IdempotencyRecord] = {}
        # Due transitions: (when, order of scheduling, payout id, "settle" or "send").
        self._due: list[tuple[float, int, int, str]] = []
        # How many of them no longer apply (a rescheduled or deleted payout's): dropped when popped, and all
        # at once when they outnumber the live ones (`_drop_stale`), so rescheduling cannot grow the heap.
        self._stale = 0
        self._order = itertools.count()
        # Mobile-money wallet (`wallet`: country, national number) -> ids of payouts started or scheduled to
        # it, oldest first.
        self._sends: dict[Wallet, list[int]] = {}
        self.counters = Counters()

    def reset(self) -> None:
        with self._lock:
            self._reset_state()

    def _wire(self, payout: Payout, include: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The payout's wire form, up to date; a copy with the objects `include` names embedded when it names any."""
        if payout.finished_at is not None:
            _write_finish(payout)
        if include:
            wire = payout.wire.copy()
            self._embed(wire, include)
            return wire
        return payout.wire

    def _embed(self, wire: dict[str, Any], include: frozenset[str]) -> None:
        """Embed the objects `include` names, as FedaPay's fixtures show them (`klass` `v1/<name>`)."""
        customer_id = wire.get("customer_id")
        if "customer" in include and isinstance(customer_id, int):
            names = self._customer_names.get(customer_id, {})
            wire["customer"] = {"klass": "v1/customer", "id": customer_id, **names}
        currency_id = wire.get("currency_id")
        if "currency" in include and isinstance(currency_id, int):
            iso_code = next((code for code, n in self.currencies.items() if n == currency_id), None)
            wire["currency"] = {"klass": "v1/currency", "id": currency_id, "iso": iso_code}

    # -- events and the clock -------------------------------------------------------------------

    def _emit(self, name: str, payout: Payout) -> None:
        if self.listeners:
            wire = self._wire(payout).copy()  # a listener may keep it: a snapshot, not the live payout
            for listener in self.listeners:
                listener(name, wire)

    def _schedule(self, due: float, payout_id: int, kind: str) -> None:
        heapq.heappush(self._due, (due, next(self._order), payout_id, kind))

    def settle(self, now: float | None = None) -> None:
        """Apply every transition whose time has come on the mock clock (`now`: its time, read by the caller)."""
        due = self._due
        if not due:
            return
        if now is None:
            now = self.clock.now()
        if due[0][0] <= now:  # else the earliest is not due yet: nothing to do, no lock to take
            with self._lock:
                self._apply_due(now)

    def _apply_due(self, now: float) -> None:
        """`settle`'s work, with the lock held."""
        due = self._due
        payouts = self._payouts
        while due and due[0][0] <= now:
            when, _, payout_id, kind = heapq.heappop(due)
            payout = payouts.get(payout_id)
            if payout is not None and _live(payout, when, kind):
                if kind == "send":
                    payout.started_at = when
                self._finish(payout, when)
            elif self._stale:
                self._stale -= 1

    def _made_stale(self) -> None:
        """One due entry no longer applies (its payout was rescheduled or deleted); with the lock held."""
        self._stale += 1
        if self._stale * 2 > len(self._due):
            self._drop_stale()

    def _drop_stale(self) -> None:
        """Keep only the due entries that still apply: the heap stays within twice the payouts it waits for."""
        payouts = self._payouts
        kept = []
        for entry in self._due:
            payout = payouts.get(entry[2])
            if payout is not None and _live(payout, entry[0], entry[3]):
                kept.append(entry)
        heapq.heapify(kept)
        self._due = kept
        self._stale = 0

    def _finish(self, payout: Payout, when: float) -> None:
        """A started payout is sent, or fails (the sandbox rule), at `when`; its wire says so once read (`_wire`)."""
        payout.finished_at = when
        if payout.phone_number is not None and payout.phone_number.endswith(FAILING_SUFFIX):
            payout.status = "failed"
            self.counters.failed += 1
            self._emit("payout.failed", payout)
        else:
            payout.status = "sent"
            self.counters.sent += 1
            if self.listeners:
                self._emit("payout.sent", payout)

    # -- operations -----------------------------------------------------------------------------

    def count_request(self, operation_id: str) -> None:
        requests = self.counters.requests
        with self._lock:
            requests[operation_id] = requests.get(operation_id, 0) + 1

    def create(
        self,
        body: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        fingerprint: bytes = b"",
        account_id: int | None = None,
        include: frozenset[str] = frozenset(),
    ) -> tuple[dict[str, Any], bool]:
        """Store a new pending payout; returns (wire payout, replayed). A replay is the payout as it is now
        (settled first, as every other operation: not the status it had when the key was first used)."""
        self.settle()
        with self._lock:
            if idempotency_key is not None:
                record = self._idempotency.get(idempotency_key)
                if record is not None:
                    if record.fingerprint != fingerprint:
                        raise RefusedError(
                            "This Idempotency-Key was already used with a different request body.",
                            {"Idempotency-Key": ["was already used with a different request body"]},
                        )
                    self.counters.idempotent_replays += 1
                    return self._wire(self._payouts[record.payout_id], include), True
            text = iso(self.clock.now())
            # A field the spec makes optional may be missing: its spec default, else null, never a crash.
            defaults = self.shape.defaults
            values = {**defaults, **body} if defaults else body
            customer = values.get("customer")
            customer_id, number, country = (
                self._customer(customer) if isinstance(customer, dict) else (None, None, None)
            )
            currency_id = self._currency_id(values.get("currency"))
            amount = values.get("amount")
            fees = _fees(amount)
            payout_id = self._next_id
            self._next_id = payout_id + 1
            # A copy of every field in order, null but `klass` and `status` (cloned whole: cheaper than built
            # key by key), with what differs filled in.
            wire = self._new.copy()
            wire["id"] = payout_id
            wire["reference"] = str(REFERENCE_BASE + payout_id)
            wire["amount"] = amount
            wire["customer_id"] = customer_id
            wire["currency_id"] = currency_id
            wire["mode"] = values.get("mode")
            if fees is not NO_FEES:
                wire.update(fees)
            wire["created_at"] = wire["updated_at"] = text
            wire["account_id"] = account_id
            if self._stored_set.isdisjoint(values):
                fields = NO_FIELDS
            else:
                fields = {name: values[name] for name in self._stored_on_create if name in values}
                echoed = self._echoed
                for name, value in fields.items():
                    if name in echoed:
                        wire[name] = value
            payout = self._payouts[payout_id] = Payout(payout_id, wire, fields, number, country, idempotency_key)
            self.counters.created += 1
            if idempotency_key is not None:
                self._idempotency[idempotency_key] = _IdempotencyRecord(fingerprint, payout_id)
            if self.listeners:
                self._emit("payout.created", payout)
            return (self._wire(payout, include) if include else wire), False

    def _currency_id(self, currency: Any) -> int | None:
        """The currency's id; a code the spec newly allows (or a spec without an enum) gets the next id."""
        code = currency.get("iso") if isinstance(currency, dict) else None
        if type(code) is not str:
            return None
        return self.currencies.setdefault(code, len(self.currencies) + 1)

    def _customer(self, customer: dict[str, Any]) -> tuple[int | None, str | None, str | None]:
        """(customer id, phone number, its country): an existing customer by `{id}`, or the one these details
        describe (the same number in another country is another wallet, so another customer)."""
        if "firstname" not in customer and "id" in customer:  # `{"id": n}` (the spec's CustomerRef)
            customer_id = customer["id"]
            # Only an integer names a customer (a spec that does not say so lets any JSON value come here).
            phone = self._customer_phones.get(customer_id) if type(customer_id) is int else None
            if phone is None:
                raise NotFoundError({"customer.id": ["no customer with this id"]}, "No customer with this id.")
            return customer_id, *phone
        # As sent (the spec makes both strings; `wallet` folds the country's case): every create comes here.
        phone = customer.get("phone_number")
        if type(phone) is dict:
            number = phone.get("number")
            country = phone.get("country")
        else:
            number = country = None
        names = (customer.get("firstname"), customer.get("lastname"), customer.get("email"))
        key: tuple[Any, ...] = (*names, number, country)
        try:
            customer_id = self._customers.get(key)
        except TypeError:  # a value that is no text (a spec that allows any JSON there): keyed by its JSON text
            key = (dumps(list(key), sort_keys=True),)
            customer_id = self._customers.get(key)
        if type(number) is not str or type(country) not in (str, type(None)):
            number = country = None  # no number the lifecycle or the per-number rule could read
        if customer_id is None:  # the same details are the same customer: recorded once
            customer_id = self._customers[key] = len(self._customers) + 1
            self._customer_phones[customer_id] = (number, country)
            self._customer_names[customer_id] = {"firstname": names[0], "lastname": names[1], "email": names[2]}
        return customer_id, number, country

    def get(self, payout_id: int, include: frozenset[str] = frozenset()) -> dict[str, Any] | None:
        self.settle()
        with self._lock:
            payout = self._payouts.get(payout_id)
            return self._wire(payout, include) if payout is not None else None

    def page(
        self,
        *,
        page: int,
        per_page: int,
        status: str | None = None,
        merchant_reference: str | None = None,
        search: str | None = None,
        include: frozenset[str] = frozenset(),
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """A page of payouts, newest first, and its `meta`; `search` as `GET /payouts/search` reads it."""
        self.settle()
        term = (search or "").strip().casefold()
        if term == WILDCARD:
            term = ""
        with self._lock:
            source: Iterable[Payout] = reversed(self._payouts.values())
            if status is None and merchant_reference is None and not term:
                total = len(self._payouts)
                matching: Iterator[Payout] = iter(source)
            else:
                chosen = [
                    p
                    for p in source
                    if (status is None or p.status == status)
                    and (merchant_reference is None or p.fields.get("merchant_reference") == merchant_reference)
                    and (not term or _matches(p, term))
                ]
                total = len(chosen)
                matching = iter(chosen)
            start = (page - 1) * per_page
            items = [self._wire(p, include) for p in islice(matching, start, start + per_page)] if start < total else []
        total_pages = -(-total // per_page)
        meta = {
            "current_page": page,
            "next_page": page + 1 if page < total_pages else None,
            "prev_page": page - 1 if page > 1 else None,
            "total_pages": total_pages,
            "total_count": total,
            "per_page": per_page,
        }
        return items, meta

    def start(self, items: list[dict[str, Any]], *, field_prefix: str) -> list[dict[str, Any]]:
        """Send now or schedule every listed payout, all or nothing.

        Unknown ids: 404 when no listed payout exists, else 422 naming each unknown id.
        """
        with self._lock:
            now = self.clock.now()
            self.settle(now)
            payouts = self._payouts
            missing: dict[str, list[str]] = {}
            refused: dict[str, list[str]] = {}
            seen: set[int] = set()
            limited = self.max_payouts_per_number is not None
            # (item index, payout, when, the item's phone number and country, the wallet the rule counts): an
            # item's field name is written only for an error.
            plans: list[_Plan] = []
            for index, item in enumerate(items):
                item_id = item.get("id")
                # Only an integer names a payout (`True == 1`, and a list is no key: another spec may allow them).
                payout = payouts.get(item_id) if type(item_id) is int else None
                if payout is None:
                    missing[_item_field(field_prefix, index, "id")] = [f"no payout with id {str(item_id)[:40]}"]
                    continue
                payout_id = payout.id
                if payout_id in seen:
                    refused[_item_field(field_prefix, index, "id")] = ["is listed twice"]
                    continue
                seen.add(payout_id)
                if payout.status != "pending":
                    refused[_item_field(field_prefix, index, "id")] = [
                        f"payout {payout.id} is {payout.status}, only a pending payout can start"
                    ]
                    continue
                when: float | None = None
                scheduled = item.get("scheduled_at")
                if scheduled is not None:
                    try:
                        when = parse_when(scheduled)
                    except ValueError as exc:
                        refused[_item_field(field_prefix, index, "scheduled_at")] = [str(exc)]
                        continue
                    if when <= now:
                        when = None
                phone: tuple[str, str | None] | None = None
                given = item.get("phone_number")
                if given is not None:  # the start gives the number to send to
                    given_number, given_country = _phone(given)
                    phone = (given_number, given_country) if given_number is not None else None
                to: Wallet | None = None
                if limited:  # the wallet the per-number rule counts: the start's number, else the customer's
                    if phone is not None:
                        to = wallet(*phone)
                    elif payout.phone_number is not None:
                        to = wallet(payout.phone_number, payout.country)
                plans.append((index, payout, when, phone, to))
            if missing and len(missing) == len(items):
                raise NotFoundError(missing)
            if missing:  # some listed payouts exist: the unknown ids are field errors of this request (422)
                refused.update(missing)
            if not refused and limited:
                refused.update(self._over_number_limit(plans, now, field_prefix))
            if refused:
                raise RefusedError("These payouts cannot be started.", refused)
            text = iso(now)
            counters = self.counters
            listeners = self.listeners
            settle_at = now + self.settle_seconds
            out = []
            for _index, payout, when, phone, to in plans:
                if phone is not None:
                    payout.phone_number, payout.country = phone
                if to is not None:
                    self._sends.setdefault(to, []).append(payout.id)
                wire = payout.wire
                wire["updated_at"] = text
                counters.started += 1
                if when is None:
                    payout.status = wire["status"] = "started"
                    payout.started_at = now
                    wire["started_at"] = text
                    self._schedule(settle_at, payout.id, "settle")
                    if listeners:
                        self._emit("payout.started", payout)
                else:
                    payout.status = wire["status"] = "scheduled"
                    payout.scheduled_at = when
                    wire["scheduled_at"] = iso(when)
                    counters.scheduled += 1
                    self._schedule(when, payout.id, "send")
                    self._emit("payout.scheduled", payout)
                out.append(wire)
            return out

    def _over_number_limit(self, plans: list[_Plan], now: float, field_prefix: str) -> dict[str, list[str]]:
        """Field errors for the planned sends that would make more than `max_payouts_per_number` payouts
        (started, scheduled or sent) to one wallet within a day of each other, earlier items first."""
        limit = self.max_payouts_per_number
        if limit is None:
            return {}
        errors: dict[str, list[str]] = {}
        planned: dict[Wallet, list[float]] = {}
        for index, payout, when, phone, to in plans:
            if to is None:
                continue
            at = now if when is None else when
            times = planned.setdefault(to, self._send_times(to, now))
            if sum(1 for t in times if abs(t - at) < DAY_SECONDS) >= limit:
                number = phone[0] if phone is not None else payout.phone_number
                field_name = _item_field(field_prefix, index, "phone_number" if phone is not None else "id")
                errors[field_name] = [f"{str(number)[:20]} already has {limit} payouts within 24 hours of this one"]
                continue
            times.append(at)
        return errors

    def _send_times(self, key: Wallet, now: float, other_than: int | None = None) -> list[float]:
        """When each counted payout to this wallet (but `other_than`, the one being moved) is (or was) sent;
        drops entries that can no longer count."""
        ids = self._sends.get(key)
        if not ids:
            return []
        kept: list[int] = []
        times: list[float] = []
        for payout_id in ids:
            payout = self._payouts.get(payout_id)
            if payout is None or payout.status not in COUNTED_STATUSES:
                continue
            at = payout.scheduled_at if payout.status == "scheduled" else payout.started_at
            if at is None or at <= now - DAY_SECONDS:
                continue
            kept.append(payout_id)
            if payout_id != other_than:
                times.append(at)
        self._sends[key] = kept
        return times

    def update(self, payout_id: int, changes: dict[str, Any], *, form: bool = False) -> dict[str, Any] | None:
        """Change a payout not yet sent; None when unknown. Only what differs from the payout counts as a
        change: a whole payout saved back unchanged (read-only fields included) changes nothing, whatever
        its status, and keeps its `updated_at`. `form`: the changes came as a form (text: `as_php_form`)."""
        self.settle()
        with self._lock:
            payout = self._payouts.get(payout_id)
            if payout is None:
                return None
            effective = self._effective_changes(payout, changes, form)
            if not effective:
                return self._wire(payout)
            if payout.status not in ("pending", "scheduled"):
                raise RefusedError(
                    f"Payout {payout_id} is {payout.status} and can no longer be changed.",
                    {"status": [f"is {payout.status}; only a pending or scheduled payout can change"]},
                )
            when = self._reschedule_time(payout, effective)
            wire = payout.wire
            if when is not None:
                payout.scheduled_at = when
                wire["scheduled_at"] = iso(when)
                self._schedule(when, payout.id, "send")
                self._made_stale()  # the earlier "send" no longer matches: skipped, or dropped
            for name, value in effective.items():
                if name == "amount":
                    wire["amount"] = value
                    wire.update(_fees(value))
                elif name == "mode":
                    wire["mode"] = value
                elif name not in CORE_REQUEST_FIELDS:
                    if payout.fields is NO_FIELDS:
                        payout.fields = {}
                    payout.fields[name] = value
                    if name in self._echoed:
                        wire[name] = value
            wire["updated_at"] = iso(self.clock.now())
            return wire

    def _effective_changes(self, payout: Payout, changes: dict[str, Any], form: bool) -> dict[str, Any]:
        """The update fields whose value differs from the payout's, as JSON (`_same_json`); undeclared fields
        are ignored, and null for a `NULL_MEANS_UNCHANGED` field is no change. A form carries only text: its
        value is also unchanged when it is the payout's as PHP's or Ruby's form encoding writes it (`same_in_form`:
        metadata `42` comes back as "42", true as "1" or "true", a description "" as "", read as null)."""
        out: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in self.shape.update_fields or (value is None and name in NULL_MEANS_UNCHANGED):
                continue
            if name == "scheduled_at":
                try:
                    if payout.scheduled_at is not None and parse_when(value) == payout.scheduled_at:
                        continue
                except ValueError:
                    pass  # refused by _reschedule_time, naming the field
            else:
                current = self._current(payout, name)
                if _same_json(value, current) or (form and same_in_form(value, current)):
                    continue
            out[name] = value
        return out

    @staticmethod
    def _current(payout: Payout, name: str) -> Any:
        if name in ("amount", "mode"):
            return payout.wire[name]
        return payout.fields.get(name)

    def _reschedule_time(self, payout: Payout, changes: dict[str, Any]) -> float | None:
        """The new send time of a scheduled payout, or None when `scheduled_at` is not changed. Checked
        before anything changes, so a refused update changes nothing."""
        if "scheduled_at" not in changes:
            return None
        if payout.status != "scheduled":
            raise RefusedError(
                f"Payout {payout.id} is {payout.status}: only a scheduled payout can be rescheduled.",
                {"scheduled_at": [f"payout is {payout.status}; schedule a pending payout with PUT /payouts/start"]},
            )
        try:
            when = parse_when(changes["scheduled_at"])
        except ValueError as exc:
            raise RefusedError("The new date is not valid.", {"scheduled_at": [str(exc)]}) from None
        now = self.clock.now()
        if when <= now:
            raise RefusedError("The new date is not in the future.", {"scheduled_at": ["must be in the future"]})
        limit = self.max_payouts_per_number
        number = payout.phone_number
        if limit is not None and number is not None:
            # The same rule as start: moving a payout is sending it at another time.
            times = self._send_times(wallet(number, payout.country), now, payout.id)
            if sum(1 for t in times if abs(t - when) < DAY_SECONDS) >= limit:
                raise RefusedError(
                    f"{number[:20]} already has {limit} payouts within 24 hours of the new date.",
                    {"scheduled_at": [f"{number[:20]} already has {limit} payouts within 24 hours of this date"]},
                )
        return when

    def delete(self, payout_id: int) -> dict[str, Any] | None:
        """Remove a payout not yet sent; its last state (`deleted_at` set), or None when unknown."""
        self.settle()
        with self._lock:
            payout = self._payouts.get(payout_id)
            if payout is None:
                return None
            if self.delete_only_unsent and payout.status not in DELETABLE_STATUSES:
                raise RefusedError(
                    f"Payout {payout_id} is {payout.status} and can no longer be deleted.",
                    {"status": [f"is {payout.status}; only a payout not yet sent (pending, scheduled) can be deleted"]},
                )
            del self._payouts[payout_id]
            if payout.status in ("scheduled", "started"):
                self._made_stale()  # its "send" or "settle" entry
            wire = self._wire(payout)
            wire["deleted_at"] = wire["updated_at"] = iso(self.clock.now())
            if payout.idempotency_key is not None:
                # The key named a payout that no longer exists: it is free for a new create.
                self._idempotency.pop(payout.idempotency_key, None)
            self.counters.deleted += 1
            self._emit("payout.deleted", payout)
            return self._wire(payout)

    def stats(self) -> dict[str, Any]:
        self.settle()
        with self._lock:
            by_status: dict[str, int] = {}
            for payout in self._payouts.values():
                by_status[payout.status] = by_status.get(payout.status, 0) + 1
            c = self.counters
            return {
                "payouts_total": len(self._payouts),
                "by_status": by_status,
                "requests": dict(c.requests),
                "created": c.created,
                "started": c.started,
                "scheduled": c.scheduled,
                "sent": c.sent,
                "failed": c.failed,
                "deleted": c.deleted,
                "idempotent_replays": c.idempotent_replays,
                "clock": iso(self.clock.now()),
            }


def _live(payout: Payout, when: float, kind: str) -> bool:
    """Whether a due entry still applies: the payout still waits to settle, or to be sent at `when`."""
    if kind == "settle":
        return payout.status == "started"
    return payout.status == "scheduled" and payout.scheduled_at == when


def _write_finish(payout: Payout) -> None:
    """Bring the wire of a payout the clock sent (or failed) up to date (`PayoutStore._finish`)."""
    when = payout.finished_at
    assert when is not None
    payout.finished_at = None
    text = iso(when)
    wire = payout.wire
    status = wire["status"] = payout.status
    wire["updated_at"] = text
    if payout.started_at == when:  # a scheduled payout: started and sent at once
        wire["started_at"] = text
    if status == "failed":  # the one way a payout fails here: the sandbox rule (`FAILING_SUFFIX`)
        wire["last_error_code"] = FAILED_CODE
        wire["last_error_message"] = FAILED_MESSAGE
        wire["failed_at"] = text
    else:
        wire["sent_at"] = text


def _same_json(value: Any, current: Any) -> bool:
    """Whether two values are the same JSON: Python's == takes 1, 1.0 and true for one value (and
    `{"approved": 1}` -> `{"approved": true}` for no change), their canonical JSON does not. Keys' order does
    not count. Encoded only when == finds them equal (values that differ for == differ as JSON too)."""
    return bool(value == current) and dumps(value, sort_keys=True) == dumps(current, sort_keys=True)


def _phone(phone: Any) -> tuple[str | None, str | None]:
    """(number, country) of a `PhoneNumber` object as sent; None for what is missing or not text."""
    if not isinstance(phone, dict):
        return None, None
    number = phone.get("number")
    country = phone.get("country")
    return (number if type(number) is str else None), (country.lower() if type(country) is str else None)


def _item_field(prefix: str, index: int, name: str) -> str:
    """The field name of a start item's field in errors: `payouts[2].id` (`[2].id` for a bare list)."""
    return f"{prefix}[{index}].{name}"


def _matches(payout: Payout, term: str) -> bool:
    """Whether a search term (case-folded) is in the payout's reference, merchant reference or
    description (the guess stated in spec/overlays/12-search.yaml)."""
    if term in payout.reference.casefold():
        return True
    for name in ("merchant_reference", "description"):
        value = payout.fields.get(name)
        if isinstance(value, str) and term in value.casefold():
            return True
    return False
