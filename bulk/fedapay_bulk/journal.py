"""The journal: one SQLite file (the standard library's) recording each row's progress, so a run killed at
any instant resumes where it was and pays each row exactly once.

Row states: `validated` (nothing sent), `creating` (a create may have been sent: on resume it is looked
up by its merchant reference before anything else), `created` (payout id known, pending), `refused`
(the server refused the create: nothing exists, a re-run tries again with the same idempotency key),
`starting` (a start may have been sent: on resume each payout is retrieved), `start_refused` (pending,
FedaPay refused to start it, its reason in `error`: a re-run tries again), `started` (FedaPay has it:
started, scheduled, sent or failed, in `status`), `conflict` (needs a person: see `error`).

Two notes live beside `error`, which each reply rewrites: `late`, why a scheduled payout was sent now
rather than at its time (written before its start; kept through every later reply, cleared only when the
start is proven not to have happened, the row back to `created` or earlier), and `gone`, set on a `conflict`
whose payout FedaPay answered 404 for (each run asks for it again: `engine.py`). Journals written before
them get both columns when opened (`Journal._migrate`), their notes moved from `error`.

Each state change is committed before the request it announces is sent (`creating`, `starting`) or
right after its reply (`created`, `started`), in WAL mode: a `kill -9` loses nothing committed. With
`synchronous=NORMAL` a power cut may lose the last commits: the run then redoes work, which the
deterministic idempotency keys and the merchant-reference lookup make harmless.

The WAL file (`JOURNAL-wal`) holds the last commits of a run that was killed; SQLite applies it to
whatever file sits at the journal's path, and cannot tell whose it is. So the journal tells: each run
starts a generation (`gen`, a random token and a count) written into the journal file itself by a
checkpoint, and the first commit after it (`wal_of`) names that generation inside the WAL. A WAL is
applied only to the journal whose generation it names (`check_files`): a WAL without its journal, or
beside a journal replaced by another file or an older copy, is refused, never applied. A run that did
not end cleanly (`unclean`) whose WAL is gone has lost its last commits: the next run looks every row
up.

The look-up mark (`lookup`): `pending` from the journal's creation until its first look-up completes, and
again after a look-up stopped on payouts it may not count (a payout found for a row this journal never sent
is not this journal's: `engine.py` stops unless the operator says the file's earlier journal was lost);
`adopt`, a look-up to do whose finds are this journal's (its last commits were lost after its first look-up,
or the operator said so); `done`. Completing a look-up is checkpointed at once, so a lost WAL never hides
that a look-up was done (and that creates may have followed).

The target (`target`, `target_use`): the base URL and account the journal pays, bound once a request there
succeeded (`answered`) and marked `payouts`, checkpointed, before its first create is sent there (or a payout
found there is counted as a row's). A journal bound to nothing (a first run that reached no server, or
that the server refused) may be used at any target; one marked `payouts` never at another (`engine.py`).
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .checks import MAX_PER_NUMBER, Planned
from .errors import FileChangedError, Problem
from .paths import file_kind
from .phones import wallet_key
from .rows import KEPT

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
    amount_debited INTEGER,
    late TEXT,
    gone INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS problems (row INTEGER, field TEXT, message TEXT, warning INTEGER);
"""
INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS rows_reference ON rows(reference);
CREATE INDEX IF NOT EXISTS rows_state ON rows(state, row);
CREATE INDEX IF NOT EXISTS rows_payout ON rows(payout_id);
"""
FINAL_STATUSES = frozenset({"sent", "failed"})
TARGET_ANSWERED = "answered"  # `target_use`: a request to the journal's target succeeded, nothing was sent
TARGET_PAYOUTS = "payouts"  # a create was sent there through the journal (or one of its payouts adopted)
# States of a row for which a payout may exist (`refused`: FedaPay refused its create, nothing exists).
SENT_STATES = ("creating", "created", "starting", "started", "start_refused", "conflict")
# States proving a row's payout was not started (never, or not yet): a `late` note no longer holds for them.
NOT_STARTED = ("validated", "refused", "creating", "created", "start_refused")
# What a journal of an earlier version wrote into `error` for the notes that now have columns of their own.
LATE_ERROR = "scheduled time % sent now"
GONE_ERROR = "payout % no longer exists at FedaPay (%"
GENERATION_COMMITS = 1000  # commits between checkpoints (SQLite's own automatic checkpoints are off)


def sidecars(journal: Path) -> tuple[Path, Path]:
    """SQLite's files beside a journal: its WAL and its shared-memory index."""
    return Path(f"{journal}-wal"), Path(f"{journal}-shm")


