"""Paying the rows of a journal: look up what exists, create concurrently, start in groups, wait, report.

Exactly once rests on three things, in this order of strength: the journal (what this machine knows),
a deterministic idempotency key per row (FedaPay, or the mock, replays the payout a key created), and
the row's deterministic merchant reference, looked up before creating whenever the journal cannot
vouch for a row (a new journal: maybe an earlier one was lost; a row `creating` when a run died).

The look-up walks `client.payouts.list(include="customer")` once, following `next_page` to the last page,
and matches `merchant_reference` exactly against the journal (an indexed SQLite query per payout), then the
beneficiary (`_beneficiary`): one pass (pages of 100) answers for the whole file, where a search costs a
request per row. The list moves while it is read (newest first: a payout created shifts every later one to
the next page, one deleted shifts them back, so a page can be skipped), so the pass vouches for itself only
if every page gave the same `total_count` and it saw that many payouts (`paging.py`). Otherwise every row still
unmatched is looked up by itself (`client.payouts.search`, its reference in full, matched exactly) before any
is created. A search is believed to say "no such payout" only when it vouches for itself the same way; one that
cannot (the list moved again, the server ignores `page`) is asked again a few times, and a row still unchecked
stops the run before anything is created (`LookUpIncompleteError`, the look-up left pending): a moving list can
cost requests, never a second payout.

Which payouts the look-up may count as a row's: those this journal may have created (the row is
`creating`, or the journal lost its last commits), or any when the operator says the file's earlier journal
was lost (`--adopt-existing`). Otherwise a payout that matches a row is someone else's payment of it (last
month's payroll with the same references, or a lost journal's) and only the operator can tell which: the
run stops before sending anything (`ExistingPayoutsError`).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from fedapay_payouts import (
    APIError,
    APIResponseValidationError,
    APIStatusError,
    AsyncFedaPay,
    AuthenticationError,
    InvalidArgumentError,
    NotFoundError,
    PayoutOutcomeUnknownError,
    PermissionDeniedError,
    RateLimitError,
    StartItem,
    UnprocessableEntityError,
)
from fedapay_payouts._client import DEFAULT_MAX_IN_FLIGHT as DEFAULT_MAX_IN_FLIGHT
from fedapay_payouts_api.types import Unset

from .checks import Defaults
from .errors import (
    BulkError,
    ExistingPayoutsError,
    FileChangedError,
    LookUpIncompleteError,
    Problem,
    ReferenceUsedError,
)
from .journal import FINAL_STATUSES, SENT_STATES, TARGET_ANSWERED, TARGET_PAYOUTS, Journal, JournalRow
from .lock import JournalLock
from .options import check_options, not_past
from .paging import Walk, walk_pages
from .phones import wallet_key
from .prepare import check_paths, check_report, default_journal, prepare
from .progress import Progress, SilentProgress
from .report import Summary, summarize, write_report
from .terminal import shown
from .when import parse_schedule, wire

T = TypeVar("T")

CREATE_CHUNK = 64
UNKNOWN_RETRIES = 3
RATE_LIMIT_RETRIES = 100
DEFAULT_RATE_LIMIT_PAUSE = 5.0  # a 429 without Retry-After
MIN_RATE_LIMIT_PAUSE = 0.1
MAX_RATE_LIMIT_PAUSE = 60.0  # a longer Retry-After is cut to this (and said in the notes): the run goes on
SCHEDULE_MARGIN = 5.0  # a scheduled time closer than this when starting is sent now
PHONE_MARK = "fedapay_bulk_phone"  # the `custom_metadata` key holding the beneficiary's number (the look-up's)
SEARCH_RETRIES = 3  # a row's search that cannot vouch (the list moved) is asked again this many times
SEARCH_PAUSE = 0.5  # before the first retry of a search; doubled each time
MAX_LISTED = 100  # rows named in a refusal; the count says how many more
# A start's 422 names each payout it refuses by its item: `payouts[3].id`, `[3].id` for a bare-array body.
START_ITEM_RE = re.compile(r"(?:payouts)?\[(\d+)\]")


@dataclass(frozen=True, slots=True)
class BulkOptions:
    """The command's options (see `cli.py`)."""

    journal: Path | None = None
    dry_run: bool = False
    mode: str | None = None
    currency: str = "XOF"
    schedule_at: str | None = None
    country: str | None = None
    concurrency: int = DEFAULT_MAX_IN_FLIGHT
    wait: bool = False
    wait_timeout: float = 900.0
    report: Path | None = None
    allow_duplicates: bool = False
    batch: str = ""
    group_size: int = 100
    send_late: bool = False  # rows not yet created whose scheduled time has passed are sent now, not refused
    adopt_existing: bool = False  # the file's earlier journal was lost: payouts found for its rows are its own


@dataclass(slots=True)
class BulkResult:
    """What a run did: totals per mode and currency, the summary, and whether every row is done."""

    journal: Path | None
    totals: list[tuple[str, str, int, int]]
    warnings: list[Problem]
    summary: Summary | None = None
    notes: list[str] = field(default_factory=list)
    aborted: str | None = None  # FedaPay refused the key or account after something may have been sent
    stopped: str | None = None  # an unexpected error stopped the run after something may have been sent
    report_error: str | None = None  # why --report could not be written (the run itself is as summarized)

    @property
    def complete(self) -> bool:
        return (self.aborted is None and self.stopped is None and self.report_error is None
                and self.summary is not None and self.summary.complete)


@dataclass(slots=True)
class Interruption:
    """What a run stopped by Ctrl-C could not do, for its caller to say after the summary: `asyncio.run` answers
    Ctrl-C with a KeyboardInterrupt of its own, so nothing attached to the cancelled run's exception reaches it."""

    report_error: str | None = None  # why --report could not be written


class Aborted(Exception):
    """The server refused the key or the account (401/403): no other row can succeed; stop."""


def idempotency_key(reference: str, digest: str) -> str:
    """The same row always sends the same key (printable ASCII, whatever its reference holds); a reference
    reused with other details (another month's file, another batch) sends another key, never last one's."""
    return "fpb-" + hashlib.sha256(f"fedapay-bulk/2:{reference}:{digest}".encode()).hexdigest()[:48]


