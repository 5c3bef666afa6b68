"""Whole runs in this process against the mock: report and summary, re-runs, a changed file, 429s."""

from __future__ import annotations

import csv
import datetime
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.bulk.bulk_support import payouts_by_reference, payroll_rows, run_bulk, write_csv

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer


def test_wait_reports_sent_and_failed_rows_and_exits_non_zero(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = payroll_rows(30)
    rows[4][3] = "+2290197800000"  # the mock's sandbox rule: numbers ending in 0000 fail
    payroll = write_csv(tmp_path / "p.csv", rows)
    report = tmp_path / "out" / "report.csv"
    outcome = run_bulk(fedapay_mock, str(payroll), "--wait", "--report", str(report), monkeypatch=monkeypatch)
    assert outcome.code == 1  # not everything was sent
    assert "sent: 29 (" in outcome.out
    assert "failed: 1 (1,400 XOF)" in outcome.out
    with report.open(encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    assert [line["row"] for line in lines] == [str(n) for n in range(2, 32)]
    failed = lines[4]
    assert failed["status"] == "failed"
    assert "0000 always fail" in failed["error"]
    assert {line["status"] for line in lines[:4]} == {"sent"}
    by_reference = payouts_by_reference(fedapay_mock)
    assert all(len(by_reference[line["reference"]]) == 1 for line in lines)
    assert {int(line["payout_id"]) for line in lines} == {p[0]["id"] for p in by_reference.values()}


def test_a_rerun_of_a_finished_file_sends_nothing(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(20)))
    assert run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch).code == 0
    before = fedapay_mock.stats()["requests"]
    again = run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch)
    assert again.code == 0
    assert fedapay_mock.stats()["requests"] == before


def test_a_changed_file_is_refused_with_the_rows_that_differ(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = payroll_rows(10)
    payroll = tmp_path / "p.csv"
    write_csv(payroll, rows)
    assert run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch).code == 0
    before = fedapay_mock.stats()["requests"]
    rows[3][4] = "9999"
    write_csv(payroll, [*rows, payroll_rows(11)[10]])
    outcome = run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch)
    assert outcome.code == 2
    assert "row 5: row: differs from the row the journal recorded" in outcome.err
    assert "row 12: row: is new" in outcome.err
    assert "row 2:" not in outcome.err
    assert fedapay_mock.stats()["requests"] == before


def test_another_base_url_with_the_same_journal_is_refused(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fedapay_mock.server import run_mock

    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(3)))
    assert run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch).code == 0
    with run_mock() as other:
        outcome = run_bulk(other, payroll, monkeypatch=monkeypatch)
        assert outcome.code == 2
        assert "nothing was sent" in outcome.err
        assert other.stats()["requests"] == {}


def test_rate_limits_slow_the_run_down_instead_of_failing_rows(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # More 429s than the client retries on its own: the run as a whole pauses and goes on.
    fedapay_mock.arm_fault("create_payout", "status", times=12, status=429, retry_after=0)
    fedapay_mock.arm_fault("start_payouts", "status", times=4, status=429, retry_after=0)
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(10)))
    outcome = run_bulk(fedapay_mock, payroll, "--concurrency", "2", monkeypatch=monkeypatch)
    assert outcome.code == 0, outcome.out + outcome.err
    assert "rate limited" in outcome.out
    stats = fedapay_mock.stats()
    assert stats["created"] == 10
    assert stats["started"] == 10


def test_schedule_at_schedules_every_row(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    when = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=2)).replace(microsecond=0)
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(5)))
    outcome = run_bulk(fedapay_mock, payroll, "--schedule-at", when.isoformat(), monkeypatch=monkeypatch)
    assert outcome.code == 0, outcome.err
    stats = fedapay_mock.stats()
    assert stats["by_status"] == {"scheduled": 5}


def test_a_row_refused_by_the_server_is_retried_by_the_next_run(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fedapay_mock.arm_fault("create_payout", "status", times=1, status=422)
    payroll = tmp_path / "p.csv"
    write_csv(payroll, payroll_rows(4))
    first = run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch)
    assert first.code == 1
    assert "not created (refused) 1" in first.out
    second = run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch)
    assert second.code == 0, second.out
    assert fedapay_mock.stats()["created"] == 4
    shutil.rmtree(tmp_path)


def test_dropped_replies_to_creates_and_starts_pay_each_row_once(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # FedaPay stores the payout (or starts the group) and the connection drops before the reply.
    fedapay_mock.arm_fault("create_payout", "drop_after_store", times=3)
    fedapay_mock.arm_fault("start_payouts", "drop_after_store", times=1)
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(12)))
    outcome = run_bulk(fedapay_mock, payroll, "--concurrency", "3", monkeypatch=monkeypatch)
    assert outcome.code == 0, outcome.out + outcome.err
    stats = fedapay_mock.stats()
    assert stats["created"] == 12
    assert stats["started"] == 12
    assert stats["idempotent_replays"] == 3  # each dropped create was answered by replaying its key
    assert all(len(payouts) == 1 for payouts in payouts_by_reference(fedapay_mock).values())


def test_the_library_form_pays_a_file(fedapay_mock: MockServer, tmp_path: Path) -> None:
    from fedapay_bulk import BulkOptions, pay_file

    from tests.bulk.bulk_support import API_KEY

    payroll = write_csv(tmp_path / "p.csv", payroll_rows(6))
    result = pay_file(payroll, BulkOptions(wait=True), api_key=API_KEY, base_url=fedapay_mock.base_url)
    assert result.complete
    assert result.summary is not None
    assert result.summary.sent.count == 6
    assert result.summary.sent.amount == sum(1000 + i * 100 for i in range(6))
    assert fedapay_mock.stats()["by_status"] == {"sent": 6}
