"""The run's summary (sent, failed, pending; amounts, fees, amount debited, per currency) and its report CSV,
both read from the journal (streamed: the report of 100,000 rows is never held in memory).

Amounts are never added across currencies (a file may mix XOF and GNF). Fees and the amount debited are
counted for sent payouts only: the money that moved (a failed payout debited nothing, a pending or started
one has not yet, a refused one never will).

Every text FedaPay sends (a payout's status, its error message) is data from elsewhere, as the file's cells
are: in the report it is neutralised against spreadsheet formulas (`_safe`), in the summary's lines its
control characters and line breaks are escaped (`terminal.shown`), so a reply cannot forge a line. The report
escapes control and format characters too (`fedapay_payouts._visible`; FedaPay's texts keep their line breaks
and tabs, in one quoted cell): the row checks refuse them in the file's cells, and a journal written before
they did may still hold some.
"""

from __future__ import annotations

import csv
import os
import sqlite3
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from fedapay_payouts._evidence import KNOWN_STATUSES, SENT_ON
from fedapay_payouts._visible import visible

from .journal import FINAL_STATUSES, Journal
from .paths import file_kind
from .terminal import shown

REPORT_COLUMNS = ("row", "beneficiary", "phone", "amount", "currency", "payout_id", "reference", "status", "error")
# What a row's state means to a reader of the report when FedaPay has given no status.
STATE_WORDS = {
    "validated": "not created",
    "refused": "not created (refused)",
    "creating": "unknown (re-run to resolve)",
    "starting": "unknown (re-run to resolve)",
    "start_refused": "not started (refused)",
    "conflict": "conflict (check by hand)",
}
# The client's statuses of a payout FedaPay has accepted (started now or for later) and not yet finished:
# `started`, `processing`, `scheduled`. Not `pending` (created, not started), nor a status the client does not know.
ACCEPTED = (KNOWN_STATUSES & (SENT_ON | {"scheduled"})) - FINAL_STATUSES


def _add(into: dict[str, int], currency: str, amount: int) -> None:
    into[currency] = into.get(currency, 0) + amount


@dataclass(slots=True)
class Bucket:
    count: int = 0
    amounts: dict[str, int] = field(default_factory=dict)  # per currency

    @property
    def amount(self) -> int:
        """The bucket's amount in the file's one currency (every currency added: read `amounts` for a mixed file)."""
        return sum(self.amounts.values())


@dataclass(slots=True)
class Summary:
    rows: int
    sent: Bucket = field(default_factory=Bucket)
    failed: Bucket = field(default_factory=Bucket)
    accepted: Bucket = field(default_factory=Bucket)  # FedaPay has them, not yet sent or failed (`ACCEPTED`)
    pending: Bucket = field(default_factory=Bucket)  # everything else: not created, not started, unknown
    by_status: dict[str, int] = field(default_factory=dict)
    fees: dict[str, int] = field(default_factory=dict)  # of sent payouts, per currency
    amount_debited: dict[str, int] = field(default_factory=dict)  # of sent payouts, per currency
    currencies: list[str] = field(default_factory=list)
    waited: bool = False

    @property
    def complete(self) -> bool:
        """Everything sent (after --wait), or everything accepted by FedaPay and none failed (without)."""
        if self.waited:
            return self.sent.count == self.rows
        return self.sent.count + self.accepted.count == self.rows

    def money(self, amounts: dict[str, int]) -> str:
        """`150,000 XOF, 900,000 GNF`: each of the file's currencies, never one total across them."""
        return ", ".join(f"{amounts.get(currency, 0):,} {currency}" for currency in self.currencies) or "0"

    def retry_failed(self) -> str | None:
        """How to pay failed rows again, if any failed: a failed payout is final at FedaPay, and the journal counts
        its row as done, so re-running the same command never pays it; a new payroll of those rows does."""
        if not self.failed.count:
            return None
        return (
            f"{self.failed.count} row(s) failed ({self.money(self.failed.amounts)}): a failed payout is final at"
            " FedaPay, and re-running this command does not pay those rows again. To pay them, put them (status"
            " `failed` in the report) in a file of their own and pay that file with --batch LABEL (new references,"
            " so new payouts); never the whole file with --batch, which would pay every row again"
        )

    def lines(self) -> list[str]:
        return [
            f"rows: {self.rows}",
            f"sent: {self.sent.count} ({self.money(self.sent.amounts)})",
            f"failed: {self.failed.count} ({self.money(self.failed.amounts)})",
            f"started, not yet sent or failed: {self.accepted.count} ({self.money(self.accepted.amounts)})",
            f"pending: {self.pending.count} ({self.money(self.pending.amounts)})",
            "by status: " + ", ".join(f"{shown(status)} {n}" for status, n in sorted(self.by_status.items())),
            f"fees (sent payouts only): {self.money(self.fees)}; amount debited (sent payouts only):"
            f" {self.money(self.amount_debited)}",
        ]


def _status(state: str, status: str | None) -> str:
    return status if state in ("started", "created") and status else STATE_WORDS.get(state, state)


