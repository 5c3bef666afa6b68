"""`--report` names a regular file or nothing (fifteenth review): the report is written beside its path and renamed
over it, so `--report /dev/stdout` run as root replaced /dev/stdout with a plain file, and a FIFO, a device or a
symbolic link was replaced rather than written. Each is refused before any request, naming `--report`; the
run's own write asks again (the target may appear while the run lasts). Real /dev files are never touched here:
a FIFO and links in the test's folder stand for them."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fedapay_bulk.journal import Journal
from fedapay_bulk.report import write_report

from tests.bulk.bulk_support import payroll_rows, run_bulk, write_csv

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _link_to_fifo(path: Path) -> Path:
    path.symlink_to(_fifo(path.with_name("fifo")))
    return path


def _link_to_file(path: Path) -> Path:
    target = path.with_name("kept.csv")
    target.write_text("kept\n", encoding="utf-8")
    path.symlink_to(target)
    return path


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (_fifo, "is a FIFO (named pipe): the report is a file written beside it and renamed over it, which would"
                " replace it; name a regular file (e.g. report.csv)"),
        (_link_to_fifo, "is a symbolic link (to "),
        (_link_to_file, "is a symbolic link (to "),
    ],
    ids=["fifo", "link-to-fifo", "link-to-file"],
)
def test_a_report_path_naming_no_regular_file_is_refused_before_any_request(
    make: Callable[[Path], Path], said: str, fedapay_mock: MockServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payroll = write_csv(tmp_path / "p.csv", payroll_rows(2))
    target = make(tmp_path / "out.csv")
    kind = os.lstat(target).st_mode
    outcome = run_bulk(fedapay_mock, str(payroll), "--report", str(target), monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    assert outcome.err.startswith(f"error: --report: {target} {said}"), outcome.err
    assert len(outcome.err.splitlines()) == 1
    assert "nothing was sent" in outcome.err
    if os.path.islink(target):  # sixteenth review: "name the file itself" sent the operator to /proc/self/fd/1
        assert "the report must be a regular file path (e.g. report.csv)" in outcome.err, outcome.err
        assert "name the file itself" not in outcome.err
    assert fedapay_mock.stats()["requests"] == {}
    assert os.lstat(target).st_mode == kind  # still the FIFO or the link it was
    if (tmp_path / "kept.csv").exists():
        assert (tmp_path / "kept.csv").read_text(encoding="utf-8") == "kept\n"


def test_the_runs_own_write_refuses_a_fifo_that_appeared_meanwhile(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = write_csv(tmp_path / "p.csv", payroll_rows(2))
    assert run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch).code == 0
    fifo = _fifo(tmp_path / "out.csv")
    journal = Journal(tmp_path / "p.csv.journal.sqlite")
    try:
        with pytest.raises(OSError, match="is a FIFO"):
            write_report(journal, fifo)
    finally:
        journal.close()
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith("out.csv")) == ["out.csv"]


def test_a_regular_report_file_is_still_replaced(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = write_csv(tmp_path / "p.csv", payroll_rows(2))
    report = tmp_path / "out.csv"
    report.write_text("last month's\n", encoding="utf-8")
    outcome = run_bulk(fedapay_mock, str(payroll), "--report", str(report), monkeypatch=monkeypatch)
    assert outcome.code == 0, outcome.out + outcome.err
    assert report.read_text(encoding="utf-8").startswith("row,beneficiary,phone,")


@pytest.mark.parametrize("other", ["journal", "database", "payroll", "lock"])
def test_another_payrolls_record_is_never_replaced_by_the_report(
    other: str, fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--report` naming another payroll's journal, its lock, an SQLite file or another payroll's CSV replaced it
    with the report and exited 0: that payroll's record of what was paid was gone (seventeenth review)."""
    payroll = write_csv(tmp_path / "p.csv", payroll_rows(2))
    names = {"journal": "c.csv.journal.sqlite", "database": "records.db", "payroll": "june.csv", "lock": "c.lock"}
    target = tmp_path / names[other]
    if other in ("journal", "database"):
        with contextlib.closing(sqlite3.connect(target)) as db:
            db.execute("create table paid (row integer)")
            db.commit()
    elif other == "payroll":
        write_csv(target, payroll_rows(3))
    else:
        target.write_bytes(b"")
    before = target.read_bytes()
    outcome = run_bulk(fedapay_mock, str(payroll), "--report", str(target), monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    assert outcome.err.startswith(f"error: --report: {target} "), outcome.err
    assert target.read_bytes() == before
    assert fedapay_mock.stats()["requests"] == {}
