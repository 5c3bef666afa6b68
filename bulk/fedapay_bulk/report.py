"""The run's summary (sent, failed, pending; amounts, fees, amount debited) and its report CSV, both read
from the journal (streamed: the report of 100,000 rows is never held in memory)."""

from __future__ import annotations

import csv
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .journal import Journal

REPORT_COLUMNS = ("row", "beneficiary", "phone", "amount", "currency", "payout_id", "reference", "status", "error")
# What a row's state means to a reader of the report when FedaPay has given no status.
STATE_WORDS = {
    "validated": "not created",
    "refused": "not created (refused)",
    "creating": "unknown (re-run to resolve)",
    "starting": "unknown (re-run to resolve)",
    "conflict": "conflict (check by hand)",
}


@dataclass(slots=True)
class Bucket:
    count: int = 0
    amount: int = 0


@dataclass(slots=True)
class Summary:
    rows: int
    sent: Bucket = field(default_factory=Bucket)
    failed: Bucket = field(default_factory=Bucket)
    pending: Bucket = field(default_factory=Bucket)  # everything neither sent nor failed
    by_status: dict[str, int] = field(default_factory=dict)
    fees: int = 0
    amount_debited: int = 0
    currencies: list[str] = field(default_factory=list)
    waited: bool = False

    @property
    def complete(self) -> bool:
        """Everything sent (after --wait), or everything accepted by FedaPay and none failed (without)."""
        if self.waited:
            return self.sent.count == self.rows
        started = sum(n for status, n in self.by_status.items() if status in ("started", "scheduled", "sent"))
        return started == self.rows

    def lines(self) -> list[str]:
        unit = self.currencies[0] if len(self.currencies) == 1 else "(mixed currencies)"
        return [
            f"rows: {self.rows}",
            f"sent: {self.sent.count} ({self.sent.amount:,} {unit})",
            f"failed: {self.failed.count} ({self.failed.amount:,} {unit})",
            f"pending: {self.pending.count} ({self.pending.amount:,} {unit})",
            "by status: " + ", ".join(f"{status} {n}" for status, n in sorted(self.by_status.items())),
            f"fees: {self.fees:,} {unit}; amount debited: {self.amount_debited:,} {unit}",
        ]


def _status(state: str, status: str | None) -> str:
    return status if state in ("started", "created") and status else STATE_WORDS.get(state, state)


def summarize(journal: Journal, *, waited: bool) -> Summary:
    db = journal.db
    summary = Summary(rows=journal.total(), waited=waited)
    for state, status, count, amount, fees, debited in db.execute(
        "SELECT state, status, count(*), sum(amount), sum(coalesce(fees, 0)), sum(coalesce(amount_debited, 0))"
        " FROM rows GROUP BY state, status"
    ):
        word = _status(state, status)
        summary.by_status[word] = summary.by_status.get(word, 0) + count
        bucket = summary.sent if word == "sent" else summary.failed if word == "failed" else summary.pending
        bucket.count += count
        bucket.amount += amount or 0
        summary.fees += fees or 0
        summary.amount_debited += debited or 0
    summary.currencies = [c for (c,) in db.execute("SELECT DISTINCT currency FROM rows ORDER BY currency")]
    return summary


def write_report(journal: Journal, path: Path) -> None:
    """One line per row, written to a temporary file then renamed: a crash never leaves half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(REPORT_COLUMNS)
            lines = journal.db.execute(
                "SELECT row, beneficiary, phone, amount, currency, payout_id, reference, state, status, error"
                " FROM rows ORDER BY row"
            )
            for row, beneficiary, phone, amount, currency, payout_id, reference, state, status, error in lines:
                writer.writerow([
                    row, _safe(beneficiary), phone, amount, currency, payout_id or "", _safe(reference),
                    _status(state, status), _safe(error or ""),
                ])
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection: `=`, `+`, `-`, `@` first)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