def summarize(db: sqlite3.Connection, *, waited: bool) -> Summary:
    """The summary of the journal open as `db`."""
    (rows,) = db.execute("SELECT count(*) FROM rows").fetchone()
    summary = Summary(rows=int(rows), waited=waited)
    for state, status, currency, count, amount, fees, debited in db.execute(
        "SELECT state, status, currency, count(*), sum(amount), sum(coalesce(fees, 0)),"
        " sum(coalesce(amount_debited, 0)) FROM rows GROUP BY state, status, currency"
    ):
        word = _status(state, status)
        summary.by_status[word] = summary.by_status.get(word, 0) + count
        bucket = (summary.sent if word == "sent" else summary.failed if word == "failed"
                  else summary.accepted if state == "started" and word in ACCEPTED else summary.pending)
        bucket.count += count
        _add(bucket.amounts, currency, amount or 0)
        if word == "sent":  # the money that moved
            _add(summary.fees, currency, fees or 0)
            _add(summary.amount_debited, currency, debited or 0)
    summary.currencies = [c for (c,) in db.execute("SELECT DISTINCT currency FROM rows ORDER BY currency")]
    return summary


def read_summary(journal: Path, *, waited: bool) -> Summary | None:
    """The summary of the journal at `journal` after its run stopped (an interrupted one), or None if there is
    no journal there to read (the run stopped before making it). Never creates a file."""
    if not journal.is_file():
        return None
    try:
        db = sqlite3.connect(f"file:{urllib.parse.quote(str(journal.resolve()))}?mode=rw", uri=True)
    except sqlite3.Error:
        return None
    try:
        return summarize(db, waited=waited)
    except sqlite3.Error:
        return None
    finally:
        db.close()


def unsafe_target(path: Path) -> str | None:
    """Why the report may not be written at `path`, or None. The report is a new file renamed over its path, so
    the path must name a regular file or nothing: a symbolic link would be replaced rather than written through,
    and a FIFO, a device or a socket replaced by a plain file (`--report /dev/stdout` run as root replaced
    /dev/stdout for every later program)."""
    if path.is_symlink():
        return (f"{path} is a symbolic link (to {os.readlink(path)}): the report would replace the link, not write"
                " through it; the report must be a regular file path (e.g. report.csv), not a link, a device or a"
                " pipe")
    kind = file_kind(path)  # None: a regular file, or nothing there (or a path through a plain file, which the
    if kind is None:  # writability check names)
        return _not_a_report(path)
    return (f"{path} is {kind}: the report is a file written beside it and renamed over it, which would replace it;"
            " name a regular file (e.g. report.csv)")


# The report's first line, as `write_report` writes it (its `amount` column: not a payroll's header).
_REPORT_HEAD = ",".join(REPORT_COLUMNS).encode()
# Files this command keeps beside a journal (another payroll's, too): never a report's place, even empty.
_KEPT_SUFFIXES = (".journal.sqlite", ".sqlite", "-wal", "-shm", ".lock", ".staging")


def _not_a_report(path: Path) -> str | None:
    """Why an existing regular file may not be replaced by the report, or None. A file named like a journal or
    one of its side files, an SQLite database, or a CSV whose header has an amount column (a payroll) is
    refused: `--report` naming another payroll's journal, CSV or lock replaced it with the report and exited 0,
    that payroll's record of what was paid gone (seventeenth review). Any other file (an earlier report, a
    stale export) is replaced, as before."""
    if path.name.endswith(_KEPT_SUFFIXES):
        return (f"{path} is named like a journal or a file kept beside one (a payroll's record of what was paid):"
                " the report would replace it; name a report file (e.g. report.csv)")
    try:
        with path.open("rb") as existing:
            first = existing.readline(4096)
    except OSError:  # nothing there, or unreadable (the writability check names it)
        return None
    if first.startswith(b"SQLite format 3\x00"):
        return (f"{path} is an SQLite database (a journal?): the report would replace it; name a report file"
                " (e.g. report.csv)")
    header = first.removeprefix(b"\xef\xbb\xbf").rstrip(b"\r\n")
    if header != _REPORT_HEAD and any(b"amount" in column.lower() for column in header.split(b",")):
        return (f"{path} looks like a payroll file (its header has an amount column:"
                f" {shown(header[:80].decode('utf-8', 'replace'))}): the report would replace it; name a report"
                " file (e.g. report.csv)")
    return None


def write_report(journal: Journal, path: Path) -> None:
    """One line per row, written to a temporary file then renamed: a crash never leaves half a report. `OSError`
    if `path` names no regular file (`unsafe_target`, checked before the run too: asked again here, since the run
    may have lasted hours)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    unsafe = unsafe_target(path)
    if unsafe is not None:
        raise OSError(unsafe)
    handle, temporary = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(REPORT_COLUMNS)
            lines = journal.db.execute(
                "SELECT row, beneficiary, phone, amount, currency, payout_id, reference, state, status, error, late"
                " FROM rows ORDER BY row"
            )
            for row, beneficiary, phone, amount, currency, payout_id, reference, state, status, error, late in lines:
                said = "; ".join(note for note in (error, late) if note)  # FedaPay's error, then why it was sent now
                writer.writerow([
                    row, _safe(visible(beneficiary)), visible(phone), amount, currency, payout_id or "",
                    _safe(visible(reference)), _safe(visible(_status(state, status), LINES)),
                    _safe(visible(said, LINES)),
                ])
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


LINES = "\n\r\t"  # kept in FedaPay's texts (a message of several lines stays one quoted cell)
FORMULA_FIRST = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")  # and their full-width forms, which some spreadsheets read
BLANK = " \t\r\n"


def _safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection: `=`, `+`, `-`, `@` first, also after
    blanks, or a tab or line break first): such a cell gets a leading `'`, which shows it as text."""
    if text[:1] in ("\t", "\r", "\n") or text.lstrip(BLANK)[:1] in FORMULA_FIRST:
        return "'" + text
    return text