class Throttle:
    """One pause for the whole run: a 429 slows every request down instead of failing rows."""

    def __init__(self) -> None:
        self.until = 0.0
        self.pauses = 0
        self.longest_asked = 0.0  # the longest Retry-After cut to MAX_RATE_LIMIT_PAUSE, if any

    def pause(self, seconds: float | None) -> None:
        self.pauses += 1
        wait = DEFAULT_RATE_LIMIT_PAUSE if seconds is None else max(MIN_RATE_LIMIT_PAUSE, seconds)
        if not wait <= MAX_RATE_LIMIT_PAUSE:  # also a NaN
            self.longest_asked = max(self.longest_asked, wait) if wait == wait else self.longest_asked
            wait = MAX_RATE_LIMIT_PAUSE
        self.until = max(self.until, time.monotonic() + wait)

    async def wait(self) -> None:
        while (delay := self.until - time.monotonic()) > 0:
            await asyncio.sleep(delay)


def _field(value: object) -> Any:
    """A payout field, or None when unset (the generated models mark absent fields with `UNSET`)."""
    return value if isinstance(value, int | str) and not isinstance(value, bool) else None


def _phone(row: JournalRow) -> str:
    """The row's beneficiary number, as normalised by the checks (E.164)."""
    return str(row.create["customer"]["phone_number"]["number"])


def _marked_phone(payout: Any) -> str | None:
    """The beneficiary number this tool wrote into the payout's `custom_metadata` when it created it."""
    metadata = payout.custom_metadata
    values = metadata.to_dict() if hasattr(metadata, "to_dict") else metadata
    mark = values.get(PHONE_MARK) if isinstance(values, dict) else None
    return mark if isinstance(mark, str) else None


def _name(text: str) -> str:
    return " ".join(text.split()).casefold()


def _beneficiary(payout: Any, row: JournalRow) -> list[str]:
    """How the payout's beneficiary differs from the row's (empty: the same person and number).

    FedaPay's payout carries no phone number: this tool writes it into `custom_metadata` (`PHONE_MARK`) and
    compares that; the names (and email) are compared when FedaPay embeds the customer (`include=customer`).
    A payout showing neither cannot be told apart from someone else's: it never counts as this row's.
    """
    found: list[str] = []
    shown_any = False
    mark = _marked_phone(payout)
    if mark is not None:
        shown_any = True
        if wallet_key(mark) != wallet_key(_phone(row)):  # one wallet however written (Benin's 8 and 10 digits)
            found.append(f"beneficiary number {shown(mark)}, not {_phone(row)}")
    customer = payout.customer
    wanted = row.create["customer"]
    for name in ("firstname", "lastname", "email"):
        value = _field(getattr(customer, name, None))
        if not isinstance(value, str) or (name == "email" and not wanted.get(name)):
            continue
        shown_any = True
        if _name(value) != _name(str(wanted.get(name) or "")):
            found.append(f"beneficiary {name} {shown(repr(value))}, not {shown(repr(wanted.get(name) or ''))}")
    if not shown_any:
        found.append("FedaPay shows neither its beneficiary's number nor name: it cannot be told to be this row's")
    return found


def _differences(payout: Any, row: JournalRow) -> list[str]:
    """How a payout carrying this row's reference differs from the row (empty: it is this row's payment).

    The payout's amount, mode and beneficiary (`_beneficiary`) are always compared; its currency and
    description when FedaPay shows them.
    """
    found: list[str] = []
    if payout.amount != row.amount:
        found.append(f"amount {payout.amount}, not {row.amount}")
    if _field(payout.mode) != row.create.get("mode"):
        found.append(f"mode {shown(str(_field(payout.mode)))!s}, not {shown(str(row.create.get('mode')))}")
    iso = _field(getattr(payout.currency, "iso", None))
    if isinstance(iso, str) and iso.upper() != row.create.get("currency"):
        found.append(f"currency {shown(iso)}, not {row.create.get('currency')}")
    description = _field(payout.description)
    if isinstance(description, str) and description != (row.create.get("description") or ""):
        found.append(f"description {shown(repr(description))}, not {shown(repr(row.create.get('description') or ''))}")
    return found + _beneficiary(payout, row)


def _listed(problems: list[Problem], count: int) -> list[Problem]:
    """The first `MAX_LISTED` problems by row, and a line saying how many more (a refusal stays readable)."""
    shown_problems = sorted(problems, key=lambda p: p.row)[:MAX_LISTED]
    if count > len(shown_problems):
        shown_problems.append(Problem(0, "rows", f"{count - len(shown_problems)} more like these, not shown"))
    return shown_problems


def _keep(problems: list[Problem], problem: Problem) -> None:
    """Add `problem`, keeping the list to about the `MAX_LISTED` first rows (a look-up meets rows in any order)."""
    problems.append(problem)
    if len(problems) >= 2 * MAX_LISTED:
        problems.sort(key=lambda p: p.row)
        del problems[MAX_LISTED:]


@dataclass(slots=True)
class _Found:
    """What one look-up found: rows adopted, rows whose reference another payment holds, rows already paid."""

    adopt: bool  # any matching payout counts as its row's (a lost WAL, or --adopt-existing)
    found: int = 0
    rows: set[int] = field(default_factory=set)  # rows a payout carrying their reference was found for
    used: list[Problem] = field(default_factory=list)
    used_count: int = 0
    existing: list[Problem] = field(default_factory=list)
    existing_count: int = 0
    existing_statuses: dict[str, int] = field(default_factory=dict)  # those payouts' statuses, counted
    unchecked: int = 0  # rows whose search never vouched for itself (and found nothing): they may be paid
    why: set[str] = field(default_factory=set)  # why those searches could not vouch (`Walk.why`)


