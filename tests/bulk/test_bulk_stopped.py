"""A run that stops after sending never says "nothing was sent": a schedule that passes during a rate-limit
pause is sent now (as any created row whose time has passed), any other error after the first create ends
with the summary, the report and exit 1; and a --report that cannot be written is refused before any request,
or said after the summary when it fails anyway."""

from __future__ import annotations

import csv
import datetime
import math
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fedapay_bulk import engine
from fedapay_bulk.journal import Journal, JournalRow
from fedapay_payouts import InvalidArgumentError

from tests.bulk.bulk_support import payouts_by_reference, payroll_rows, run_bulk, write_csv

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer


def _report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_schedule_passed_during_a_rate_limit_pause_is_sent_now_not_a_configuration_error(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The start is refused with 429 Retry-After: 8; the schedule, 7 s ahead when the run starts (beyond the 5 s
    # under which a start is sent now), has passed when the pause ends. The client's own retries are off, as
    # the reviewer's run had them, so the pause is the run's.
    monkeypatch.setenv("FEDAPAY_MAX_RETRIES", "0")
    when = datetime.datetime.fromtimestamp(math.ceil(time.time()) + 7, datetime.UTC)
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(1)))
    report = tmp_path / "r.csv"
    fedapay_mock.arm_fault("start_payouts", "status", times=1, status=429, retry_after=8)
    outcome = run_bulk(fedapay_mock, payroll, "--schedule-at", when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                       "--report", str(report), monkeypatch=monkeypatch)
    assert outcome.code == 0, outcome.out + outcome.err
    assert "nothing was sent" not in outcome.err
    assert "note: 1 scheduled payout(s) were started after their time had passed" in outcome.out
    assert "by status: started 1" in outcome.out
    (line,) = _report(report)
    assert line["status"] == "started"
    assert line["error"] == (f"scheduled time {when:%Y-%m-%dT%H:%M:%SZ} had passed (or was under 5 s away) when it"
                             " was started: sent now")
    stats = fedapay_mock.stats()
    assert stats["requests"]["start_payouts"] == 2
    assert (stats["created"], stats["started"], stats["scheduled"]) == (1, 1, 0)


@pytest.mark.parametrize(
    "error",
    [InvalidArgumentError("payouts[0].scheduled_at", "is not in the future (2030-01-01T10:00:00Z)"),
     RuntimeError("a bug in the run")],
    ids=["client-refusal", "bug"],
)
def test_an_error_after_the_first_create_ends_with_the_summary_and_the_report(
    error: Exception, fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An error no path of the run expects, raised by the starter once payouts exist: stand-in for any bug
    # (the one the reviewer found raised the client's InvalidArgumentError, which the command took for a
    # configuration error: "nothing was sent", exit 2, no summary).
    async def broken(self: engine.Run, group: list[JournalRow]) -> None:
        raise error

    monkeypatch.setattr(engine.Run, "_start_group", broken)
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(3)))
    report = tmp_path / "r.csv"
    outcome = run_bulk(fedapay_mock, payroll, "--report", str(report), monkeypatch=monkeypatch)
    assert outcome.code == 1, outcome.out + outcome.err
    assert "nothing was sent" not in outcome.err
    assert ("error: the run stopped on an unexpected error after payouts may have been created or started (see the"
            " summary and the report; ") in outcome.err
    assert f"{type(error).__name__}: {error}" in outcome.err
    assert "summary:\n  rows: 3\n" in outcome.out
    assert "by status: pending 3" in outcome.out
    assert f"journal: {tmp_path / 'p.csv.journal.sqlite'}" in outcome.out
    assert [line["status"] for line in _report(report)] == ["pending"] * 3
    assert fedapay_mock.stats()["created"] == 3
    monkeypatch.undo()  # the run fixed: the same command starts them, creating none again
    again = run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch)
    assert again.code == 0, again.out + again.err
    stats = fedapay_mock.stats()
    assert (stats["created"], stats["started"]) == (3, 3)


@pytest.mark.parametrize("report", ["plain-file/r.csv", "plain-file/sub/r.csv"], ids=["folder", "ancestor"])
def test_a_report_whose_folder_cannot_be_made_is_refused_before_any_request(
    report: str, fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "plain-file").write_text("x", encoding="utf-8")
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(2)))
    outcome = run_bulk(fedapay_mock, payroll, "--report", str(tmp_path / report), monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    assert outcome.err == (
        f"error: --report: {tmp_path / report} cannot be written: {tmp_path / 'plain-file'} is a file, not a folder;"
        " name a file in a folder; nothing was sent\n"
    )
    assert fedapay_mock.stats()["requests"] == {}
    assert not (tmp_path / "p.csv.journal.sqlite").exists()


def test_a_report_folder_that_is_missing_is_made(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(2)))
    report = tmp_path / "out" / "november" / "r.csv"
    outcome = run_bulk(fedapay_mock, payroll, "--report", str(report), monkeypatch=monkeypatch)
    assert outcome.code == 0, outcome.out + outcome.err
    assert len(_report(report)) == 2
    assert [path.name for path in report.parent.iterdir()] == ["r.csv"]  # no probe file left behind


def test_a_report_that_fails_after_paying_is_said_after_the_summary(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The folder is fine when the run starts, and replaced by a plain file while it pays.
    folder = tmp_path / "out"
    folder.mkdir()
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(2)))
    fedapay_mock.arm_fault("create_payout", "delay_before_reply", times=2, delay=1.0)

    def swap() -> None:
        deadline = time.monotonic() + 30
        while not fedapay_mock.stats()["requests"].get("create_payout") and time.monotonic() < deadline:
            time.sleep(0.01)
        shutil.rmtree(folder)
        folder.write_text("not a folder", encoding="utf-8")

    swapper = threading.Thread(target=swap)
    swapper.start()
    try:
        outcome = run_bulk(fedapay_mock, payroll, "--report", str(folder / "r.csv"), monkeypatch=monkeypatch)
    finally:
        swapper.join()
    assert outcome.code == 1, outcome.out + outcome.err
    assert "summary:\n  rows: 2\n" in outcome.out
    assert "by status: started 2" in outcome.out
    assert f"journal: {tmp_path / 'p.csv.journal.sqlite'}" in outcome.out
    assert "report:" not in outcome.out
    (error,) = [line for line in outcome.err.splitlines() if line.startswith("error:")]
    assert error.startswith(f"error: --report {folder / 'r.csv'} could not be written: ")
    assert error.endswith("; the run itself is as summarized above (re-run the same command with another --report"
                          " to write it: nothing is paid twice)")
    assert "Traceback" not in outcome.err
    assert len(payouts_by_reference(fedapay_mock)) == 2


def test_an_error_the_run_cannot_convert_is_one_line_after_the_journals_summary(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The journal cannot be closed cleanly after paying (stand-in for a disk error at the very end): the run's
    # result is lost, so the command reads the journal for the summary, and says what may have been sent.
    def broken(self: Journal) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Journal, "end_run", broken)
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(2)))
    outcome = run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch)
    assert outcome.code == 1, outcome.out + outcome.err
    assert outcome.out.startswith("summary:\n  rows: 2\n")
    assert f"journal: {tmp_path / 'p.csv.journal.sqlite'}" in outcome.out
    (error,) = [line for line in outcome.err.splitlines() if line.startswith("error:")]
    assert error.startswith("error: the run stopped on an unexpected error (OperationalError: disk I/O error);"
                            " payouts may have been created or started")
    assert "nothing was sent" not in outcome.err
    assert fedapay_mock.stats()["started"] == 2