def _refuse(journal: Path, summary: str, problems: list[Problem]) -> FileChangedError:
    return FileChangedError(f"{summary}; nothing was sent", problems)


def check_files(journal: Path) -> None:
    """Refuse SQLite files that would be applied to a journal they do not belong to (before any opening).

    Called with the run's lock held: no other run is writing, so a WAL with frames is a killed run's.
    """
    wal, shm = sidecars(journal)
    if not journal.exists():
        left = [p for p in (wal, shm) if p.exists()]
        if left:
            names = " and ".join(str(p) for p in left)
            raise _refuse(journal, f"{names} remain without their journal {journal}", [Problem(
                0, "journal",
                f"{names} hold the last changes of a journal that was deleted or moved after its run was killed;"
                " SQLite would apply them to a new journal. If you moved the journal, put it back with them; if"
                f" you deleted it on purpose, delete {names} too (a new journal looks every row up by reference)",
            )])
        return
    kind = file_kind(journal)
    if kind is not None:
        raise _refuse(journal, f"the journal {journal} is not a file", [Problem(
            0, "--journal", f"is {kind}: name a journal file (e.g. FOLDER/payroll.journal.sqlite)")])
    if not wal.exists() or wal.stat().st_size == 0:
        return
    main = _read_meta(journal, immutable=True)
    generation = main.get("gen")
    if generation is None:  # a journal of a version without generations: nothing to compare
        return
    try:
        applied = _read_meta(journal, immutable=False)
    except sqlite3.DatabaseError as exc:
        applied = {"error": str(exc)}
    if applied.get("wal_of") != generation:
        raise _refuse(journal, f"{wal} is not the log of the journal {journal}", [Problem(
            0, "journal",
            f"{journal} was replaced (by another journal or an older copy) after a run was killed, and that run's"
            f" {wal} remains: applying it would mix two journals. Put back the journal that goes with it, or"
            f" delete {journal}, {wal} and {shm} together (a new journal looks every row up by reference)",
        )])


def _read_meta(journal: Path, *, immutable: bool) -> dict[str, str]:
    """The journal's meta table: from its file alone (`immutable`), or with its WAL applied, read only.

    Neither way writes: a read-only connection never checkpoints a WAL into the file.
    """
    flag = "immutable=1" if immutable else "mode=ro"
    uri = f"file:{urllib.parse.quote(str(journal.resolve()))}?{flag}"
    try:
        db = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise _refuse(journal, f"cannot read the journal {journal}", [Problem(0, "journal", str(exc))]) from None
    try:
        return {str(k): str(v) for k, v in db.execute("SELECT key, value FROM meta").fetchall()}
    except sqlite3.DatabaseError as exc:
        raise _refuse(journal, f"{journal} is not a journal of this tool", [Problem(0, "journal", str(exc))]) from None
    finally:
        db.close()


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


def _also(number: str, first_number: str, first: int) -> str:
    """Said when row `first` writes the same wallet otherwise (`+22997808080` and `+2290197808080`)."""
    return "" if number == first_number else f" (the wallet row {first} writes {first_number})"