def _existing_refusal(found: _Found, journal: Path) -> str:
    """Why a run stops on payouts it did not create, and what to do, said by what those payouts are: a sent one
    paid its row, a failed one paid nothing (adopting it would record the row as failed for good), the others
    (pending, scheduled, started, processing) are under way."""
    statuses = found.existing_statuses
    failed = statuses.get("failed", 0)
    sent = statuses.get("sent", 0)
    other = found.existing_count - failed - sent
    said = ", ".join(part for part in (
        f"{sent} sent" if sent else "",
        f"{failed} failed" if failed else "",
        f"{other} not yet sent or failed ("
        + ", ".join(f"{shown(s)} {n}" for s, n in sorted(statuses.items()) if s not in ("sent", "failed")) + ")"
        if other else "",
    ) if part)
    text = (
        f"{found.existing_count} row(s) of this file already have a payout at FedaPay (the row's reference, amount"
        f" and beneficiary) that the journal {journal} did not create: {said}; this run sent nothing. If this file"
        " is a new payroll reusing earlier references (next month's), pay it with --batch LABEL (its references"
        " are then new)."
    )
    if sent or other:
        text += (
            " If it is this file's payroll whose journal was lost, re-run with --adopt-existing: the payouts found"
            " then count as this file's and none is created again (sent ones as paid, pending ones are started,"
            " the others followed)."
        )
    if failed:
        text += (
            f" The {failed} failed payout(s) paid nothing, and --adopt-existing would record their rows as failed,"
            " not pay them: to pay those rows, put them in a file of their own and pay it with --batch LABEL (new"
            " references, so new payouts)."
        )
    return text


def _outcome(payout: Any) -> dict[str, Any]:
    status = str(payout.status)
    error = _field(payout.last_error_message) if status == "failed" else None
    return {
        "payout_id": payout.id,
        "status": status,
        "fees": _field(payout.fees),
        "amount_debited": _field(payout.amount_debited),
        "error": error,
    }


def _named_items(refusal: APIStatusError, ids: list[int]) -> dict[int, str]:
    """The payout ids a start's refusal names by item (`payouts[i].id`, `payouts[i].scheduled_at`), with why."""
    named: dict[int, str] = {}
    for name, problems in refusal.errors.items():
        match = START_ITEM_RE.fullmatch(name.split(".", 1)[0]) if name else None
        if match is not None and int(match[1]) < len(ids):
            reason = f"{name}: {', '.join(problems)}"
            pid = ids[int(match[1])]
            named[pid] = f"{named[pid]}; {reason}" if pid in named else reason
    return named


