"""Each row checked before any money moves: the client's own checks, then FedaPay's business rules.

The client has no public "validate only" call, so each row's create (and start, when scheduled) is
built by a `FedaPay` client whose transport never sends (`OfflineClient`): the client runs every check
it runs for real, and a row that passes them is stopped at the transport, with the exact request it
would have sent. Rules the client does not check come from spec/openapi.yaml (the currencies) and
FedaPay's documentation (the per-payout cap; at most 3 payouts to a number in 24 hours, counted in
`journal.py` across the file).
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from fedapay_payouts import APIConnectionError, FedaPay, InvalidArgumentError
from fedapay_payouts._visible import visible

from . import options
from .errors import Problem
from .phones import PhoneError, parse_phone
from .rows import KEPT, RawRow
from .when import parse_schedule, wire

# A batch's mark in the references this tool sends (`REFERENCE:BATCH`); a batch label has no ':'.
BATCH_SEPARATOR = ":"
# FedaPay's documented cap for one payout, per currency (only XOF's is documented).
MAX_AMOUNT = {"XOF": 1_000_000}
# FedaPay's documented limit of payouts to one mobile-money number in 24 hours.
MAX_PER_NUMBER = 3
# A whole amount: digits, or digits grouped by 3 (a first group of 1 to 3) with one separator between groups (a
# space, a no-break or narrow no-break space as spreadsheets write them, `_` or `'`); then at most `.00` / `,00`.
# A separator anywhere else is no grouping (`150 00`, `1 500 0`): read by removing it, it made another amount.
AMOUNT_RE = re.compile(r"(?P<whole>[0-9]+|[0-9]{1,3}(?:[ \u00a0\u202f_'][0-9]{3})+)(?:[.,]0{1,2})?")


@dataclass(frozen=True, slots=True)
class Defaults:
    """What a row without its own value gets (the command's options)."""

    mode: str | None = None
    currency: str = "XOF"
    scheduled_at: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Planned:
    """A valid row: the create arguments (without reference and key) and what the run needs to know."""

    row: int
    create: dict[str, Any]
    reference: str | None
    scheduled_at: str | None
    phone: str
    beneficiary: str
    amount: int
    currency: str
    mode: str
    digest: str


class _NeverSend(httpx.BaseTransport):
    """Keeps the request the client built and refuses to connect: the client reports "not sent", typed."""

    def __init__(self) -> None:
        self.request: httpx.Request | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.request = request
        raise httpx.ConnectError("offline: never sent", request=request)


class OfflineClient:
    """A `FedaPay` client that can never send: its checks run, its requests stop at the transport."""

    def __init__(self) -> None:
        self._transport = _NeverSend()
        self._http = httpx.Client(transport=self._transport)
        self._client = FedaPay(
            api_key="sk_sandbox_offline_validation",  # not a secret: this client cannot send anything
            environment="sandbox",  # its key's own: a FEDAPAY_ENVIRONMENT=live of a real run must not refuse it
            base_url="http://127.0.0.1:9/v1",
            http_client=self._http,
            max_retries=0,
        )

    def create_body(self, **kwargs: Any) -> dict[str, Any]:
        """The create body the client would send; `InvalidArgumentError` if it refuses the arguments."""
        return self._wire(lambda: self._client.payouts.create(**kwargs))

    def start_item(self, scheduled_at: str) -> str:
        """`scheduled_at` as the client would send it in a start; `InvalidArgumentError` if refused."""
        body = self._wire(lambda: self._client.payouts.start({"id": 1, "scheduled_at": scheduled_at}))
        when: str = body["payouts"][0]["scheduled_at"]
        return when

    def _wire(self, call: Any) -> dict[str, Any]:
        self._transport.request = None
        try:
            call()
        except APIConnectionError as refused:
            request = self._transport.request
            if request is None or refused.request_sent:  # refused before our transport: not the offline stop
                raise
            body: dict[str, Any] = orjson.loads(request.content)
            return body
        raise AssertionError("the offline client returned without reaching its transport")

    def close(self) -> None:
        self._client.close()
        self._http.close()


def client_form(text: str) -> str:
    """`scheduled_at` as the client sends it (its `future` check, without the "in the future" part, which
    refuses a time that has passed): every form as UTC with a `Z` (`fedapay_payouts._when`). The row's
    digest holds this form, so a resumed row keeps its digest after its time passed (tests/bulk checks it
    is the client's form, byte for byte)."""
    return wire(parse_schedule(text))


def late(scheduled_at: str, now: float) -> bool:
    """Whether a journalled schedule (wire form) is not in the future."""
    return parse_schedule(scheduled_at).timestamp() <= now


def parse_amount(text: str) -> int:
    """A whole number of the currency's unit (`AMOUNT_RE`: thousands separators between groups of 3 only)."""
    found = AMOUNT_RE.fullmatch(text)
    if found is None:
        raise ValueError(f"{text!r} is not a whole amount (write 150000 or 150 000: digits grouped by 3, no decimals)")
    return int("".join(ch for ch in found["whole"] if ch.isdigit()))


def _earlier_amount(text: str) -> int | None:
    """`text` as the release before grouping by 3 read it (every separator removed), or None: how the rows of a
    journal it made were read (`RowChecker.resume`), never a new file's."""
    compact = text.translate(str.maketrans("", "", " \u00a0\u202f_'"))
    if re.fullmatch(r"[0-9]+(?:[.,]0{1,2})?", compact) is None:
        return None
    return int(re.split(r"[.,]", compact)[0])


def canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


# A column's name in the row's problems, where it differs from the column's own.
FIELDS = {"phone": "phone number", "scheduled_at": "scheduled at"}
SHOWN_CELL = 80  # characters of a refused cell quoted in its problem


def _hidden(value: str) -> str:
    """Why a cell holding control or format characters (C0/C1 controls, NUL, bidi overrides such as U+202E,
    zero-width characters: `fedapay_payouts._visible`) is refused: sent, FedaPay would keep them in the payout's
    name, reference or description as they are, and a bidi override shows text in another order than it has."""
    found = ", ".join(dict.fromkeys(visible(ch) for ch in value if visible(ch) != ch))
    cell = visible(value)
    cell = cell if len(cell) <= SHOWN_CELL else cell[:SHOWN_CELL] + "..."
    return (f"'{cell}' contains {found}: a control or invisible character, which would be sent to FedaPay as it is;"
            " delete it")


def _unbroken(value: str) -> str:
    return value.replace("\r", "").replace("\n", "")


class RowChecker:
    """Turns raw rows into `Planned` rows or the list of their problems."""

    def __init__(self, defaults: Defaults, offline: OfflineClient, *, batch: str = "", resume: bool = False) -> None:
        self.defaults = defaults
        self.offline = offline
        self.batch = batch  # part of each derived reference: the same file under another batch is a new payroll
        # The very file an existing journal records: the journal's release accepted its rows (some may be paid), so
        # a hidden character is a warning (`warnings`) and the row is read as that release read it.
        self.resume = resume
        self.warnings: list[Problem] = []

    def check(self, raw: RawRow) -> Planned | list[Problem]:
        cells, row = raw.cells, raw.number
        hidden = [Problem(row, FIELDS.get(column, column), _hidden(value)) for column, value in cells.items()
                  if visible(value) != value]
        if hidden and not self.resume:
            return hidden  # nothing else is read from a row whose text is not what it shows
        # A line break alone is the reader's warning already (the span of lines): each said once.
        self.warnings += [Problem(p.row, p.field, p.message.removesuffix("; delete it") + KEPT, warning=True)
                          for p, value in zip(hidden, [v for v in cells.values() if visible(v) != v], strict=True)
                          if visible(_unbroken(value)) != _unbroken(value)]
        problems: list[Problem] = []

        def bad(field: str, message: str) -> None:
            problems.append(Problem(row, field, message))

        # The same rules as the options' (`options.py`), which give a row without its own value.
        currency = (cells.get("currency") or self.defaults.currency).upper()
        try:
            options.currency(currency)
        except ValueError as exc:
            bad("currency", str(exc))
        mode = cells.get("mode") or self.defaults.mode or ""
        if not mode:
            bad("mode", "is empty and no --mode was given (e.g. mtn_open, moov)")
        else:
            try:
                options.mode(mode)
            except ValueError as exc:
                bad("mode", str(exc))
        amount = 0
        try:
            amount = parse_amount(cells["amount"])
        except ValueError as exc:
            earlier = _earlier_amount(cells["amount"]) if self.resume else None
            if earlier is None:
                bad("amount", str(exc))
            else:
                amount = earlier
                self.warnings.append(Problem(
                    row, "amount", f"{exc}; read as {earlier}, as the earlier run read it{KEPT}", warning=True))
        if not any(p.field == "amount" for p in problems):
            cap = MAX_AMOUNT.get(currency)
            if amount < 1:
                bad("amount", "must be at least 1")
            elif cap is not None and amount > cap:
                bad("amount", f"{amount} {currency} is over FedaPay's cap of {cap:,} {currency} per payout")
        country = cells.get("country") or self.defaults.country
        phone, phone_country = "", ""
        try:
            if country:
                options.country(country)
        except ValueError as exc:
            bad("country", str(exc))  # the number is read with its country: not without it
        else:
            try:
                phone, phone_country = parse_phone(cells["phone"], country)
            except PhoneError as exc:
                bad("phone number", str(exc))
        scheduled_at = cells.get("scheduled_at") or self.defaults.scheduled_at
        if problems:
            return problems
        customer: dict[str, Any] = {
            "firstname": cells["firstname"],
            "lastname": cells["lastname"],
            "phone_number": {"number": phone, "country": phone_country},
        }
        if cells.get("email"):
            customer["email"] = cells["email"]
        create: dict[str, Any] = {"amount": amount, "currency": currency, "mode": mode, "customer": customer}
        if cells.get("description"):
            create["description"] = cells["description"]
        reference = cells.get("reference") or None
        if reference is not None and BATCH_SEPARATOR in reference:
            # `A:B` paid without a batch would be `A` paid with --batch B: one reference, two payments.
            bad("reference", f"{reference!r} contains {BATCH_SEPARATOR!r}, which marks a batch in the references this"
                " tool sends (REFERENCE:BATCH); write it without (e.g. '-' instead)")
            return problems
        if reference is not None and self.batch:
            reference = f"{reference}{BATCH_SEPARATOR}{self.batch}"  # another batch, another payment
        try:
            self.offline.create_body(**create, merchant_reference=reference, idempotency_key="offline-check")
        except InvalidArgumentError as exc:
            bad(exc.argument, exc.problem)
        when: str | None = None  # the wire form sent (UTC, `Z`): what the run parses and sends
        as_given: str | None = None  # the client's form of the text, in the row's digest (as before: same references)
        if scheduled_at:
            try:
                instant = parse_schedule(scheduled_at)
            except ValueError as exc:
                bad("scheduled at", str(exc))
            else:
                # A time already passed is no problem here: a resumed journal keeps the plan of the rows it
                # holds; `prepare.py` refuses passed times of rows not yet created (unless --send-late).
                if instant.timestamp() <= time.time():
                    as_given, when = client_form(scheduled_at), wire(instant)
                else:
                    try:
                        as_given = self.offline.start_item(scheduled_at)
                        when = self.offline.start_item(wire(instant))
                    except InvalidArgumentError as exc:
                        bad("scheduled at", exc.problem)
        if problems:
            return problems
        digest = hashlib.sha256(canonical([self.batch, create, as_given])).hexdigest()
        return Planned(
            row=row,
            create=create,
            reference=reference,
            scheduled_at=when,
            phone=phone,
            beneficiary=f"{cells['firstname']} {cells['lastname']}",
            amount=amount,
            currency=currency,
            mode=mode,
            digest=digest,
        )
