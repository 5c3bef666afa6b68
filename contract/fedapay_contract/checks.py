"""FedaPay-specific schemathesis checks: what the spec cannot say with a schema.

Loaded by the suite (imported by `fedapay_contract.suite`) and by schemathesis' own CLI
(`hooks = "fedapay_contract.checks"` in the packaged `schemathesis.toml`), so both run the same checks.
Each rests on a fact of FedaPay's payouts (docs/fedapay-wire.md, the spec), never on a rule of one server
(fees, limits per number, which states may be deleted): any correct FedaPay-like server holds them.

- `refused_start_keeps_pending`: a refused start changes nothing.
- `accepted_start_was_startable`: a start accepted for a payout already started, sent, failed or gone pays twice.
- `accepted_start_reads_back`: a payout a start accepted reads back started (or scheduled), never pending.
- `create_reply_matches_request`: a create's reply describes the payout asked for (`create_reply`).

How: a `before_call` hook reads the status of every payout named in a start body just before the
start is sent (GET /payouts/{id} with the suite's own headers); the start checks compare it with the
reply and read the payouts again after it. Both are documented schemathesis extension points (hooks and
`@schemathesis.check`). Importing this module also makes the key checks skip a request answered 429 (`rate_limits`).
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import requests
import schemathesis

from fedapay_contract import deadline, rate_limits
from fedapay_contract.create_reply import create_reply_problem

CREATE_OPERATION_ID = "create_payout"
START_OPERATION_ID = "start_payouts"
RETRIEVE_OPERATION_ID = "retrieve_payout"
# A start body names a handful of payouts at most in generated data; more are not looked up.
MAX_IDS_PER_START = 5
# Snapshots are kept for the checks of their case (several read one); the oldest go past this many.
MAX_SNAPSHOTS = 1000
# Seconds a status probe may take when the config sets no request timeout.
DEFAULT_PROBE_TIMEOUT = 10.0

IDEMPOTENCY_HEADER = "idempotency-key"
MAX_IDEMPOTENCY_KEY = 255

_lock = threading.Lock()
_local = threading.local()
_sessions: list[requests.Session] = []
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


def _session() -> requests.Session:
    """One keep-alive session per thread: a probe per payout named in a start, twice, adds up."""
    session: requests.Session | None = getattr(_local, "session", None)
    if session is None:
        # The suite's wall-clock cap per request applies to the probes too (`deadline`).
        session = _local.session = deadline.mount(requests.Session())
        with _lock:
            _sessions.append(session)
    return session


def close_sessions() -> None:
    """Close the probes' connections (the pytest suite calls this after each run)."""
    with _lock:
        sessions = list(_sessions)
        _sessions.clear()
    for session in sessions:
        session.close()


def _current_status(case: Any, payout_id: int) -> str | None:
    """GET /payouts/{id} with the suite's configured headers; the payout's status (`deleted` when `deleted_at` is
    set, NOT_FOUND on a 404), or None if not readable.

    A plain GET on the keep-alive session, not `retrieve.Case(...).call()`: the probe is no test case
    (no hooks, no checks, no case to build), and through schemathesis' call it cost 8 % of the start
    operation's run time. Same URL, headers and timeout as the suite's own requests.
    """
    schema = case.operation.schema
    retrieve = schema.find_operation_by_id(RETRIEVE_OPERATION_ID)
    config = schema.config
    url = schema.get_base_url() + retrieve.path.replace("{id}", str(payout_id))
    try:
        response = _session().get(
            url,
            headers=config.headers_for(operation=retrieve),
            timeout=config.request_timeout_for(operation=retrieve) or DEFAULT_PROBE_TIMEOUT,
            verify=config.tls_verify_for(operation=retrieve),
            allow_redirects=False,
        )
    except Exception:  # noqa: BLE001 - a probe that cannot reach the server proves nothing either way
        return None
    if response.status_code == 404:
        return NOT_FOUND
    if response.status_code != 200:
        return None
    try:
        data = response.json()
    except ValueError:
        return None
    payout = data.get("v1/payout") if isinstance(data, dict) else None
    if not isinstance(payout, dict):
        return None
    if payout.get("deleted_at") is not None:
        return "deleted"
    status = payout.get("status")
    return status if isinstance(status, str) else None


def start_items(body: object) -> dict[int, bool]:
    """Payout id -> whether its item of a start body asks for a `scheduled_at` (the ids `payout_ids_in_start_body`
    reads, in either documented form)."""
    items: object = body.get("payouts") if isinstance(body, dict) else body
    ids = payout_ids_in_start_body(body)
    scheduled: dict[int, bool] = dict.fromkeys(ids, False)
    if isinstance(items, list):
        for item in items:
            # An id of any JSON type can come here (negative cases): only an int is looked up (a dict is unhashable).
            payout_id = item.get("id") if isinstance(item, dict) else None
            if type(payout_id) is int and payout_id in scheduled and item.get("scheduled_at") is not None:
                scheduled[payout_id] = True
    return scheduled


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


@schemathesis.check
def accepted_start_reads_back(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any
) -> bool | None:
    """After a start answered 2xx, every payout it named reads back (GET) started or later, or scheduled; never pending.

    Rests on: a 2xx start tells the caller its payouts are on their way (FedaPay's start reply shows them
    `started`, or `scheduled` for an item with a future `scheduled_at`); the caller will not start them again. A
    server whose payout still reads `pending` has sent nothing, and the caller's books are wrong. An item without
    `scheduled_at` asks to send now: it reads `started`, `processing`, `sent` or `failed`, not `scheduled` nor
    `pending`. An item with `scheduled_at` reads `scheduled`, or one of those (a date already past sends at
    once; a due one moves on by itself), never `pending`. Statuses the spec does not know are not judged, nor a
    payout `scheduled` before and after; one that was not startable just before is `accepted_start_was_startable`'s
    to report.
    """
    if _operation_id(case) != START_OPERATION_ID or not _accepted(response):
        return None
    before = _snapshot(case)
    compared = False
    for payout_id, scheduled in start_items(case.body).items():
        was = before.get(payout_id)
        if was in NOT_STARTABLE:
            continue
        after = _current_status(case, payout_id)
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
    try:
        data = response.json()
    except Exception:  # noqa: BLE001 - no JSON: the schema checks report it
        return True
    payout = data.get("v1/payout") if isinstance(data, dict) else None
    if not isinstance(payout, dict):
        return True
    problem = create_reply_problem(case.body, payout)
    if problem is not None:
        raise AssertionError(
            f"Create was accepted with HTTP {response.status_code}, but the payout it returned is {problem}: "
            "a create's reply must describe the payout asked for"
        )
    return None


rate_limits.skip_rate_limited()