class Run:
    """One run over a journal with an `AsyncFedaPay` client."""

    def __init__(self, client: AsyncFedaPay, journal: Journal, options: BulkOptions, progress: Progress) -> None:
        self.client = client
        self.journal = journal
        self.options = options
        self.progress = progress
        self.throttle = Throttle()
        self.limit = asyncio.Semaphore(max(1, options.concurrency))
        self.notes: list[str] = []
        self.aborted: BaseException | None = None
        self.queued: set[int] = set()  # rows marked `creating` that no worker has taken yet: nothing sent for them
        self.bound: str | None = None  # how the journal is bound to this run's target (`check_target`)
        self.started_late = 0  # scheduled payouts started now, their time having passed (`_item`)
        self.gone = 0  # payouts of the journal FedaPay no longer has (404): rows left as `conflict`
        self.found_again = 0  # payouts an earlier run got a 404 for, shown again now: their rows followed again

    # -- the target ----------------------------------------------------------------------------
    @property
    def target(self) -> str:
        return f"{self.client.base_url} account={self.client.account_id or '-'}"

    def check_target(self) -> None:
        """A journal pays one account: refused at another base URL or account once bound (`Journal.target`).

        A journal is bound only once a request to its target succeeded, so a first run that reached no server
        (a mistyped FEDAPAY_BASE_URL) or that the server refused (a wrong FEDAPAY_ACCOUNT_ID) binds nothing:
        the next run, at the right target, goes on. One bound where payouts may have been created through it
        is never rebound (paying the same rows elsewhere could pay them twice); one bound where nothing was
        ever created is refused saying so, and how to go on."""
        bound = self.journal.target()
        self.bound = None if bound is None else TARGET_PAYOUTS if bound[1] else TARGET_ANSWERED
        if bound is None or bound[0] == self.target:
            return
        known, payouts = bound
        path = self.journal.path
        if payouts:
            raise FileChangedError(
                f"the journal {path} pays {known}, where payouts may have been created through it, not {self.target};"
                " paying its rows here could pay them twice: nothing was sent",
                [Problem(0, "journal", (
                    f"to go on paying this file, run it against {known} again (the FEDAPAY_BASE_URL and"
                    f" FEDAPAY_ACCOUNT_ID of its earlier runs); to pay it at {self.target} too, on purpose (a sandbox"
                    " rehearsal, then live), give that run a journal of its own (--journal NEW.sqlite), which looks"
                    " every row up there before creating any"
                ))],
            )
        raise FileChangedError(
            f"the journal {path} is bound to {known} (its requests there were answered), not {self.target};"
            " nothing was ever created through it, and nothing was sent",
            [Problem(0, "journal", (
                f"to pay this file at {self.target}, delete {path} (it records no payout) and run again; to pay it"
                f" at {known}, run it against {known} (FEDAPAY_BASE_URL, FEDAPAY_ACCOUNT_ID)"
            ))],
        )

    def answered(self) -> None:
        """A request to the target succeeded: the journal is bound to it (see `check_target`)."""
        if self.bound is None:
            self.journal.bind(self.target, payouts=False)
            self.bound = TARGET_ANSWERED

    def paying(self) -> None:
        """A create is about to be sent, or a payout found is counted as a row's: never rebound from now on."""
        if self.bound != TARGET_PAYOUTS:
            self.journal.bind(self.target, payouts=True)
            self.bound = TARGET_PAYOUTS

    # -- find what exists ----------------------------------------------------------------------
    async def look_up(self) -> int:
        """Match existing payouts to rows by merchant reference (see the module docstring); returns how many
        rows were found paid. Stops (`ReferenceUsedError`, `ExistingPayoutsError`) before anything is sent,
        the look-up left pending; completed, it is marked done in the journal."""
        found = _Found(adopt=self.options.adopt_existing or self.journal.adopts)
        self.progress.phase("looking up existing payouts", None)
        walk = Walk()
        async for payout in self._all_payouts(walk):
            self.progress.advance()
            await self._match(payout, found)
        if not walk.complete:
            await self._look_up_each(found, walk)
        self.progress.done()
        if found.used or found.existing or found.unchecked:
            self.journal.lookup_again()  # a resumed journal's look-up too: the next run must not skip it
        if found.used:
            raise ReferenceUsedError(
                f"{found.used_count} row(s) carry a reference FedaPay already holds for another payment; this run"
                " sent nothing. If this file is a new payroll reusing last one's references, pay it with --batch"
                " LABEL (each reference is then sent as REFERENCE:LABEL); otherwise correct those references.",
                _listed(found.used + found.existing, found.used_count + found.existing_count),
            )
        if found.existing:
            raise ExistingPayoutsError(_existing_refusal(found, self.journal.path), _listed(
                found.existing, found.existing_count))
        if found.unchecked:
            raise LookUpIncompleteError(
                f"{found.unchecked} row(s) could not be checked for a payout FedaPay may already hold: its search"
                f" {' or '.join(sorted(found.why))}; creating them could pay them twice, so this run sent nothing"
                " (the look-up stays pending). Re-run later.",
                [],
            )
        self.journal.lookup_done()
        return found.found

    async def _match(self, payout: Any, found: _Found) -> None:
        """Record what `payout` means for the row carrying its reference, if any."""
        reference = _field(payout.merchant_reference)
        if not isinstance(reference, str):
            return
        row = self.journal.by_reference(reference)
        if row is None:
            return
        if _marked_phone(payout) is None and isinstance(payout.customer, Unset):  # the list did not embed it
            payout = await self._call(functools.partial(
                self.client.payouts.retrieve, payout.id, extra_query={"include": "customer"}
            ))
        found.rows.add(row.row)
        differences = _differences(payout, row)
        if differences:
            found.used_count += 1
            _keep(found.used, Problem(row.row, "reference", (
                f"{reference!r} is already the reference of payout {payout.id} ({'; '.join(differences)}): a"
                " reference names one payment"
            )))
            return
        if row.state in ("starting", "created", "start_refused"):
            if row.payout_id == payout.id:  # the journal's own payout: what FedaPay shows of it now
                outcome = _outcome(payout)
                self.journal.record(row.row, "created" if outcome["status"] == "pending" else "started", **outcome)
            return
        if row.state == "creating" or (row.state in ("validated", "refused") and found.adopt):
            self.paying()  # a payout of this target is now the row's
            outcome = _outcome(payout)
            self.journal.record(row.row, "created" if outcome["status"] == "pending" else "started", **outcome)
            found.found += 1
        elif row.state in ("validated", "refused"):
            found.existing_count += 1
            status = str(payout.status)
            found.existing_statuses[status] = found.existing_statuses.get(status, 0) + 1
            created = getattr(payout.created_at, "isoformat", lambda: "?")()
            _keep(found.existing, Problem(row.row, "reference", (
                f"{reference!r} is the reference of payout {payout.id} ({status}, {payout.amount}"
                f" {row.create.get('currency')}, created {created}), which this journal did not create"
                + ("; it failed: it paid nothing" if status == "failed" else "")
            )))

    async def _look_up_each(self, found: _Found, walk: Walk) -> None:
        """Each row still unmatched, looked up by its own reference (the pass over the list could not vouch)."""
        count = 0
        chunk: list[JournalRow] = []
        for row in self.journal.rows(["validated", "creating", "refused"]):
            if row.row in found.rows:
                continue
            chunk.append(row)
            if len(chunk) == 256:
                count += await self._search_rows(chunk, found)
                chunk = []
        count += await self._search_rows(chunk, found)
        if count:
            self.notes.append(
                f"FedaPay's list of payouts {walk.why}: {count} row(s) were looked up one by one"
                " (GET /payouts/search) before creating any"
            )

    async def _search_rows(self, rows: list[JournalRow], found: _Found) -> int:
        async def one(row: JournalRow) -> None:
            for attempt in range(SEARCH_RETRIES + 1):
                if attempt:
                    await asyncio.sleep(SEARCH_PAUSE * 2 ** (attempt - 1))
                search = Walk()
                matches = await self._bounded(self._search(row.reference, search))
                # A payout found is there, vouched or not; a server ignoring `page` would answer the same again.
                if matches or search.complete or search.cut_off:
                    break
            if not matches and not search.complete:  # never "no such payout": the row is not created
                found.unchecked += 1
                found.why.add(search.why)
            for payout in matches:
                await self._match(payout, found)

        await asyncio.gather(*(one(row) for row in rows))
        return len(rows)

    async def _search(self, reference: str, walk: Walk) -> list[Any]:
        """The payouts whose merchant reference is `reference` exactly (FedaPay's search matches parts too, or
        may not filter at all); none says there is no such payout only if `walk.complete`."""
        async def fetch(page: int) -> Any:
            return await self._call(functools.partial(
                self.client.payouts.search, search=reference, page=page, per_page=100, include="customer"
            ))

        return [payout async for payout in walk_pages(fetch, walk) if _field(payout.merchant_reference) == reference]

    async def _all_payouts(self, walk: Walk) -> AsyncIterator[Any]:
        """Every payout of the account, each once, with its customer embedded (`include=customer`) for
        `_beneficiary`, to the last page; `walk.complete` says whether the list moved or ignored paging."""
        async def fetch(page: int) -> Any:
            return await self._call(functools.partial(
                self.client.payouts.list, page=page, per_page=100, include="customer"
            ))

        async for payout in walk_pages(fetch, walk):
            yield payout

    async def reconcile(self, rows: list[int], ids: list[int]) -> list[tuple[int, int]]:
        """Retrieve payouts whose start may or may not have happened; record what FedaPay shows.

        Returns the (row, payout id) still pending: proven not started, safe to start again.
        """
        pending: list[tuple[int, int]] = []

        async def one(row: int, payout_id: int) -> None:
            try:
                payout = await self._call(lambda: self.client.payouts.retrieve(payout_id))
            except NotFoundError:
                self._gone(row, payout_id)
                return
            except APIError as exc:
                self.journal.record(row, "starting", error=f"could not check payout {payout_id}: {exc}")
                return
            outcome = _outcome(payout)
            if outcome["status"] == "pending":
                self.journal.record(row, "created", **outcome)
                pending.append((row, payout_id))
            else:
                self.journal.record(row, "started", **outcome)

        await asyncio.gather(*(self._bounded(one(row, pid)) for row, pid in zip(rows, ids, strict=True)))
        return sorted(pending)

    def _gone(self, row: int, payout_id: int) -> None:
        """FedaPay answers 404 for the journal's own payout: deleted there (a pending payout can be), or this run's
        key is another account's at the same base URL (the journal's binding cannot tell keys apart). Either way
        nothing here says the row is unpaid, so it is never created again on its own: `conflict`, final, for a
        person to check (a payout really deleted is paid again on purpose, in a file of its own with --batch)."""
        self.gone += 1
        self.journal.record(row, "conflict", gone=True, error=(
            f"payout {payout_id} no longer exists at FedaPay ({self.target} answers 404 for it): it was deleted"
            " there, or FEDAPAY_API_KEY is another account's. This row is not paid again by re-running: each run"
            f" asks FedaPay for payout {payout_id} again, and follows it if it is shown again (nothing is created)."
            " Check it in FedaPay's dashboard; if it was deleted and the row is still to be paid, put the row in a"
            " file of its own and pay that file with --batch LABEL"
        ))

    async def recheck_gone(self) -> None:
        """Ask again for each payout an earlier run got a 404 for (`_gone`): a 404 may have been a passing one (another
        account's key, a proxy), and only the payout's own reply can tell. Shown again, and still this row's payment
        (`_differences`), its row goes on from what FedaPay shows (started if pending, followed otherwise); a 404
        again, or any other answer, leaves it a conflict, asked again next run. Nothing is ever created for them."""
        rows = list(self.journal.rows(["conflict"], gone_only=True))
        for index in range(0, len(rows), 256):
            await asyncio.gather(*(self._bounded(self._recheck(row)) for row in rows[index : index + 256]))
        if self.found_again:
            self.notes.append(
                f"{self.found_again} payout(s) FedaPay had answered 404 for in an earlier run were found again: their"
                " rows go on (started if pending, followed otherwise), none was created again"
            )

    async def _recheck(self, row: JournalRow) -> None:
        payout_id = row.payout_id
        assert payout_id is not None
        try:
            payout = await self._call(functools.partial(
                self.client.payouts.retrieve, payout_id, extra_query={"include": "customer"}
            ))
        except APIError:  # 404 again, or no answer: a conflict still, asked again next run
            return
        reference = _field(payout.merchant_reference)
        differences = ([] if reference == row.reference else [f"reference {shown(repr(reference))}"]) + _differences(
            payout, row)
        if differences:  # another payment under that id (another account's key): never this row's
            self.journal.record(row.row, "conflict", gone=True, error=(
                f"payout {payout_id} answered 404 in an earlier run, and {self.target} now shows another payment"
                f" under that id ({'; '.join(differences)}): FEDAPAY_API_KEY may be another account's. This row is"
                " not paid again by re-running; each run asks for it again. Check it in FedaPay's dashboard"
            ))
            return
        self.found_again += 1
        outcome = _outcome(payout)
        self.journal.record(row.row, "created" if outcome["status"] == "pending" else "started", **outcome)

    async def reconcile_starting(self) -> None:
        rows = [(r.row, r.payout_id) for r in self.journal.rows(["starting"]) if r.payout_id is not None]
        for index in range(0, len(rows), 256):
            chunk = rows[index : index + 256]
            await self.reconcile([r for r, _ in chunk], [int(p) for _, p in chunk])

    # -- create and start ----------------------------------------------------------------------
    async def pay(self) -> None:
        total = self.journal.count("validated", "creating", "refused", "created", "start_refused")
        self.progress.phase("creating and starting payouts", total)
        starts: asyncio.Queue[JournalRow | None] = asyncio.Queue()
        starter = asyncio.create_task(self._starter(starts))
        creates: asyncio.Queue[JournalRow | None] = asyncio.Queue(maxsize=CREATE_CHUNK * 2)
        workers = [asyncio.create_task(self._create_worker(creates, starts)) for _ in range(self.options.concurrency)]
        try:
            for row in self.journal.rows(["created", "start_refused"]):  # a refused start is tried again
                await starts.put(row)
            chunk: list[JournalRow] = []
            for row in self.journal.rows(["validated", "creating", "refused"]):
                chunk.append(row)
                if len(chunk) == CREATE_CHUNK:
                    await self._dispatch(chunk, creates)
                    chunk = []
                if self.aborted:
                    break
            if chunk and not self.aborted:
                await self._dispatch(chunk, creates)
            for _ in workers:
                await creates.put(None)
            await asyncio.gather(*workers)
            await starts.put(None)
            await starter
        except BaseException:
            # Cancelled (Ctrl-C) or failed: every task ends before the journal closes (no write after it).
            for task in [*workers, starter]:
                task.cancel()
            starts.put_nowait(None)  # the end, should a task go on despite its cancellation (unbounded queue)
            await asyncio.gather(*workers, starter, return_exceptions=True)
            if self.queued:  # never handed to a worker: no request was sent, so they are plainly not created
                self.journal.set_state(sorted(self.queued), "validated")
            raise
        self.progress.done()
        if self.aborted:
            raise Aborted(str(self.aborted)) from self.aborted

    async def _dispatch(self, chunk: list[JournalRow], creates: asyncio.Queue[JournalRow | None]) -> None:
        # Committed before any of them is sent: a row whose create may have reached FedaPay is never
        # `validated` in the journal, and the journal is never rebound to another target.
        self.paying()
        self.journal.set_state([row.row for row in chunk], "creating")
        self.queued.update(row.row for row in chunk)
        for row in chunk:
            await creates.put(row)

    async def _create_worker(
        self, creates: asyncio.Queue[JournalRow | None], starts: asyncio.Queue[JournalRow | None]
    ) -> None:
        while (row := await creates.get()) is not None:
            self.queued.discard(row.row)
            if self.aborted:
                self.journal.record(row.row, "validated", error="not sent: the run stopped")
                continue
            created = await self._create(row)
            if created is not None:
                await starts.put(created)

    async def _create(self, row: JournalRow) -> JournalRow | None:
        key = idempotency_key(row.reference, self.journal.digest(row.row))
        unknown = 0
        for _ in range(RATE_LIMIT_RETRIES):
            await self.throttle.wait()
            try:
                async with self.limit:
                    payout = await self.client.payouts.create(
                        **row.create, merchant_reference=row.reference, idempotency_key=key,
                        custom_metadata={PHONE_MARK: _phone(row)},
                    )
            except RateLimitError as exc:
                self.throttle.pause(exc.retry_after)
                continue
            except (AuthenticationError, PermissionDeniedError) as exc:
                self.aborted = self.aborted or exc
                self._refused(row, unknown, str(exc))
                return None
            except PayoutOutcomeUnknownError as exc:
                unknown += 1
                self.journal.record(row.row, "creating", error=f"outcome unknown: {exc.message}")
                if unknown > UNKNOWN_RETRIES:
                    self.progress.advance()
                    return None  # stays `creating`: the next run looks it up before creating
                await asyncio.sleep(0.2 * 2**unknown)
                continue
            except APIResponseValidationError as exc:
                self.journal.record(row.row, "conflict", error=f"FedaPay answered another payout: {exc}")
                self.progress.advance()
                return None
            except APIStatusError as exc:
                if exc.status_code is not None and exc.status_code < 500:
                    self._refused(row, unknown, str(exc))
                    self.progress.advance()
                    return None
                unknown += 1
                self.journal.record(row.row, "creating", error=str(exc))
                if unknown > UNKNOWN_RETRIES:
                    self.progress.advance()
                    return None
                continue
            except InvalidArgumentError as exc:  # checked before: only a changed client could get here
                self._refused(row, unknown, f"refused by the client: {exc}")
                self.progress.advance()
                return None
            except APIError as exc:
                unknown += 1
                self.journal.record(row.row, "creating", error=str(exc))
                if unknown > UNKNOWN_RETRIES:
                    self.progress.advance()
                    return None
                await asyncio.sleep(0.2 * 2**unknown)
                continue
            outcome = _outcome(payout)
            if outcome["status"] != "pending":  # a replay of a payout an earlier run already started
                self.journal.record(row.row, "started", **outcome)
                self.progress.advance()
                return None
            self.journal.record(row.row, "created", **outcome)
            return JournalRow(row.row, row.reference, row.create, row.scheduled_at, row.amount, "created",
                              payout.id, "pending")
        self.journal.record(row.row, "creating", error="still rate limited after many pauses; re-run")
        return None

    def _refused(self, row: JournalRow, unknown: int, error: str) -> None:
        """A refused create: nothing exists, unless an earlier attempt's outcome was unknown (a reply lost after
        FedaPay stored the payout). That row stays `creating` (never a refusal saying nothing was sent): the
        run counts it as possibly sent, and the next run looks it up before creating."""
        if unknown:
            self.journal.record(row.row, "creating", error=(
                f"a payout may have been created (an earlier attempt's outcome is unknown), then: {error}"
            ))
        else:
            self.journal.record(row.row, "refused", error=error)

    async def _starter(self, starts: asyncio.Queue[JournalRow | None]) -> None:
        """Starts the created rows in groups: a group goes when full, when no row came for 0.25 s, or at the end.
        The wait is `asyncio.timeout`, not `wait_for`: on Python 3.11 `wait_for` drops a cancellation (Ctrl-C)
        that comes as a row does, and the starter then sent starts after the interrupt and waited forever for a
        row no one would put, holding the journal's lock."""
        group: list[JournalRow] = []
        while True:
            try:
                if group:
                    async with asyncio.timeout(0.25):
                        row = await starts.get()
                else:
                    row = await starts.get()
            except TimeoutError:
                await self._start_group(group)
                group = []
                continue
            if row is None:
                if group:
                    await self._start_group(group)
                return
            group.append(row)
            if len(group) >= self.options.group_size:
                await self._start_group(group)
                group = []

    def _item(self, row: JournalRow, late: dict[int, str]) -> int | StartItem:
        """The start item of a created row: its schedule, or its id alone when that time has passed (or is closer
        than `SCHEDULE_MARGIN`): a created row whose time has passed is sent now, as the README says (a row not
        yet created is refused instead, `prepare.py`). Built just before the request (never before a rate-limit
        pause, which would let a schedule pass between the check and the send); `late` gets the row's note."""
        assert row.payout_id is not None
        if row.scheduled_at is None:
            return row.payout_id
        when = parse_schedule(row.scheduled_at)  # the checks' parse: a time without a zone is UTC
        if when.timestamp() <= time.time() + SCHEDULE_MARGIN:
            note = (f"scheduled time {wire(when)} had passed (or was under {SCHEDULE_MARGIN:g} s away) when it was"
                    " started: sent now")
            late[row.row] = note
            # Still `starting`: the start about to be sent may be in flight until its reply is recorded. The note
            # has a column of its own: every later reply about the payout (a poll, a check) keeps it.
            self.journal.record(row.row, "starting", late=note)
            return row.payout_id
        return StartItem(id=row.payout_id, scheduled_at=wire(when))

    async def _start_group(self, group: list[JournalRow]) -> None:
        if self.aborted:
            return
        by_id = {int(row.payout_id): row for row in group if row.payout_id is not None}
        failures = refusals = 0
        for _ in range(RATE_LIMIT_RETRIES):
            if not by_id:
                return
            await self.throttle.wait()
            # Committed before the request: after a crash these are checked one by one, never started blind.
            self.journal.set_state([row.row for row in by_id.values()], "starting")
            late: dict[int, str] = {}
            items = [self._item(row, late) for row in by_id.values()]  # after the pause: schedules as of now
            try:
                payouts = await self.client.payouts.start(items)
            except RateLimitError as exc:
                self.throttle.pause(exc.retry_after)
                self.journal.set_state([row.row for row in by_id.values()], "created")  # 429: not started
                continue
            except InvalidArgumentError as exc:
                # The client refused the request before sending it (a schedule that passed between the items and
                # the send): nothing was sent. Built again (a passed time is then sent now), then refused.
                refusals += 1
                self.journal.set_state([row.row for row in by_id.values()], "created", error=str(exc))
                if refusals <= UNKNOWN_RETRIES:
                    continue
                for pid, row in by_id.items():
                    self._start_refused(row, pid, f"refused by the client before sending: {exc}")
                return
            except (AuthenticationError, PermissionDeniedError) as exc:
                self.aborted = self.aborted or exc
                self.journal.set_state([row.row for row in by_id.values()], "created", error=str(exc))
                return
            except UnprocessableEntityError as exc:
                # Refused, naming the items (`payouts[i].id`): each payout is looked at first (one no longer
                # pending was started, by an earlier attempt or another hand); the pending ones named are refused
                # to start (kept, with FedaPay's reason, for the next run) and the others started without them.
                refusals += 1
                ids = list(by_id)
                still = await self.reconcile([row.row for row in by_id.values()], ids)
                self.progress.advance(len(by_id) - len(still))
                by_id = {pid: by_id[pid] for _, pid in still}
                # A payout named that is no longer pending (started, or gone: `_gone`) was resolved by the
                # look; the others go again without it, never refused for it.
                named_all = _named_items(exc, ids)
                named = {pid: reason for pid, reason in named_all.items() if pid in by_id}
                if named_all and refusals <= UNKNOWN_RETRIES:
                    for pid, reason in named.items():
                        self._start_refused(by_id.pop(pid), pid, reason)
                    continue
                if len(by_id) > 1:  # which of them FedaPay refuses is not said: one start each
                    for row in by_id.values():
                        await self._start_group([row])
                    return
                for pid, row in by_id.items():
                    self._start_refused(row, pid, str(exc))
                return
            except APIError as exc:
                # Refused otherwise, or unknown: look at each payout.
                failures += 1
                still = await self.reconcile([row.row for row in by_id.values()], list(by_id))
                self.progress.advance(len(by_id) - len(still))
                by_id = {pid: by_id[pid] for _, pid in still}
                if by_id and failures > UNKNOWN_RETRIES:
                    for row in by_id.values():
                        self.journal.record(row.row, "created", error=f"not started (still pending): {exc}")
                    self.notes.append(f"{len(by_id)} payouts left pending after {failures} failed starts: {exc}")
                    return
                continue
            updates = []
            for payout in payouts:
                if payout.id in by_id:
                    outcome = _outcome(payout)
                    number = by_id[payout.id].row
                    if number in late:
                        self.started_late += 1  # its `late` note, written before the start, says so in the report
                    updates.append({"row": number, "state": "started", **outcome})
            self.journal.record_many(updates)
            self.progress.advance(len(by_id))
            return

    def _start_refused(self, row: JournalRow, payout_id: int, reason: str) -> None:
        self.journal.record(row.row, "start_refused", error=f"FedaPay refused to start payout {payout_id}: {reason}")
        self.progress.advance()

    # -- wait ----------------------------------------------------------------------------------
    async def wait(self, timeout: float) -> bool:
        """Poll started payouts until each is sent or failed, with back-off; False on timeout."""
        deadline = time.monotonic() + timeout
        delay = 0.5
        self.progress.phase("waiting for sent / failed", self.journal.count("started"))
        self.progress.advance(self.journal.final_count())
        while self.journal.count_unfinished():
            if time.monotonic() >= deadline:
                self.progress.done()
                return False
            await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 15.0)
            chunk: list[JournalRow] = []
            for row in self.journal.rows(["started"], unfinished_only=True):
                chunk.append(row)
                if len(chunk) == 256:
                    await self._poll(chunk)
                    chunk = []
            await self._poll(chunk)
        self.progress.done()
        return True

    async def _poll(self, rows: list[JournalRow]) -> None:
        async def one(row: JournalRow) -> None:
            payout_id = row.payout_id
            assert payout_id is not None
            try:
                payout = await self._call(lambda: self.client.payouts.retrieve(payout_id))
            except NotFoundError:
                self._gone(row.row, payout_id)  # no longer `started`: not polled again
                self.progress.advance()
                return
            except APIError:
                return  # asked again next round
            outcome = _outcome(payout)
            self.journal.record(row.row, "started", **outcome)
            if outcome["status"] in FINAL_STATUSES:
                self.progress.advance()

        await asyncio.gather(*(self._bounded(one(row)) for row in rows))

    # -- helpers -------------------------------------------------------------------------------
    async def _bounded(self, work: Awaitable[T]) -> T:
        async with self.limit:
            return await work

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        """A read call that waits out 429s (the whole run pauses) instead of failing."""
        for _ in range(RATE_LIMIT_RETRIES):
            await self.throttle.wait()
            try:
                result = await call()
            except RateLimitError as exc:
                self.throttle.pause(exc.retry_after)
                continue
            self.answered()
            return result
        result = await call()
        self.answered()
        return result


