"""FedaPay-specific schemathesis check: what the spec cannot say with a schema.

Loaded by the suite (imported by `fedapay_contract.suite`) and by schemathesis' own CLI
(`hooks = "fedapay_contract.checks"` in the packaged `schemathesis.toml`), so both run the same checks.

`refused_start_keeps_pending`: a start that the server refuses (any non-2xx reply) must not move
a `pending` payout. FedaPay's start is the request that sends money; a server that changes a
payout's status and *then* refuses the request leaves the caller believing nothing happened while
the payout is on its way, and the caller's retry logic (which treats a 4xx as "not started")
would create a second payout. Only `pending` is compared: it is the one status that never changes
by itself (started/scheduled payouts move on to sent/failed on their own, also in the sandbox).

How: a `before_call` hook reads the status of every payout named in a start body just before the
start is sent (GET /payouts/{id} with the suite's own headers); the check reads them again after a
refusal. Both are documented schemathesis extension points (hooks and `@schemathesis.check`).
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import requests
import schemathesis

from fedapay_contract import deadline

CREATE_OPERATION_ID = "create_payout"
START_OPERATION_ID = "start_payouts"
RETRIEVE_OPERATION_ID = "retrieve_payout"
# A start body names a handful of payouts at most in generated data; more are not looked up.
MAX_IDS_PER_START = 5
# Snapshots are dropped once checked; this bounds the dict if a check never runs for a case.
MAX_SNAPSHOTS = 1000
# Seconds a status probe may take when the config sets no request timeout.
DEFAULT_PROBE_TIMEOUT = 10.0

IDEMPOTENCY_HEADER = "idempotency-key"
MAX_IDEMPOTENCY_KEY = 255

_lock = threading.Lock()
_local = threading.local()
_sessions: list[requests.Session] = []
_key_counter = itertools.count(1)
# case.id -> {payout id: status before the start was sent}
_status_before: dict[str, dict[int, str]] = {}


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
    """GET /payouts/{id} with the suite's configured headers; the payout's status, or None if not readable.

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
    if response.status_code != 200:
        return None
    try:
        data = response.json()
    except ValueError:
        return None
    payout = data.get("v1/payout") if isinstance(data, dict) else None
    status = payout.get("status") if isinstance(payout, dict) else None
    return status if isinstance(status, str) else None


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
        if len(_status_before) >= MAX_SNAPSHOTS:
            _status_before.clear()
        _status_before[case.id] = snapshot


@schemathesis.check
def refused_start_keeps_pending(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any
) -> bool | None:
    """A refused start (non-2xx) must leave every `pending` payout it names `pending`.

    Returns True (schemathesis: "skipped") when there was nothing to compare, None when it compared.
    """
    if _operation_id(case) != START_OPERATION_ID:
        return None
    with _lock:
        snapshot = _status_before.pop(case.id, {})
    if 200 <= response.status_code < 300:
        return None
    pending = [payout_id for payout_id, before in snapshot.items() if before == "pending"]
    for payout_id in pending:
        after = _current_status(case, payout_id)
        if after is not None and after != "pending":
            raise AssertionError(
                f"Start was refused with HTTP {response.status_code}, yet payout {payout_id} "
                f"went from `pending` to `{after}`: a refused start must change nothing"
            )
    return True if not pending else None
