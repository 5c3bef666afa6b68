"""Reading and checking the whole file before anything is sent, and binding it to its journal.

The rows go into a staging SQLite file (never all in memory); the checks that span rows (references,
3 per number, duplicates) are SQL over it. A valid file with no journal becomes the journal (renamed
into place only when complete); a valid file with a journal must match it row for row.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
from fedapay_payouts import InvalidArgumentError

from .checks import Defaults, OfflineClient, Planned, RowChecker, late
from .errors import BulkError, FileChangedError, FileInvalidError, OptionsChangedError, Problem
from .journal import Journal, Staging, check_files
from .paths import file_kind
from .report import unsafe_target
from .rows import RowReader, file_digest
from .when import parse_schedule, wire


@dataclass(frozen=True, slots=True)
class Prepared:
    """A checked file: its journal (None for a dry run), totals per mode and currency, and the warnings."""

    journal: Journal | None
    totals: list[tuple[str, str, int, int]]
    warnings: list[Problem]


def default_journal(path: Path, batch: str) -> Path:
    return path.with_name(f"{path.name}{'.' + batch if batch else ''}.journal.sqlite")


def prepare(
    path: Path, defaults: Defaults, *, journal_path: Path | None, dry_run: bool, allow_duplicates: bool,
    batch: str = "", send_late: bool = False,
) -> Prepared:
    """Check every row; raise `FileInvalidError` / `FileChangedError` with every problem, or return the journal.

    A scheduled time that has passed is refused only for rows not yet created (a new journal: every row;
    a resumed one: `validated`, `refused` and `creating` rows), unless `send_late`: then they are sent now.
    For a real run the caller holds the journal's lock (`lock.py`).
    """
    check_paths(path, journal_path)
    try:
        return _prepare(path, defaults, journal_path, dry_run, allow_duplicates, batch, send_late)
    except sqlite3.Error as exc:  # the journal's folder, disk or file, not the payroll file
        raise BulkError(
            f"cannot write the journal {journal_path}: {exc}; nothing was sent",
            [Problem(0, "--journal", f"{journal_path} must be in a writable folder with free space")],
        ) from None


def check_paths(path: Path, journal_path: Path | None) -> None:
    """The file and the journal named as the operator gave them: one clear problem each, no traceback."""
    if not path.is_file():
        kind = file_kind(path)
        problem = "does not exist" if kind is None else f"is {kind}, not a CSV file"
        raise FileInvalidError(f"cannot read {path}: {problem}", [Problem(0, "FILE.csv", f"{path} {problem}")])
    if journal_path is None:
        return
    if journal_path.is_dir():
        raise BulkError(f"--journal {journal_path} is a folder", [Problem(
            0, "--journal", "must name a file (e.g. FOLDER/payroll.journal.sqlite), not a folder")])
    if not journal_path.parent.is_dir():
        raise BulkError(f"--journal {journal_path}: its folder does not exist", [Problem(
            0, "--journal", f"{journal_path.parent} does not exist")])


def check_report(path: Path, journal_path: Path | None, report: Path | None) -> None:
    """`InvalidArgumentError` naming `report` if writing it would replace the payroll file, the journal or one
    of the files SQLite and the lock keep beside it (by any name: a symlink or a hard link is the same file)."""
    if report is None:
        return
    if report.is_dir():
        raise InvalidArgumentError("report", f"{report} is a folder: name a file (e.g. report.csv)")
    kept: list[tuple[Path, str]] = [(path, "the payroll file being paid")]
    if journal_path is not None:
        for journal in {journal_path, Path(os.path.realpath(journal_path))}:  # the lock uses the real path
            kept += [
                (journal, "this run's journal"),
                (Path(f"{journal}-wal"), "the journal's WAL"),
                (Path(f"{journal}-shm"), "the journal's shared-memory index"),
                (Path(f"{journal}.lock"), "the journal's lock"),
                (journal.with_name(journal.name + ".staging"), "the journal's staging file"),
            ]
    target = os.path.realpath(report)
    for guarded, what in kept:
        same = os.path.realpath(guarded) == target
        if not same and report.exists() and guarded.exists():
            same = os.path.samefile(report, guarded)
        if same:
            raise InvalidArgumentError(
                "report", f"{report} is {what}: the report would overwrite it; name another file (e.g. report.csv)"
            )
    unsafe = unsafe_target(report)
    if unsafe is not None:  # a link, a FIFO, a device (`/dev/stdout`), another payroll's file: replaced, not written
        raise InvalidArgumentError("report", unsafe)
    _check_writable(report)


def _check_writable(report: Path) -> None:
    """`InvalidArgumentError` naming `report` unless its folder can take it, checked before any request: the
    folder (or, when it is still to be made, its nearest existing ancestor) must be a folder in which a file can
    be created (a probe file, removed at once: permissions, a read-only disk and root's rights all answer)."""
    existing = report.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InvalidArgumentError(
            "report", f"{report} cannot be written: {existing} is a file, not a folder; name a file in a folder"
        )
    try:
        handle, probe = tempfile.mkstemp(prefix=".fedapay-bulk-report-", suffix=".tmp", dir=existing)
    except OSError as exc:
        raise InvalidArgumentError(
            "report", f"{report} cannot be written: no file can be created in {existing} ({exc.strerror or exc})"
        ) from None
    os.close(handle)
    Path(probe).unlink(missing_ok=True)


# The options that shape a row without its own value (`Defaults`): the field, and the option naming it.
ROW_OPTIONS = (("mode", "--mode"), ("currency", "--currency"), ("country", "--country"),
               ("scheduled_at", "--schedule-at"))


def _normal(name: str, value: str | None) -> str | None:
    """An option's value as it shapes the rows: the same time in any form, a country or currency in any case."""
    if not value:
        return None
    if name == "scheduled_at":
        try:
            return wire(parse_schedule(value))
        except ValueError:
            return value
    return value.lower() if name == "country" else value.upper() if name == "currency" else value


def recorded_options(defaults: Defaults) -> str:
    """The options a new journal's rows were read with, kept in its meta (`options`, JSON)."""
    return orjson.dumps({name: _normal(name, getattr(defaults, name)) for name, _ in ROW_OPTIONS}).decode()


def _same_file(
    path: Path, journal_path: Path, meta: dict[str, str], defaults: Defaults, batch: str, rows: int
) -> BulkError:
    """The refusal of the very file a journal records (the same bytes), whose rows read differently: this run's
    options differ from the journal's run. Never "the file differs": the operator must not restore or replace a
    file that is the right one (nor delete the journal, which would pay its rows again), only give the options
    back. A journal made before its options were recorded cannot name them."""
    try:
        kept = orjson.loads(meta["options"])
    except (KeyError, orjson.JSONDecodeError):
        kept = None
    if not isinstance(kept, dict):
        return OptionsChangedError(
            f"{path} is unchanged (the same bytes its journal {journal_path} records), but {rows} row(s) read"
            " differently with this run's options; nothing was sent. Re-run it with the options the journal's run"
            " was given (--mode, --currency, --country, --schedule-at, --batch: this journal does not record them)."
            " Keep the journal: it is what stops a paid row from being paid again.",
            [Problem(0, "options", "differ from the journal's run (this journal does not record which)")],
        )
    given: dict[str, str | None] = {name: _normal(name, getattr(defaults, name)) for name, _ in ROW_OPTIONS}
    given["batch"], kept["batch"] = batch or None, meta.get("batch") or None
    options = (*ROW_OPTIONS, ("batch", "--batch"))
    changed = [(option, kept.get(name), given[name]) for name, option in options if kept.get(name) != given[name]]
    if not changed:
        return BulkError(
            f"{path} is unchanged (the same bytes its journal {journal_path} records) and so are the options, yet"
            f" {rows} row(s) read differently (a journal of another release of this tool?); nothing was sent."
            " Keep the journal: it is what stops a paid row from being paid again.",
            [Problem(0, "journal", "its rows differ from this file's as read now")],
        )
    return OptionsChangedError(
        f"{path} is unchanged (the same bytes its journal {journal_path} records), but this run's"
        f" {', '.join(option for option, _, _ in changed)} {'differs' if len(changed) == 1 else 'differ'} from the"
        f" journal's run, so {rows} row(s) would be paid differently; nothing was sent. Re-run it with the journal's"
        " options to finish it: "
        + ", ".join(f"{option} {was}" if was else f"without {option}" for option, was, _ in changed)
        + ". Keep the journal: it is what stops a paid row from being paid again.",
        [Problem(0, option, f"{now or 'not given'} in this run; {was or 'not given'} in the journal's run")
         for option, was, now in changed],
    )


def _late(staging: Staging, rows: set[int] | None = None) -> list[Problem]:
    """Rows (of `rows`, or all) whose scheduled time is not in the future, one problem each."""
    now = time.time()
    return [
        Problem(row, "scheduled at", f"{when} (UTC) has passed and the row is not created yet: pass --send-late"
                " to send it now")
        for row, when in staging.scheduled() if (rows is None or row in rows) and late(when, now)
    ]


def _prepare(
    path: Path, defaults: Defaults, journal_path: Path | None, dry_run: bool, allow_duplicates: bool, batch: str,
    send_late: bool,
) -> Prepared:
    try:
        digest = file_digest(path)
    except OSError as exc:
        raise FileInvalidError(f"cannot read {path}", [Problem(0, "FILE.csv", exc.strerror or str(exc))]) from None
    if dry_run:
        workdir = tempfile.TemporaryDirectory(prefix="fedapay-bulk-")
        staging_path = Path(workdir.name) / "staging.sqlite"
    else:
        workdir = None
        assert journal_path is not None
        check_files(journal_path)  # before anything opens it: a WAL is applied only to its own journal
        staging_path = journal_path.with_name(journal_path.name + ".staging")
    # The very file an existing journal records (its bytes): the journal's release checked and accepted its rows,
    # and some may be paid or in doubt. The checks added since (hidden characters, strict quoting, numbers counted
    # by wallet) must not strand them: their findings are warnings, the file read as that release read it, so the
    # run can look up, finish and report (a file refused here could only be edited, then refused as changed).
    resume = journal_path is not None and journal_path.exists() and (
        Journal.check_meta(journal_path).get("file_sha256") == digest)
    staging = Staging(staging_path)
    keep = False
    try:
        reader = RowReader(path, resume=resume)
        offline = OfflineClient()
        checker = RowChecker(defaults, offline, batch=batch, resume=resume)
        try:
            for raw in reader:
                checked = checker.check(raw)
                if isinstance(checked, Planned):
                    staging.add(checked)
                else:
                    for problem in checked:
                        staging.problem(problem)
        finally:
            offline.close()
        for problem in [*reader.problems, *checker.warnings]:
            staging.problem(problem)
        problems = staging.finish(allow_duplicates, resume=resume)
        if not send_late and (journal_path is None or not journal_path.exists()):
            problems = sorted([*problems, *_late(staging)], key=lambda p: p.row)
        # A resumed file's duplicates were the journal's run's to allow: its rows are kept as it recorded them.
        blocking = [p for p in problems if not p.warning or not (allow_duplicates or resume)]
        if blocking:
            raise FileInvalidError(
                f"{path}: {len({p.row for p in blocking})} row(s) with problems; nothing was sent", problems
            )
        totals = staging.totals()
        if not totals:
            raise FileInvalidError(f"{path} has no rows", [Problem(0, "file", "has a header but no rows")])
        warnings = [p for p in problems if p.warning]
        if dry_run:
            return Prepared(None, totals, warnings)
        assert journal_path is not None
        if journal_path.exists():
            meta = Journal.check_meta(journal_path)
            differences = staging.differences(journal_path)
            if differences and meta.get("file_sha256") == digest:
                raise _same_file(path, journal_path, meta, defaults, batch, len(differences))
            if differences:
                raise FileChangedError(
                    f"{path} differs from the file its journal {journal_path} records ({len(differences)} row(s));"
                    " nothing was sent. Restore the original file and re-run it with this journal to finish it."
                    " Do not pay the changed file with another journal: a row without its own reference gets one"
                    " derived from its content (schedule included), so a changed row would be paid a second time.",
                    differences,
                )
            journal = Journal(journal_path)
            try:
                waiting = set(journal.rows_in(["validated", "refused", "creating"])) if not send_late else set()
                late_rows = _late(staging, waiting) if waiting else []
            except BaseException:
                journal.close()
                raise
            if late_rows:
                journal.close()
                raise FileInvalidError(
                    f"{path}: {len(late_rows)} row(s) not yet created are scheduled at a time that has passed;"
                    " nothing was sent. Re-run with --send-late to send them now (rows already created keep"
                    " their schedule, or are sent now if it has passed).",
                    late_rows,
                )
            return Prepared(journal, totals, warnings)
        staging.become(journal_path, {
            "file_sha256": digest, "file_name": path.name, "batch": batch, "options": recorded_options(defaults),
        })
        keep = True
        return Prepared(Journal(journal_path), totals, warnings)
    finally:
        if not keep:
            staging.close(remove=True)
        if workdir is not None:
            workdir.cleanup()