async def pay_file_async(
    path: Path, options: BulkOptions, client: AsyncFedaPay | None = None, progress: Progress | None = None,
    interruption: Interruption | None = None, **client_options: Any,
) -> BulkResult:
    """Check the file, then (unless a dry run) pay it with `client` (default: `AsyncFedaPay(**client_options)`,
    configured from the environment, made only once the file is valid). Raises `InvalidArgumentError` (an
    option), `BulkError` (nothing was sent) or `Aborted` (the key or account was refused before anything was
    sent); otherwise returns the result (`aborted` set if they were refused after something may have been,
    `stopped` if any other error stopped the run once payouts may exist: never raised then, so no caller reads
    it as "nothing was sent"; `report_error` if the report could not be written). Stopped by Ctrl-C, it writes the
    report so far and re-raises; why that report could not be written, if so, goes to `interruption`."""
    progress = progress or SilentProgress()
    check_options(options)
    defaults = Defaults(options.mode, options.currency.upper(), options.schedule_at, options.country)
    journal_path = journal_for(path, options)
    check_paths(path, journal_path)
    check_report(path, journal_path, options.report)
    new_journal = journal_path is None or not journal_path.exists()
    if options.schedule_at is not None and not options.send_late and new_journal:
        try:
            not_past(options.schedule_at)  # a new payroll: said once for the option, not once per row
        except ValueError as exc:
            raise BulkError(f"--schedule-at: {exc}; nothing was sent", [Problem(
                0, "--schedule-at", "give a time in the future (or --send-late to send now)")]) from None
    lock = None if journal_path is None else JournalLock(journal_path)
    if lock is not None:
        lock.acquire()  # one run per journal: a second one is refused here, before reading anything
    try:
        return await _pay(path, journal_path, defaults, options, client, progress, client_options, lock, interruption)
    finally:
        if lock is not None:
            lock.release()


