"""A start FedaPay refuses for some payouts of a group (its 3-payouts-per-number rule, a 422 naming
`payouts[i].id`) holds back only those: the others start, the refused ones are reported with FedaPay's reason
and tried again by the next run; nothing is ever started twice."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.bulk.bulk_support import payouts_by_reference, payroll_rows, run_bulk, write_csv

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

NUMBER = "+22997808080"


def _report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_payout_refused_at_start_does_not_hold_back_its_group(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = [["Ada", "Lovelace", "", NUMBER, str(1000 + i), "moov"] for i in range(3)]
    assert run_bulk(fedapay_mock, str(write_csv(tmp_path / "a.csv", earlier)), monkeypatch=monkeypatch).code == 0
    rows = [["Ada", "Lovelace", "", NUMBER, "5000", "moov"], *payroll_rows(30)]  # a 4th payout to NUMBER today
    payroll = str(write_csv(tmp_path / "b.csv", rows))
    report = tmp_path / "r.csv"
    first = run_bulk(fedapay_mock, payroll, "--report", str(report), monkeypatch=monkeypatch)
    assert first.code == 1, first.out + first.err
    assert "by status: not started (refused) 1, started 30" in first.out
    stats = fedapay_mock.stats()
    assert stats["started"] == 3 + 30
    assert stats["by_status"]["pending"] == 1
    refused = _report(report)[0]
    assert refused["status"] == "not started (refused)"
    assert refused["payout_id"]
    assert f"{NUMBER} already has 3 payouts within 24 hours" in refused["error"]
    again = run_bulk(fedapay_mock, payroll, "--report", str(report), monkeypatch=monkeypatch)
    assert again.code == 1, again.out + again.err  # tried again, refused again: still reported
    assert "not started (refused) 1" in again.out
    after = fedapay_mock.stats()
    assert after["started"] == stats["started"]
    assert after["created"] == stats["created"]
    assert after["requests"]["start_payouts"] == stats["requests"]["start_payouts"] + 1  # the refused one alone
    fedapay_mock.advance_clock(25 * 3600)  # a day later FedaPay's rule lets it go
    last = run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch)
    assert last.code == 0, last.out + last.err
    assert fedapay_mock.stats()["started"] == 3 + 31
    assert all(len(payouts) == 1 for payouts in payouts_by_reference(fedapay_mock).values())


def test_a_refusal_naming_no_payout_falls_back_to_one_start_each(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 422s that name no item: which payout FedaPay refuses is not said, so each is started alone.
    fedapay_mock.arm_fault("start_payouts", "status", times=5, status=422)
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(12)))
    report = tmp_path / "r.csv"
    first = run_bulk(fedapay_mock, payroll, "--concurrency", "12", "--report", str(report), monkeypatch=monkeypatch)
    assert first.code == 1, first.out + first.err
    refused = [line for line in _report(report) if line["status"] == "not started (refused)"]
    assert 1 <= len(refused) <= 4
    assert all("Simulated HTTP 422" in line["error"] for line in refused)
    assert fedapay_mock.stats()["started"] == 12 - len(refused)
    again = run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch)
    assert again.code == 0, again.out + again.err
    stats = fedapay_mock.stats()
    assert stats["started"] == 12
    assert stats["payouts_total"] == 12
    assert "pending" not in stats["by_status"]
