"""Reading a payout back (GET /payouts/{id}) for the FedaPay checks, with the suite's own URL, headers and timeout.

The checks compare what a server said it did with what it stored: the status before and after a start, the payout a
create or an update answered. A read-back is no test case (no hooks, no checks): a plain GET on a keep-alive
session per thread (through schemathesis' call it cost 8 % of the start operation's run time).

What a read-back proves: a payout (200), or that the server holds none under that id (404). A rate limit (429), a
server error (5xx), any other status, a connection error or a reply that is no payout in its envelope proves
nothing either way: `ReadBack.payout` is None and `gone` False, and the check does not judge (never a false alarm
from a busy server).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import requests

from fedapay_contract import deadline, server_time

RETRIEVE_OPERATION_ID = "retrieve_payout"
# Seconds a read-back may take when the config sets no request timeout.
DEFAULT_PROBE_TIMEOUT = 10.0
NOT_FOUND_STATUS = 404
# The spec's `include` values (GET /payouts/{id}): without them a payout shows only `currency_id` and `customer_id`,
# so a read-back could not say which currency and beneficiary a server stored.
INCLUDE_ALL = "customer,currency"

_lock = threading.Lock()
_local = threading.local()
_sessions: list[requests.Session] = []


@dataclass(frozen=True)
class ReadBack:
    """One GET /payouts/{id}: its HTTP status (None: no reply), the payout unwrapped (None unless a 200 carried one
    in `{"v1/payout": {...}}`) and the server's clock as the reply shows it (`Date`, `created_at`, `updated_at`)."""

    status_code: int | None
    payout: dict[str, Any] | None = None
    clock: list[float] = field(default_factory=list)

    @property
    def gone(self) -> bool:
        """The server answered that it holds no payout of that id."""
        return self.status_code == NOT_FOUND_STATUS

    @property
    def status(self) -> str | None:
        """The payout's status (`deleted` when `deleted_at` is set), or None when not read or not a string."""
        if self.payout is None:
            return None
        if self.payout.get("deleted_at") is not None:
            return "deleted"
        status = self.payout.get("status")
        return status if isinstance(status, str) else None


def _session() -> requests.Session:
    """One keep-alive session per thread: a read-back per payout a create, an update or a start names adds up."""
    session: requests.Session | None = getattr(_local, "session", None)
    if session is None:
        # The suite's wall-clock cap per request applies to the read-backs too (`deadline`).
        session = _local.session = deadline.mount(requests.Session())
        with _lock:
            _sessions.append(session)
    return session


def close_sessions() -> None:
    """Close the read-backs' connections (the suite calls this after each run)."""
    with _lock:
        sessions = list(_sessions)
        _sessions.clear()
    for session in sessions:
        session.close()


def payout_of(data: object) -> dict[str, Any] | None:
    """The payout in a `{"v1/payout": {...}}` envelope, or None."""
    payout = data.get("v1/payout") if isinstance(data, dict) else None
    return payout if isinstance(payout, dict) else None


def read_payout(case: Any, payout_id: int, include: str | None = None) -> ReadBack:
    """GET /payouts/{payout_id} as the suite sends it (the case's schema: base URL, headers, timeout, TLS), with the
    spec's `include` query parameter when given (`INCLUDE_ALL`: the payout's customer and currency embedded)."""
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
            params=None if include is None else {"include": include},
        )
    except Exception:  # noqa: BLE001 - a read-back that cannot reach the server proves nothing either way
        return ReadBack(None)
    clock = [server_time.http_date(dict(response.headers))]
    if response.status_code != 200:
        return ReadBack(response.status_code, None, [t for t in clock if t is not None])
    try:
        payout = payout_of(response.json())
    except ValueError:
        payout = None
    clock.extend(server_time.stamps_of(payout))
    return ReadBack(response.status_code, payout, [t for t in clock if t is not None])
