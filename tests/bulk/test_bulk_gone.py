"""A payout of the journal that FedaPay no longer has (deleted in the dashboard: 404 for its id) is a final
conflict for a person to check, said in the report: never "unknown (re-run to resolve)" forever, and never
created again on its own (a 404 may also be another account's key at the same base URL)."""

from __future__ import annotations

import csv
from pathlib import Path

import httpx
import pytest
from fedapay_mock import MockOptions
from fedapay_mock.server import MockServer

from tests.bulk.bulk_support import API_KEY, payroll_rows, run_bulk, write_csv

GONE = "no longer exists at FedaPay"
NOTE = ("note: 1 payout(s) of this journal no longer exist at FedaPay (404): their rows are left as conflicts and are"
        " not paid again by re-running; see the report's error column")


@pytest.fixture(scope="module")
def fedapay_mock_options() -> MockOptions:
    # Started payouts stay `started` (the clock moves only when told) and any payout can be deleted, as the
    # dashboard's operator would.
    return MockOptions(freeze_clock=True, delete_only_unsent=False)


def _report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _delete(mock: MockServer, payout_id: str) -> None:
    reply = httpx.delete(f"{mock.base_url}/payouts/{payout_id}", headers={"Authorization": f"Bearer {API_KEY}"})
    assert reply.status_code == 200, reply.text


def test_a_pending_payout_deleted_at_fedapay_is_a_conflict_not_created_again(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(2)))
    report = tmp_path / "r.csv"
    fedapay_mock.arm_fault("start_payouts", "status", times=4, status=400)  # the run leaves them pending
    first = run_bulk(fedapay_mock, payroll, "--report", str(report), monkeypatch=monkeypatch)
    assert first.code == 1, first.out + first.err
    lines = _report(report)
    assert [line["status"] for line in lines] == ["pending", "pending"]
    _delete(fedapay_mock, lines[0]["payout_id"])  # the operator deletes row 2's payout in the dashboard
    notes = []
    for _ in range(2):  # the same answer each time: final, nothing created again
        again = run_bulk(fedapay_mock, payroll, "--report", str(report), monkeypatch=monkeypatch)
        notes.append(NOTE in again.out)
        assert again.code == 1, again.out + again.err
        gone, started = _report(report)
        assert gone["status"] == "conflict (check by hand)"
        assert gone["error"].startswith(f"payout {lines[0]['payout_id']} {GONE} ({fedapay_mock.base_url} account=-"
                                        " answers 404 for it): it was deleted there, or FEDAPAY_API_KEY is another"
                                        " account's. This row is not paid again by re-running.")
        assert "pay that file with --batch LABEL" in gone["error"]
        assert started["status"] == "started"
        assert "unknown" not in again.out
        stats = fedapay_mock.stats()
        assert (stats["created"], stats["started"], stats["deleted"]) == (2, 1, 1)
    assert "by status: conflict (check by hand) 1, started 1" in again.out
    assert notes == [True, False]  # said by the run that found it; the summary and the report keep it


def test_a_started_payout_gone_while_waiting_is_a_conflict_not_polled_until_the_timeout(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(2)))
    report = tmp_path / "r.csv"
    first = run_bulk(fedapay_mock, payroll, "--report", str(report), monkeypatch=monkeypatch)
    assert first.code == 0, first.out + first.err
    lines = _report(report)
    _delete(fedapay_mock, lines[1]["payout_id"])
    fedapay_mock.advance_clock(60)  # row 2's payout is sent; row 3's is gone
    waited = run_bulk(fedapay_mock, payroll, "--wait", "--wait-timeout", "3", "--report", str(report),
                      monkeypatch=monkeypatch)
    assert waited.code == 1, waited.out + waited.err
    assert "--wait stopped" not in waited.out  # no longer polled: the wait ended at once
    assert NOTE in waited.out
    assert "by status: conflict (check by hand) 1, sent 1" in waited.out
    sent, gone = _report(report)
    assert sent["status"] == "sent"
    assert gone["status"] == "conflict (check by hand)"
    assert GONE in gone["error"]
    assert fedapay_mock.stats()["created"] == 2
