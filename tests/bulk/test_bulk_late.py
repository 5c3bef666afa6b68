"""A scheduled payout sent now (its time passed before its start) is said so in the report's error column for good:
the note survives every later reply about the payout (a poll, a resumed run's check, FedaPay's failure message),
and a journal written before the note had a column of its own keeps it too."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fedapay_mock import MockOptions

from tests.bulk.bulk_support import HEADER, payroll_rows, run_bulk, run_until, write_csv

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

PAST = "2020-01-01 10:00:00 UTC"
LATE = "scheduled time 2020-01-01T10:00:00Z had passed (or was under 5 s away) when it was started: sent now"
# The mock's sandbox rule: a number ending in 0000 always fails, with this message.
FAILURE = "The operator refused the transfer (sandbox rule: numbers ending in 0000 always fail)."


@pytest.fixture(scope="module")
def fedapay_mock_options() -> MockOptions:
    return MockOptions(freeze_clock=True)  # started payouts stay `started` until the test moves the clock


def _report(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [(line["status"], line["error"]) for line in csv.DictReader(handle)]


def _late_payroll(tmp_path: Path) -> str:
    rows = [[*row, PAST] for row in payroll_rows(2)]
    rows[1][3] = "+2290197800000"  # fails at FedaPay once sent
    return str(write_csv(tmp_path / "p.csv", rows, header=[*HEADER, "Scheduled at"]))


def test_the_sent_now_note_stays_in_the_report_once_the_payout_is_polled(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = _late_payroll(tmp_path)
    report = tmp_path / "r.csv"
    first = run_bulk(fedapay_mock, payroll, "--send-late", "--report", str(report), monkeypatch=monkeypatch)
    assert first.code == 0, first.out + first.err
    assert "note: 2 scheduled payout(s) were started after their time had passed" in first.out
    assert _report(report) == [("started", LATE), ("started", LATE)]
    fedapay_mock.advance_clock(60)  # FedaPay sends the first, fails the second
    for _ in range(2):  # polled by --wait, then read again by a run with nothing left to do
        waited = run_bulk(fedapay_mock, payroll, "--wait", "--wait-timeout", "30", "--report", str(report),
                          monkeypatch=monkeypatch)
        assert waited.code == 1, waited.out + waited.err  # one failed
        assert _report(report) == [("sent", LATE), ("failed", f"{FAILURE}; {LATE}")]
    stats = fedapay_mock.stats()
    assert (stats["created"], stats["started"]) == (2, 2)


def test_a_journal_written_before_the_note_had_its_own_column_keeps_it(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = _late_payroll(tmp_path)
    report = tmp_path / "r.csv"
    assert run_bulk(fedapay_mock, payroll, "--send-late", monkeypatch=monkeypatch).code == 0
    journal = tmp_path / "p.csv.journal.sqlite"
    with sqlite3.connect(journal) as db:  # as the previous version wrote it: the note in `error`, no new columns
        db.execute("UPDATE rows SET error = late")
        db.execute("ALTER TABLE rows DROP COLUMN late")
        db.execute("ALTER TABLE rows DROP COLUMN gone")
    db.close()
    fedapay_mock.advance_clock(60)
    waited = run_bulk(fedapay_mock, payroll, "--wait", "--wait-timeout", "30", "--report", str(report),
                      monkeypatch=monkeypatch)
    assert waited.code == 1, waited.out + waited.err
    assert _report(report) == [("sent", LATE), ("failed", f"{FAILURE}; {LATE}")]
    assert fedapay_mock.stats()["created"] == 2


def test_the_note_stays_when_a_run_killed_during_its_start_is_resumed(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = _late_payroll(tmp_path)
    report = tmp_path / "r.csv"
    fedapay_mock.arm_fault("start_payouts", "delay_before_reply", delay=5)  # FedaPay starts them, the reply waits
    assert run_until(fedapay_mock, [payroll, "--send-late"], lambda stats: stats["started"] == 2) is None  # killed
    resumed = run_bulk(fedapay_mock, payroll, "--report", str(report), monkeypatch=monkeypatch)  # checks each one
    assert resumed.code == 0, resumed.out + resumed.err
    assert _report(report) == [("started", LATE), ("started", LATE)]
    stats = fedapay_mock.stats()
    assert (stats["created"], stats["started"], stats["requests"]["start_payouts"]) == (2, 2, 1)