async def _pay(
    path: Path, journal_path: Path | None, defaults: Defaults, options: BulkOptions, client: AsyncFedaPay | None,
    progress: Progress, client_options: dict[str, Any], lock: JournalLock | None = None,
    interruption: Interruption | None = None,
) -> BulkResult:
    prepared = prepare(
        path, defaults, journal_path=journal_path, dry_run=options.dry_run,
        allow_duplicates=options.allow_duplicates, batch=options.batch, send_late=options.send_late,
    )
    result = BulkResult(journal_path, prepared.totals, prepared.warnings)
    if prepared.journal is None:
        return result
    journal = prepared.journal
    owned = client is None
    try:
        if lock is not None:
            lock.hold_journal()  # a journal this run just created is locked from now on too
        journal.begin_run()
        if client is None:
            # The client's own limit must not cap --concurrency: as many attempts on the wire as creates in flight.
            client = AsyncFedaPay(**{"max_in_flight": options.concurrency, **client_options})
        run = Run(client, journal, options, progress)
        run.check_target()
        # Pending from the journal's creation until a look-up completes (durable: a run killed while looking
        # up leaves it pending), or asked by `creating` rows and by a lost WAL (`Journal.begin_run`).
        if options.adopt_existing:
            journal.adopt_existing()  # the operator's word for this journal, kept until its look-up is done
        reporting = False  # a run stopped before paying (a refusal, an error: exit 2) writes no report; Ctrl-C does
        try:
            # First, the payouts an earlier run got a 404 for (never one this run did: a 404 is asked again next run).
            await run.recheck_gone()
            if journal.lookup_pending or journal.count("creating"):
                found = await run.look_up()
                if found:
                    result.notes.append(f"{found} payout(s) of this file already existed and were not created again")
            await run.reconcile_starting()
            reporting = True
            await run.pay()
            complete = await run.wait(options.wait_timeout) if options.wait else True
            if not complete:
                result.notes.append(f"--wait stopped after {options.wait_timeout:g} s with payouts not yet final")
        except Aborted as exc:  # raised by `pay` only
            if not journal.count(*SENT_STATES):
                journal.nothing_created()  # the journal may then be used elsewhere (`Run.check_target`)
                raise  # nothing was ever sent from this journal: exit 2 holds
            result.aborted = str(exc)
        except (asyncio.CancelledError, KeyboardInterrupt) as exc:  # Ctrl-C: the report and summary so far
            reporting = True
            report_failure = _finish(result, run, journal, options, reporting)
            if report_failure is not None:
                exc.add_note(report_failure)  # for a caller awaiting this coroutine itself
                if interruption is not None:
                    interruption.report_error = report_failure  # the command says it after the summary (`cli.py`)
            raise
        except Exception as exc:
            # Any other error once paying began (a bug, a disk error, a refusal the run did not expect): never
            # "nothing was sent" when payouts may exist. The run ends with the summary and the report (exit 1).
            if not reporting or not _may_have_sent(journal):
                raise
            result.stopped = f"{type(exc).__name__}: {exc}"
        result.report_error = _finish(result, run, journal, options, reporting)
        return result
    finally:
        try:
            journal.end_run()
        finally:
            journal.close()
            if owned and client is not None:
                await client.close()


