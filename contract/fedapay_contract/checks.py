"""FedaPay-specific schemathesis checks: what the spec cannot say with a schema.

Loaded by the suite (imported by `fedapay_contract.suite`) and by schemathesis' own CLI
(`hooks = "fedapay_contract.checks"` in the packaged `schemathesis.toml`), so both run the same checks.
Each rests on a fact of FedaPay's payouts (docs/fedapay-wire.md, the spec), never on a rule of one server
(fees, limits per number, which states may be deleted): any correct FedaPay-like server holds them.

- `refused_start_keeps_pending`: a refused start changes nothing.
- `accepted_start_was_startable`: a start accepted for a payout already started, sent, failed or gone pays twice.
- `accepted_start_reads_back`: a payout a start accepted reads back started (or scheduled), never pending; one
  whose `scheduled_at` is in the server's future is scheduled, not sent now (`server_time`); one scheduled is
  scheduled at the instant asked.
- `create_reply_matches_request`: a create's reply describes the payout asked for (`create_reply`).
- `new_payout_is_pending`: a create's reply shows the new payout `pending`, not already sent.
- `created_payout_reads_back`: the payout a create accepted reads back as asked (`stored`): what is stored is paid.
- `accepted_update_reads_back`: an update's reply shows the change asked, and the payout reads back with the values
  the reply states.

How: a `before_call` hook reads the status of every payout named in a start body just before the
start is sent (GET /payouts/{id} with the suite's own headers); the start checks compare it with the
reply and read the payouts again after it; an accepted create or update is read back once (`read_back`: a 429, a
5xx or no reply proves nothing and is not judged; a 404 for the payout just answered is a failure). Both are
documented schemathesis extension points (hooks and `@schemathesis.check`). Importing this module also makes the
key checks skip a request answered 429 (`rate_limits`).
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import schemathesis

from fedapay_contract import rate_limits, server_time
from fedapay_contract.create_reply import create_reply_problem
from fedapay_contract.read_back import INCLUDE_ALL, ReadBack, close_sessions, payout_of, read_payout
from fedapay_contract.stored import (
    created_read_back_problem,
    new_payout_problem,
    update_read_back_problem,
    update_reply_problem,
)

__all__ = ["close_sessions"]

CREATE_OPERATION_ID = "create_payout"
START_OPERATION_ID = "start_payouts"
UPDATE_OPERATION_ID = "update_payout"
# A start body names a handful of payouts at most in generated data; more are not looked up.
MAX_IDS_PER_START = 5
# Snapshots are kept for the checks of their case (several read one); the oldest go past this many.
MAX_SNAPSHOTS = 1000

IDEMPOTENCY_HEADER = "idempotency-key"
MAX_IDEMPOTENCY_KEY = 255

_lock = threading.Lock()
_key_counter = itertools.count(1)
# case.id -> {payout id: status before the start was sent, or NOT_FOUND}
_status_before: dict[str, dict[int, str]] = {}

# What a payout is, read just before a start, when GET /payouts/{id} answers 404 (unknown, or deleted).
NOT_FOUND = "not found (404)"
# Known states from which no start may send the payout (again): FedaPay starts a `pending` payout (and the
# spec's statuses say `started`, `processing`, `sent` and `failed` come after a start); a deleted one is gone.
# `scheduled` is left out (whether a start may send a scheduled payout now is not documented), and so is any
# status the spec's open set may add.
NOT_STARTABLE = frozenset({"started", "processing", "sent", "failed", "deleted", NOT_FOUND})
# Where a payout a start accepted may be when read back: started, or moved on by itself (also in the sandbox).
STARTED_OR_LATER = frozenset({"started", "processing", "sent", "failed"})
SCHEDULED = "scheduled"
PENDING = "pending"


def _operation_id(case: Any) -> str | None:
    definition = getattr(case.operation, "definition", None)
    raw = getattr(definition, "raw", None)
    if isinstance(raw, dict):
        value = raw.get("operationId")
        return value if isinstance(value, str) else None
    return None


def payout_ids_in_start_body(body: object) -> list[int]:
    """The payout ids a start body names, in either documented form (bare array or {"payouts": [...]})."""
    items: object = body.get("payouts") if isinstance(body, dict) else body
    if not isinstance(items, list):
        return []
    ids: list[int] = []
    for item in items:
        if isinstance(item, dict):
            value = item.get("id")
            if isinstance(value, int) and not isinstance(value, bool) and value > 0 and value not in ids:
                ids.append(value)
        if len(ids) >= MAX_IDS_PER_START:
            break
    return ids


def _current_status(case: Any, payout_id: int) -> str | None:
    """The payout's status read back now (`deleted` when `deleted_at` is set, NOT_FOUND on a 404), or None when the
    read-back proves nothing (429, 5xx, no reply: `read_back`)."""
    read = read_payout(case, payout_id)
    return NOT_FOUND if read.gone else read.status


def start_dates(body: object) -> dict[int, object]:
    """Payout id -> the `scheduled_at` its item of a start body gives (None: send now), for the ids
    `payout_ids_in_start_body` reads, in either documented form."""
    items: object = body.get("payouts") if isinstance(body, dict) else body
    dates: dict[int, object] = dict.fromkeys(payout_ids_in_start_body(body))
    if isinstance(items, list):
        for item in items:
            # An id of any JSON type can come here (negative cases): only an int is looked up (a dict is unhashable).
            payout_id = item.get("id") if isinstance(item, dict) else None
            if type(payout_id) is int and payout_id in dates and dates[payout_id] is None:
                dates[payout_id] = item.get("scheduled_at")
    return dates


def start_items(body: object) -> dict[int, bool]:
    """Payout id -> whether its item of a start body asks for a `scheduled_at` (`start_dates`)."""
    return {payout_id: when is not None for payout_id, when in start_dates(body).items()}


def _snapshot(case: Any) -> dict[int, str]:
    with _lock:
        return dict(_status_before.get(case.id, {}))


def _accepted(response: schemathesis.Response) -> bool:
    return 200 <= response.status_code < 300


def make_idempotency_key_unique(case: Any) -> None:
    """Give the valid `Idempotency-Key` of a positive create case a per-request suffix.

    Generated keys repeat across cases (Hypothesis favours small values like "0"), and FedaPay
    answers a reused key with the *first* payout (same body, even after that payout was deleted) or
    422 (different body). Both are right, but they make built-in checks misread the reply:
    `positive_data_acceptance` sees a valid create refused, `ensure_resource_availability` sees a
    "just created" payout that is gone. Idempotent replay is tested on purpose in the mock's and the
    client's tests; here every valid key names one request. The suffix keeps the key valid
    (1..255 characters), so the case stays positive.

    Negative cases are sent exactly as generated: editing a case makes schemathesis re-classify it,
    which would undo, for example, a coverage case's "Authorization header missing". A negative
    create is refused whatever its key, so a repeated key cannot mislead a check there.
    """
    meta = case.meta
    if meta is not None and meta.generation.mode.is_negative:
        return
    headers = case.headers
    if not headers:
        return
    for name in list(headers):
        value = headers[name]
        if name.lower() == IDEMPOTENCY_HEADER and isinstance(value, str) and 1 <= len(value) <= MAX_IDEMPOTENCY_KEY:
            suffix = f"-ct{next(_key_counter)}"
            headers[name] = value[: MAX_IDEMPOTENCY_KEY - len(suffix)] + suffix


# The start the suite adds as an explicit example (`before_load_schema`): payout 1 at a date far ahead.
SCHEDULED_START_EXAMPLE: dict[str, Any] = {"payouts": [{"id": 1, "scheduled_at": "2099-01-01T09:00:00Z"}]}
START_PATH = "/payouts/start"


def add_scheduled_start_example(raw_schema: dict[str, Any]) -> bool:
    """Give the start operation's JSON body an explicit example with a future `scheduled_at` (when it has none).

    Why: a start with a future date must schedule, not send (`accepted_start_reads_back`); but generated start
    bodies almost never reach a server's acceptance with a date (extra items name unknown payouts, and Hypothesis
    rarely adds the optional date to a lone item), so without one the rule would never be put to a server. The
    examples phase sends it as written, once per run; payout 1 is the first created (the create examples run
    before it, and a part's `populate` leaves it pending); where it is not pending the start is refused and
    nothing is judged. Schemathesis also seeds its coverage and fuzzing draws with explicit examples: the cases
    drawn shift, the same way on every run (no randomness is added; CI mode went from 3,802 to 3,732 cases).
    Returns whether the example was added."""
    operation = raw_schema.get("paths", {}).get(START_PATH, {}).get("put")
    content = operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
    media = content.get("application/json") if isinstance(content, dict) else None
    if not isinstance(media, dict) or "example" in media or "examples" in media:
        return False
    media["examples"] = {"scheduled": {"summary": "Schedule payout 1", "value": SCHEDULED_START_EXAMPLE}}
    return True


@schemathesis.hook
def before_load_schema(context: schemathesis.HookContext, raw_schema: dict[str, Any]) -> None:
    """Add the scheduled start example (`add_scheduled_start_example`) to the spec the suite loads."""
    add_scheduled_start_example(raw_schema)


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: Any, kwargs: dict[str, Any]) -> None:
    """Make idempotency keys unique; remember the status of each payout a start names, just before it is sent."""
    operation_id = _operation_id(case)
    if operation_id == CREATE_OPERATION_ID:
        make_idempotency_key_unique(case)
    if operation_id != START_OPERATION_ID:
        return
    snapshot: dict[int, str] = {}
    for payout_id in payout_ids_in_start_body(case.body):
        status = _current_status(case, payout_id)
        if status is not None:
            snapshot[payout_id] = status
    with _lock:
        while len(_status_before) >= MAX_SNAPSHOTS:  # dicts keep insertion order: the oldest goes first
            del _status_before[next(iter(_status_before))]
        _status_before[case.id] = snapshot


@schemathesis.check
def refused_start_keeps_pending(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any
) -> bool | None:
    """A refused start (non-2xx) must leave every `pending` payout it names `pending`.

    Rests on: FedaPay's start is the request that sends money, and an error reply says it did not act. A server
    that changes a payout's status and *then* refuses leaves the caller believing nothing happened while the
    payout is on its way, and the caller's retry logic (a 4xx means "not started") creates a second payout. Only
    `pending` is compared: the one status that never changes by itself (started and scheduled payouts move on to
    sent or failed on their own, also in the sandbox).

    Returns True (schemathesis: "skipped") when there was nothing to compare, None when it compared.
    """
    if _operation_id(case) != START_OPERATION_ID or _accepted(response):
        return None
    pending = [payout_id for payout_id, before in _snapshot(case).items() if before == PENDING]
    for payout_id in pending:
        after = _current_status(case, payout_id)
        if after is not None and after != PENDING:
            raise AssertionError(
                f"Start was refused with HTTP {response.status_code}, yet payout {payout_id} "
                f"went from `pending` to `{after}`: a refused start must change nothing"
            )
    return True if not pending else None


@schemathesis.check
def accepted_start_was_startable(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any
) -> bool | None:
    """A start answered 2xx must not name a payout that was started, processing, sent, failed or gone just before.

    Rests on: FedaPay's start sends a payout's money (docs/fedapay-wire.md: "No `scheduled_at`: send now"); a
    payout already started has had its money sent or on its way, and one deleted or unknown has none to send (the
    spec's start answers 404 for unknown ids). A server that accepts such a start either pays a second time or
    tells its caller a payment happened that did not. The status is the one read just before the start was sent
    (`before_call`). `scheduled` and statuses the spec does not know are not judged.
    """
    if _operation_id(case) != START_OPERATION_ID or not _accepted(response):
        return None
    snapshot = _snapshot(case)
    for payout_id, before in snapshot.items():
        if before in NOT_STARTABLE:
            raise AssertionError(
                f"Start was accepted with HTTP {response.status_code} for payout {payout_id}, which was "
                f"`{before}` just before: only a payout not yet sent can start (starting twice may pay twice)"
            )
    return True if not snapshot else None


def _reply_json(response: schemathesis.Response) -> object:
    try:
        return response.json()
    except Exception:  # noqa: BLE001 - no JSON: the schema checks report it
        return None


def _reply_clock(response: schemathesis.Response, payouts: list[dict[str, Any]]) -> list[float]:
    """The server's clock as a reply shows it: its `Date` header and the `created_at`/`updated_at` of its payouts."""
    readings = [server_time.http_date(response.headers)]
    for payout in payouts:
        readings.extend(server_time.stamps_of(payout))
    return [reading for reading in readings if reading is not None]


def _shown_by_id(data: object) -> dict[int, dict[str, Any]]:
    """The payouts of a start's reply (`{"v1/payouts": [...]}`) by id."""
    items = data.get("v1/payouts") if isinstance(data, dict) else None
    shown: dict[int, dict[str, Any]] = {}
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict) and type(item.get("id")) is int:
            shown.setdefault(item["id"], item)
    return shown


def _scheduled_as_asked(
    response: schemathesis.Response, payout_id: int, asked: str, answered: dict[str, Any] | None, read: ReadBack
) -> None:
    """Fail when a payout a start scheduled is answered or reads back `scheduled` at another instant than asked."""
    for where, status, payout in (
        ("is answered", (answered or {}).get("status"), answered),
        ("reads back", read.status, read.payout),
    ):
        shown = payout.get("scheduled_at") if payout is not None else None
        if status == SCHEDULED and server_time.same_instant(shown, asked) is False:
            raise AssertionError(
                f"Start was accepted with HTTP {response.status_code}, asking to send payout {payout_id} at "
                f"{asked[:40]!r}, yet it {where} `scheduled` at {str(shown)[:40]!r}: a start must schedule a payout "
                "at the instant asked (sending it at another time pays when the caller did not choose)"
            )


@schemathesis.check
def accepted_start_reads_back(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any
) -> bool | None:
    """After a start answered 2xx, every payout it named reads back (GET) started or later, or scheduled; never pending;
    and one whose `scheduled_at` lies in the server's future is `scheduled`, in the reply and read back.

    Rests on: a 2xx start tells the caller its payouts are on their way (FedaPay's start reply shows them
    `started`, or `scheduled` for an item with a future `scheduled_at`); the caller will not start them again. A
    server whose payout still reads `pending` has sent nothing, and the caller's books are wrong. An item without
    `scheduled_at` asks to send now: it reads `started`, `processing`, `sent` or `failed`, not `scheduled` nor
    `pending`. An item with `scheduled_at` reads `scheduled`, or one of those (a date already past sends at
    once; a due one moves on by itself), never `pending`; and with a date surely in the future (`server_time`: more
    than its margin after the latest of the server's clock readings and this machine's), only `scheduled`: a
    server that sends it now pays before the date the caller chose (docs/fedapay-wire.md: "`scheduled_at` in the
    future: schedule"). An item with a date that is answered or reads back `scheduled` shows the instant asked as
    its `scheduled_at` (within the client's millisecond, `server_time.same_instant`; the client refuses a reply
    scheduled at another time): a server that stores 2099 as "in a minute" pays decades early. Statuses the spec
    does not know are not judged, nor a payout `scheduled` before and after without a date, nor the date of one
    already `scheduled` before the start; one that was not startable just before is `accepted_start_was_startable`'s
    to report.
    """
    if _operation_id(case) != START_OPERATION_ID or not _accepted(response):
        return None
    before = _snapshot(case)
    shown = _shown_by_id(_reply_json(response))
    clock = _reply_clock(response, list(shown.values()))
    compared = False
    for payout_id, scheduled_at in start_dates(case.body).items():
        was = before.get(payout_id)
        if was in NOT_STARTABLE:
            continue
        scheduled = scheduled_at is not None
        read = read_payout(case, payout_id)
        now = server_time.latest_now([*clock, *read.clock])
        if server_time.surely_future(scheduled_at, now):
            for where, status in (("is answered", shown.get(payout_id, {}).get("status")), ("reads back", read.status)):
                if isinstance(status, str) and status in STARTED_OR_LATER:
                    raise AssertionError(
                        f"Start was accepted with HTTP {response.status_code}, asking to send payout {payout_id} at "
                        f"{str(scheduled_at)[:40]!r} (in the server's future), yet it {where} `{status}`: a start "
                        "with a future `scheduled_at` must schedule the payout, not send it now"
                    )
        if isinstance(scheduled_at, str) and was != SCHEDULED:
            _scheduled_as_asked(response, payout_id, scheduled_at, shown.get(payout_id), read)
        after = NOT_FOUND if read.gone else read.status
        if after is None or after == NOT_FOUND:
            continue
        compared = True
        # A payout scheduled before and after is not judged: what a start does to a scheduled one is not documented.
        sent_now_but_scheduled = after == SCHEDULED and not scheduled and was != SCHEDULED
        if after == PENDING or sent_now_but_scheduled:
            asked = "at its `scheduled_at`" if scheduled else "now (no `scheduled_at`)"
            raise AssertionError(
                f"Start was accepted with HTTP {response.status_code}, asking to send payout {payout_id} {asked}, "
                f"yet it reads back `{after}`: an accepted start must have started "
                f"{'or scheduled ' if scheduled else ''}the payout"
            )
    return None if compared else True


@schemathesis.check
def create_reply_matches_request(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any
) -> bool | None:
    """A create answered 2xx replies with the payout asked for: amount, mode, currency, merchant_reference, customer.

    Rests on: the create body says what to pay, to whom and through which operator (spec `PayoutCreate`), and
    FedaPay's reply is that payout (`{"v1/payout": {...}}`, docs/fedapay-wire.md); a caller records it as the
    payout it asked for. What is compared, and how, is `create_reply.create_reply_problem`'s docstring.
    """
    if _operation_id(case) != CREATE_OPERATION_ID or not _accepted(response):
        return None
    payout = payout_of(_reply_json(response))
    if payout is None:
        return True
    problem = create_reply_problem(case.body, payout)
    if problem is not None:
        raise AssertionError(
            f"Create was accepted with HTTP {response.status_code}, but the payout it returned is {problem}: "
            "a create's reply must describe the payout asked for"
        )
    return None


@schemathesis.check
def new_payout_is_pending(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any) -> bool | None:
    """A create answered 2xx returns a `pending` payout: not started, scheduled, processing, sent, failed nor deleted.

    Rests on: FedaPay's create records a payout and sends nothing; the start (PUT /payouts/start) sends it
    (docs/fedapay-wire.md: "`pending` (after create)"). A reply showing it sent means money left without the start
    the caller controls (and may still call: a second payment). A status the spec's open set may add is not judged
    (`stored.new_payout_problem`).
    """
    if _operation_id(case) != CREATE_OPERATION_ID or not _accepted(response):
        return None
    payout = payout_of(_reply_json(response))
    if payout is None:
        return True
    problem = new_payout_problem(payout)
    if problem is not None:
        raise AssertionError(
            f"Create was accepted with HTTP {response.status_code}, but the new payout it returned is {problem}: "
            "a new payout is `pending` until a start sends it"
        )
    return None


def _positive_id(value: object) -> int | None:
    return value if type(value) is int and value > 0 else None


def _read_back_problem(read: ReadBack, payout_id: int, what: str) -> str | None:
    """A read-back that contradicts an accepted request by itself: 404, or another payout's data."""
    if read.gone:
        return f"GET /payouts/{payout_id} answers 404 for the payout {what}"
    shown_id = read.payout.get("id") if read.payout is not None else None
    if type(shown_id) is int and shown_id != payout_id:
        return f"GET /payouts/{payout_id} answers payout {shown_id}, not the payout {what}"
    return None


@schemathesis.check
def created_payout_reads_back(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any
) -> bool | None:
    """The payout a create answered 2xx for reads back (GET /payouts/{id}) as the create asked for it, and `pending`.

    Rests on: what a server stores is what it pays; a reply that shows the amount asked while the server stored
    another (the caller checks the reply: `create_reply_matches_request`) pays a sum nobody asked for. Compared as
    `create_reply_matches_request` compares the reply (amount, mode, currency, merchant_reference, customer and
    wallet, as far as the read-back shows them: it asks for the customer and the currency with the spec's
    `include=customer,currency`), plus `new_payout_is_pending`'s rule (`stored`). A payout just
    created that reads back 404 was not stored; a read-back answered 429, 5xx or not at all proves nothing and is
    not judged (`read_back`). One GET per accepted create.
    """
    if _operation_id(case) != CREATE_OPERATION_ID or not _accepted(response):
        return None
    reply = payout_of(_reply_json(response))
    payout_id = _positive_id(reply.get("id")) if reply is not None else None
    if payout_id is None:
        return True
    read = read_payout(case, payout_id, include=INCLUDE_ALL)
    problem = _read_back_problem(read, payout_id, "just created")
    if problem is None and read.payout is not None:
        stored = created_read_back_problem(case.body, read.payout)
        problem = None if stored is None else f"the payout read back is {stored}"
    if problem is not None:
        raise AssertionError(
            f"Create was accepted with HTTP {response.status_code} (payout {payout_id}), but {problem}: "
            "a server must store the payout it answered"
        )
    return None if read.payout is not None else True


@schemathesis.check
def accepted_update_reads_back(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any
) -> bool | None:
    """After an update answered 2xx, its reply shows the `amount`, `merchant_reference` and `scheduled_at` (the same
    instant) the update sent, and the payout reads back (GET /payouts/{id}) with each field the update sent as the
    reply states it.

    Rests on: a 2xx update tells the caller the payout now has the new amount (mode, description, reference,
    metadata, date); a server that answers so but keeps the old values pays the old amount, or at the old date, and
    the caller's books say otherwise; one that answers 200 showing the old amount agrees with its read-back but
    not with the request (the client refuses such a reply: `stored.update_reply_problem`). For the read-back the
    reply's value is the one compared (it says how the server wrote the field, `stored.update_read_back_problem`);
    fields the update did not send, or that a reply or the read-back leaves out, are not. 404 for the payout just
    updated is a failure; a read-back answered 429, 5xx or not at all is not judged (`read_back`).
    One GET per accepted update.
    """
    if _operation_id(case) != UPDATE_OPERATION_ID or not _accepted(response):
        return None
    reply = payout_of(_reply_json(response))
    if reply is None:
        return True
    asked = update_reply_problem(case.body, reply)
    if asked is not None:
        raise AssertionError(
            f"Update was accepted with HTTP {response.status_code}, but its reply shows {asked}: "
            "a server must make the change it accepted"
        )
    path_parameters = getattr(case, "path_parameters", None) or {}
    payout_id = _positive_id(path_parameters.get("id")) or _positive_id(reply.get("id"))
    if payout_id is None:
        return True
    read = read_payout(case, payout_id)
    problem = _read_back_problem(read, payout_id, "just updated")
    if problem is None and read.payout is not None:
        stored = update_read_back_problem(case.body, reply, read.payout)
        problem = None if stored is None else f"the payout reads back with {stored}"
    if problem is not None:
        raise AssertionError(
            f"Update of payout {payout_id} was accepted with HTTP {response.status_code}, but {problem}: "
            "a server must store the change it answered"
        )
    return None if read.payout is not None else True


rate_limits.skip_rate_limited()
