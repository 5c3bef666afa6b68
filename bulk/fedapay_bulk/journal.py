"""The journal: one SQLite file (the standard library's) recording each row's progress, so a run killed at
any instant resumes where it was and pays each row exactly once.

Row states: `validated` (nothing sent), `creating` (a create may have been sent: on resume it is looked
up by its merchant reference before anything else), `created` (payout id known, pending), `refused`
(the server refused the create: nothing exists, a re-run tries again with the same idempotency key),
`starting` (a start may have been sent: on resume each payout is retrieved), `started` (FedaPay has it:
started, scheduled, sent or failed, in `status`), `conflict` (needs a person: see `error`).

Each state change is committed before the request it announces is sent (`creating`, `starting`) or
right after its reply (`created`, `started`), in WAL mode: a `kill -9` loses nothing committed. With
`synchronous=NORMAL` a power cut may lose the last commits: the run then redoes work, which the
deterministic idempotency keys and the merchant-reference lookup make harmless.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .checks import MAX_PER_NUMBER, Planned
from .errors import FileChangedError, Problem

VERSION = "1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    row INTEGER PRIMARY KEY,
    digest TEXT NOT NULL,
    reference TEXT,
    user_reference INTEGER NOT NULL,
    create_json BLOB NOT NULL,
    scheduled_at TEXT,
    phone TEXT NOT NULL,
    beneficiary TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    mode TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'validated',
    payout_id INTEGER,
    status TEXT,
    error TEXT,
    fees INTEGER,
    amount_debited INTEGER
);
CREATE TABLE IF NOT EXISTS problems (row INTEGER, field TEXT, message TEXT, warning INTEGER);
"""
INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS rows_reference ON rows(reference);
CREATE INDEX IF NOT EXISTS rows_state ON rows(state, row);
CREATE INDEX IF NOT EXISTS rows_payout ON rows(payout_id);
"""
FINAL_STATUSES = frozenset({"sent", "failed"})


@dataclass(frozen=True, slots=True)
class JournalRow:
    row: int
    reference: str
    create: dict[str, Any]
    scheduled_at: str | None
    amount: int
    state: str
    payout_id: int | None
    status: str | None


def _connect(path: Path, *, durable: bool) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    if durable:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
    else:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
    db.executescript(SCHEMA)
    return db


class Staging:
    """The rows of one reading of the file, with every problem found; becomes the journal if all is well."""

    def __init__(self, path: Path) -> None:
        self.path = path
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        self.db = _connect(path, durable=False)
        self.db.execute("BEGIN")

    def add(self, planned: Planned) -> None:
        self.db.execute(
            "INSERT INTO rows (row, digest, reference, user_reference, create_json, scheduled_at, phone, beneficiary,"
            " amount, currency, mode) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                planned.row, planned.digest, planned.reference, planned.reference is not None,
                orjson.dumps(planned.create), planned.scheduled_at, planned.phone, planned.beneficiary,
                planned.amount, planned.currency, planned.mode,
            ),
        )

    def problem(self, problem: Problem) -> None:
        self.db.execute(
            "INSERT INTO problems VALUES (?, ?, ?, ?)", (problem.row, problem.field, problem.message, problem.warning)
        )

    def finish(self, allow_duplicates: bool) -> list[Problem]:
        """Derive references, run the checks across rows; every problem, errors and warnings, by row."""
        db = self.db
        # A row without a reference gets one from its content and its rank among identical rows: the same
        # row of the same file always gets the same reference (a re-run finds its payout), even if rows
        # are inserted before it.
        db.execute(
            "UPDATE rows SET reference = 'fpb-' || substr(r.digest, 1, 24) || '-' || r.n FROM"
            " (SELECT row, digest, ROW_NUMBER() OVER (PARTITION BY digest ORDER BY row) AS n FROM rows"
            "  WHERE user_reference = 0) AS r WHERE r.row = rows.row"
        )
        for row, reference, first in db.execute(
            "SELECT row, reference, first FROM (SELECT row, reference, first_value(row) OVER ("
            " PARTITION BY reference ORDER BY row) AS first FROM rows) WHERE row != first ORDER BY row"
        ).fetchall():
            self.problem(Problem(row, "reference", f"{reference!r} is also the reference of row {first}"))
        for row, number, n in db.execute(
            "SELECT row, phone, n FROM (SELECT row, phone, ROW_NUMBER() OVER (PARTITION BY phone ORDER BY row) AS n"
            " FROM rows) WHERE n > ? ORDER BY row",
            (MAX_PER_NUMBER,),
        ).fetchall():
            self.problem(Problem(
                row, "phone number",
                f"payout number {n} to {number} in this file: FedaPay allows at most {MAX_PER_NUMBER} per number"
                " in 24 hours",
            ))
        for row, first, amount, currency in db.execute(
            "SELECT row, first, amount, currency FROM (SELECT row, amount, currency, first_value(row) OVER ("
            " PARTITION BY phone, amount, currency ORDER BY row) AS first FROM rows) WHERE row != first ORDER BY row"
        ).fetchall():
            self.problem(Problem(
                row, "duplicate",
                f"same beneficiary and amount ({amount} {currency}) as row {first}"
                + ("" if allow_duplicates else ": pass --allow-duplicates if both are meant"),
                warning=True,
            ))
        db.execute("COMMIT")
        return [
            Problem(row, field, message, bool(warning))
            for row, field, message, warning in db.execute(
                "SELECT row, field, message, warning FROM problems ORDER BY row, rowid"
            )
        ]

    def totals(self) -> list[tuple[str, str, int, int]]:
        """(mode, currency, count, sum) per mode and currency."""
        return self.db.execute(
            "SELECT mode, currency, count(*), sum(amount) FROM rows GROUP BY mode, currency ORDER BY mode, currency"
        ).fetchall()

    def differences(self, journal: Path) -> list[Problem]:
        """Rows that differ from those the existing journal records (changed, added or removed)."""
        db = self.db
        db.execute("ATTACH DATABASE ? AS old", (str(journal),))
        try:
            found = [
                Problem(row, "row", "differs from the row the journal recorded")
                for (row,) in db.execute(
                    "SELECT n.row FROM rows n JOIN old.rows o ON o.row = n.row WHERE o.digest != n.digest"
                    " OR coalesce(o.reference, '') != coalesce(n.reference, '')"
                )
            ]
            found += [
                Problem(row, "row", "is new: the journal has no such row")
                for (row,) in db.execute("SELECT row FROM rows WHERE row NOT IN (SELECT row FROM old.rows)")
            ]
            found += [
                Problem(row, "row", "is missing: the journal recorded it")
                for (row,) in db.execute("SELECT row FROM old.rows WHERE row NOT IN (SELECT row FROM main.rows)")
            ]
        finally:
            db.execute("DETACH DATABASE old")
        return sorted(found, key=lambda p: p.row)

    def close(self, *, remove: bool) -> None:
        self.db.close()
        if remove:
            self.path.unlink(missing_ok=True)

    def become(self, journal: Path, meta: dict[str, str]) -> None:
        """Turn these rows into the journal at `journal`: written in full, synced, then renamed into place."""
        db = self.db
        db.executescript(INDEXES)
        db.execute("BEGIN")
        db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [*meta.items(), ("version", VERSION)])
        db.execute("DELETE FROM problems")
        db.execute("COMMIT")
        db.close()
        with self.path.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(self.path, journal)


class Journal:
    """Each row's progress across runs (see the module docstring for the states)."""

    def __init__(self, path: Path, *, fresh: bool) -> None:
        self.path = path
        self.fresh = fresh  # created by this run: payouts of an earlier, lost journal must be looked up
        self.db = _connect(path, durable=True)

    @staticmethod
    def check_meta(path: Path, file_digest: str) -> None:
        """Refuse a journal of another file or another version (before comparing rows)."""
        db = sqlite3.connect(path)
        try:
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise FileChangedError(
                f"{path} is not a journal of this tool", [Problem(0, "journal", str(exc))]
            ) from None
        finally:
            db.close()
        if meta.get("version") != VERSION:
            raise FileChangedError(
                f"{path} was written by another version of this tool",
                [Problem(0, "journal", f"version {meta.get('version')!r}, expected {VERSION!r}")],
            )

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def count(self, *states: str) -> int:
        marks = ",".join("?" * len(states))
        (n,) = self.db.execute(f"SELECT count(*) FROM rows WHERE state IN ({marks})", states).fetchone()  # noqa: S608
        return int(n)

    def count_unfinished(self) -> int:
        """Started rows whose payout is not yet sent or failed."""
        (n,) = self.db.execute(
            "SELECT count(*) FROM rows WHERE state = 'started' AND (status IS NULL OR status NOT IN ('sent', 'failed'))"
        ).fetchone()
        return int(n)

    def final_count(self) -> int:
        (n,) = self.db.execute("SELECT count(*) FROM rows WHERE status IN ('sent', 'failed')").fetchone()
        return int(n)

    def total(self) -> int:
        (n,) = self.db.execute("SELECT count(*) FROM rows").fetchone()
        return int(n)

    def rows(self, states: Iterable[str], *, chunk: int = 256, unfinished_only: bool = False) -> Iterator[JournalRow]:
        """Rows in `states`, by row number, read `chunk` at a time (never the whole file)."""
        wanted = tuple(states)
        marks = ",".join("?" * len(wanted))
        extra = " AND (status IS NULL OR status NOT IN ('sent', 'failed'))" if unfinished_only else ""
        last = 0
        while True:
            batch = self.db.execute(
                "SELECT row, reference, create_json, scheduled_at, amount, state, payout_id, status FROM rows"  # noqa: S608
                f" WHERE state IN ({marks}){extra} AND row > ? ORDER BY row LIMIT ?",
                (*wanted, last, chunk),
            ).fetchall()
            if not batch:
                return
            for row, reference, create, when, amount, state, payout_id, status in batch:
                yield JournalRow(row, reference, orjson.loads(create), when, amount, state, payout_id, status)
            last = batch[-1][0]

    def by_reference(self, reference: str) -> tuple[int, str, int, int | None] | None:
        """(row, state, amount, payout id) of the row with this merchant reference, if any."""
        found = self.db.execute(
            "SELECT row, state, amount, payout_id FROM rows WHERE reference = ?", (reference,)
        ).fetchone()
        return None if found is None else (found[0], found[1], found[2], found[3])

    def set_state(self, rows: Iterable[int], state: str, *, error: str | None = None) -> None:
        with self._transaction():
            self.db.executemany(
                "UPDATE rows SET state = ?, error = ? WHERE row = ?", [(state, error, row) for row in rows]
            )

    def record(
        self, row: int, state: str, *, payout_id: int | None = None, status: str | None = None,
        error: str | None = None, fees: int | None = None, amount_debited: int | None = None,
    ) -> None:
        self.db.execute(
            "UPDATE rows SET state = ?, payout_id = coalesce(?, payout_id), status = coalesce(?, status), error = ?,"
            " fees = coalesce(?, fees), amount_debited = coalesce(?, amount_debited) WHERE row = ?",
            (state, payout_id, status, error, fees, amount_debited, row),
        )

    def record_many(self, updates: list[dict[str, Any]]) -> None:
        with self._transaction():
            for update in updates:
                self.record(**update)

    def _transaction(self) -> _Transaction:
        return _Transaction(self.db)

    def close(self) -> None:
        self.db.close()


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