def _may_have_sent(journal: Journal) -> bool:
    """Whether a payout may exist for a row of `journal` (a journal that cannot be read: assume so)."""
    try:
        return journal.count(*SENT_STATES) > 0
    except sqlite3.Error:
        return True


def _finish(result: BulkResult, run: Run, journal: Journal, options: BulkOptions, reporting: bool) -> str | None:
    """The run's notes, and (once paying began) its summary and report; returns why the report could not be
    written, if it could not (said after the summary, never a traceback that hides it)."""
    result.notes.extend(run.notes)
    if run.started_late:
        result.notes.append(
            f"{run.started_late} scheduled payout(s) were started after their time had passed (a rate-limit pause, or"
            " a resumed run): sent now, not at their time (see the report's error column)"
        )
    if run.gone:
        result.notes.append(
            f"{run.gone} payout(s) of this journal no longer exist at FedaPay (404): their rows are left as conflicts"
            " and are not paid again by re-running (each run asks for those payouts again, and follows any FedaPay"
            " shows again); see the report's error column"
        )
    if run.throttle.pauses:
        result.notes.append(f"rate limited {run.throttle.pauses} time(s): the run slowed down")
    if run.throttle.longest_asked:
        result.notes.append(
            f"FedaPay asked to wait up to {run.throttle.longest_asked:g} s (Retry-After); each pause was cut"
            f" to {MAX_RATE_LIMIT_PAUSE:g} s"
        )
    if not reporting:
        return None
    try:
        result.summary = summarize(journal.db, waited=options.wait)
    except sqlite3.Error as exc:
        result.notes.append(f"the summary could not be read from the journal {journal.path}: {exc}")
    else:
        retry = result.summary.retry_failed()
        if retry:
            result.notes.append(retry)
    if options.report is None:
        return None
    try:
        write_report(journal, options.report)
    except (OSError, sqlite3.Error) as exc:
        return f"--report {options.report} could not be written: {exc}"
    return None


def journal_for(path: Path, options: BulkOptions) -> Path | None:
    """The journal a run of `path` with `options` uses (None for a dry run)."""
    return None if options.dry_run else options.journal or default_journal(path, options.batch)


def pay_file(
    path: Path, options: BulkOptions, progress: Progress | None = None, interruption: Interruption | None = None,
    **client_options: Any,
) -> BulkResult:
    """The synchronous form of `pay_file_async` (its own event loop; `client_options` go to `AsyncFedaPay`)."""
    return asyncio.run(pay_file_async(path, options, None, progress, interruption, **client_options))


__all__ = ["Aborted", "BulkError", "BulkOptions", "BulkResult", "Interruption", "pay_file", "pay_file_async"]