class Staging:
    """The rows of one reading of the file, with every problem found; becomes the journal if all is well."""

    def __init__(self, path: Path) -> None:
        self.path = path
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        self.db = _connect(path, durable=False)
        # Each row's wallet (`wallet_of`: Benin's +22997808080 and +2290197808080 are one), what the checks across
        # rows group by. A temporary table: never part of the journal this file becomes.
        self.db.execute("CREATE TEMP TABLE wallets (row INTEGER PRIMARY KEY, wallet TEXT NOT NULL)")
        self.db.execute("BEGIN")

    def add(self, planned: Planned) -> None:
        self.db.execute("INSERT INTO temp.wallets VALUES (?, ?)", (planned.row, wallet_key(planned.phone)))
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

    def finish(self, allow_duplicates: bool, *, resume: bool = False) -> list[Problem]:
        """Derive references, run the checks across rows; every problem, errors and warnings, by row.

        `resume`: these rows are the very file an existing journal records, accepted by the release that made
        it (which counted numbers by their text): more than 3 payouts to one wallet is then a warning."""
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
        # By wallet, not by the number's text: one person's wallet written both ways was paid twice without a
        # warning, and a 4th payout to it passed (FedaPay refused its start, leaving a pending payout).
        for row, number, n, first, first_number in db.execute(
            "SELECT row, phone, n, first, first_phone FROM (SELECT r.row, r.phone, ROW_NUMBER() OVER w AS n,"
            " first_value(r.row) OVER w AS first, first_value(r.phone) OVER w AS first_phone FROM rows r"
            " JOIN temp.wallets USING (row) WINDOW w AS (PARTITION BY wallet ORDER BY r.row)) WHERE n > ? ORDER BY row",
            (MAX_PER_NUMBER,),
        ).fetchall():
            self.problem(Problem(
                row, "phone number",
                f"payout number {n} to {number}{_also(number, first_number, first)} in this file: FedaPay allows at"
                f" most {MAX_PER_NUMBER} per number in 24 hours"
                + (f" (FedaPay may refuse its start){KEPT}" if resume else ""),
                warning=resume,
            ))
        for row, number, first, first_number, amount, currency in db.execute(
            "SELECT row, phone, first, first_phone, amount, currency FROM (SELECT r.row, r.phone, amount, currency,"
            " first_value(r.row) OVER w AS first, first_value(r.phone) OVER w AS first_phone FROM rows r"
            " JOIN temp.wallets USING (row) WINDOW w AS (PARTITION BY wallet, amount, currency ORDER BY r.row))"
            " WHERE row != first ORDER BY row"
        ).fetchall():
            self.problem(Problem(
                row, "duplicate",
                f"same beneficiary and amount ({amount} {currency}) as row {first}{_also(number, first_number, first)}"
                + ("" if allow_duplicates else KEPT if resume else ": pass --allow-duplicates if both are meant"),
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

    def scheduled(self) -> Iterator[tuple[int, str]]:
        """(row, scheduled time in wire form) of each scheduled row."""
        for row, when in self.db.execute(
            "SELECT row, scheduled_at FROM rows WHERE scheduled_at IS NOT NULL ORDER BY row"
        ).fetchall():
            yield int(row), str(when)

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
        marks = [*meta.items(), ("version", VERSION), ("lookup", "pending")]
        db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", marks)
        db.execute("DELETE FROM problems")
        db.execute("COMMIT")
        db.close()
        with self.path.open("rb+") as handle:
            os.fsync(handle.fileno())
        check_files(journal)  # never beside another journal's WAL (and never over a journal)
        if journal.exists():
            raise _refuse(journal, f"{journal} appeared while this run read the file", [])
        os.replace(self.path, journal)


class Journal:
    """Each row's progress across runs (see the module docstring for the states)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = _connect(path, durable=True)
        self.db.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints are ours: each starts a generation
        self._token = secrets.token_hex(8)
        self._generation = 0
        self._commits = 0
        self._migrate()

    def _migrate(self) -> None:
        """Give a journal written before the `late` and `gone` columns both, its notes moved out of `error` (where a
        later reply would erase the late one, and the 404 one could not be told from other conflicts)."""
        columns = {str(column[1]) for column in self.db.execute("PRAGMA table_info(rows)")}
        if {"late", "gone"} <= columns:
            return
        with self._transaction():
            if "late" not in columns:
                self.db.execute("ALTER TABLE rows ADD COLUMN late TEXT")
                self.db.execute(
                    "UPDATE rows SET late = error, error = NULL WHERE state IN ('starting', 'started')"
                    " AND error LIKE ?", (LATE_ERROR,),
                )
            if "gone" not in columns:
                self.db.execute("ALTER TABLE rows ADD COLUMN gone INTEGER NOT NULL DEFAULT 0")
                self.db.execute(
                    "UPDATE rows SET gone = 1 WHERE state = 'conflict' AND payout_id IS NOT NULL AND error LIKE ?",
                    (GONE_ERROR,),
                )

    def begin_run(self) -> None:
        """Mark the journal in use and start a generation; a lost WAL of an unclean run asks for a look-up."""
        lost = self.meta("unclean") == "1" and self.meta("gen") is not None and self.meta("wal_of") != self.meta("gen")
        if lost and self.meta("lookup") != "pending":  # still pending: no look-up completed, so nothing was created
            self.set_meta("lookup", "adopt")
        self.set_meta("unclean", "1")
        self._new_generation()

    def end_run(self) -> None:
        """The run ended without being killed: its WAL is checkpointed into the file."""
        self.set_meta("unclean", "0")
        self._checkpoint()

    @property
    def lookup_pending(self) -> bool:
        return self.meta("lookup") in ("pending", "adopt")

    @property
    def adopts(self) -> bool:
        """Whether the pending look-up counts the payouts it finds as this journal's rows' (see the docstring)."""
        return self.meta("lookup") == "adopt"

    def adopt_existing(self) -> None:
        """The operator says this journal takes over a lost one's payroll: its pending look-up adopts what it finds."""
        if self.meta("lookup") == "pending":
            self.set_meta("lookup", "adopt")

    def lookup_again(self) -> None:
        """A look-up stopped on what it found: the next run looks up again (and adopts no more than this one)."""
        if self.meta("lookup") == "done":
            self.set_meta("lookup", "pending")

    def lookup_done(self) -> None:
        self.set_meta("lookup", "done")
        self._new_generation()  # into the journal file at once: a WAL lost later cannot undo it

    def _new_generation(self) -> None:
        self._generation += 1
        generation = f"{self._token}:{self._generation}"
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('gen', ?)", (generation,))
        self._checkpoint()
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('wal_of', ?)", (generation,))
        self._commits = 0

    def _checkpoint(self) -> None:
        busy, _, _ = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise RuntimeError(f"the journal {self.path} is in use by another connection: cannot checkpoint")

    def _wrote(self) -> None:
        self._commits += 1
        if self._commits >= GENERATION_COMMITS and not self.db.in_transaction:
            self._new_generation()

    @staticmethod
    def check_meta(path: Path) -> dict[str, str]:
        """Refuse a journal of another version (before comparing rows); its meta otherwise: the digest of the
        file it was made from (`file_sha256`), its `batch`, and the options its rows were read with (`options`,
        JSON; absent from a journal made before they were recorded)."""
        meta = _read_meta(path, immutable=False)
        if meta.get("version") != VERSION:
            raise FileChangedError(
                f"{path} was written by another version of this tool",
                [Problem(0, "journal", f"version {meta.get('version')!r}, expected {VERSION!r}")],
            )
        return meta

    def target(self) -> tuple[str, bool] | None:
        """The base URL and account the journal is bound to, and whether a payout may have been created there
        through it (or one of its payouts was counted as a row's); None while it is bound to none: no request
        there has succeeded and no create was sent, so any other target may still be used.

        A journal of an earlier version bound itself before its first request (`target` without
        `target_use`): it counts as unbound only if nothing can have been sent through it, every row
        `validated` and no look-up ever completed (creates follow a completed look-up only)."""
        target = self.meta("target")
        if target is None:
            return None
        use = self.meta("target_use")
        if use is None:
            untouched = self.db.execute("SELECT 1 FROM rows WHERE state != 'validated' LIMIT 1").fetchone() is None
            return None if untouched and self.meta("lookup") == "pending" else (target, True)
        return target, use != TARGET_ANSWERED or self.count(*SENT_STATES) > 0

    def bind(self, target: str, *, payouts: bool) -> None:
        """Bind the journal to `target`: a request there succeeded (`payouts=False`), or a create is about to
        be sent there or one of its payouts counted as a row's (`payouts=True`: checkpointed into the journal
        file before that create, so a WAL lost later never hides it). Never lowered here from payouts to answered
        (`nothing_created` does, on proof); rebinding is `Run.check_target`'s to allow or refuse."""
        use = TARGET_PAYOUTS if payouts else TARGET_ANSWERED
        if self.meta("target") == target and self.meta("target_use") in (use, TARGET_PAYOUTS):
            return
        with self._transaction():
            self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [("target", target), ("target_use", use)])
        if payouts:
            self._new_generation()

    def nothing_created(self) -> None:
        """Each create sent was refused (every row `validated` or `refused`: nothing exists at the target): the
        journal is bound as answered only (committed after those rows' states: a WAL lost with them leaves it
        marked `payouts`)."""
        if self.meta("target_use") == TARGET_PAYOUTS and not self.count(*SENT_STATES):
            self.set_meta("target_use", TARGET_ANSWERED)

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
        self._wrote()

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

    def rows(
        self, states: Iterable[str], *, chunk: int = 256, unfinished_only: bool = False, gone_only: bool = False
    ) -> Iterator[JournalRow]:
        """Rows in `states`, by row number, read `chunk` at a time (never the whole file); `gone_only`: those whose
        payout FedaPay answered 404 for (see the module docstring)."""
        wanted = tuple(states)
        marks = ",".join("?" * len(wanted))
        extra = " AND (status IS NULL OR status NOT IN ('sent', 'failed'))" if unfinished_only else ""
        extra += " AND gone = 1 AND payout_id IS NOT NULL" if gone_only else ""
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

    def by_reference(self, reference: str) -> JournalRow | None:
        """The row with this merchant reference, if any."""
        found = self.db.execute(
            "SELECT row, reference, create_json, scheduled_at, amount, state, payout_id, status FROM rows"
            " WHERE reference = ?", (reference,)
        ).fetchone()
        if found is None:
            return None
        row, reference, create, when, amount, state, payout_id, status = found
        return JournalRow(row, reference, orjson.loads(create), when, amount, state, payout_id, status)

    def rows_in(self, states: Iterable[str]) -> Iterator[int]:
        """The numbers of the rows in `states` (a cursor: never the whole file in memory)."""
        wanted = tuple(states)
        marks = ",".join("?" * len(wanted))
        for (row,) in self.db.execute(f"SELECT row FROM rows WHERE state IN ({marks}) ORDER BY row", wanted):  # noqa: S608
            yield int(row)

    def digest(self, row: int) -> str:
        (found,) = self.db.execute("SELECT digest FROM rows WHERE row = ?", (row,)).fetchone()
        return str(found)

    def set_state(self, rows: Iterable[int], state: str, *, error: str | None = None) -> None:
        """Each of `rows` in `state`, with `error` (the late note kept unless `state` proves it void; `gone` unset)."""
        late = state not in NOT_STARTED
        with self._transaction():
            self.db.executemany(
                "UPDATE rows SET state = ?, error = ?, late = CASE WHEN ? THEN late END, gone = 0 WHERE row = ?",
                [(state, error, late, row) for row in rows],
            )

    def record(
        self, row: int, state: str, *, payout_id: int | None = None, status: str | None = None,
        error: str | None = None, fees: int | None = None, amount_debited: int | None = None,
        late: str | None = None, gone: bool = False,
    ) -> None:
        """A reply about `row`: its state, FedaPay's fields (kept when not given), `error` (replaced), `late` (kept
        when not given, unless `state` proves the start did not happen) and `gone` (set only when given)."""
        self.db.execute(
            "UPDATE rows SET state = ?, payout_id = coalesce(?, payout_id), status = coalesce(?, status), error = ?,"
            " fees = coalesce(?, fees), amount_debited = coalesce(?, amount_debited),"
            " late = CASE WHEN ? THEN coalesce(?, late) END, gone = ? WHERE row = ?",
            (state, payout_id, status, error, fees, amount_debited, state not in NOT_STARTED, late, gone, row),
        )
        self._wrote()

    def record_many(self, updates: list[dict[str, Any]]) -> None:
        with self._transaction():
            for update in updates:
                self.record(**update)

    def _transaction(self) -> _Transaction:
        return _Transaction(self)

    def close(self) -> None:
        self.db.close()


class _Transaction:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.db = journal.db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
        self.journal._wrote()
