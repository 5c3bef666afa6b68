"""A payout of the journal that FedaPay no longer has (deleted in the dashboard: 404 for its id) is a final
conflict for a person to check, said in the report: never "unknown (re-run to resolve)" forever, and never
created again on its own (a 404 may also be another account's key at the same base URL)."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import httpx
import pytest
from fedapay_mock import MockOptions
from fedapay_mock.server import MockServer

from tests.bulk.bulk_support import API_KEY, payroll_rows, run_bulk, run_until, write_csv

GONE = "no longer exists at FedaPay"
NOTE = ("note: 1 payout(s) of this journal no longer exist at FedaPay (404): their rows are left as conflicts and are"
        " not paid again by re-running (each run asks for those payouts again, and follows any FedaPay shows again);"
        " see the report's error column")


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
                                        " account's. This row is not paid again by re-running: each run asks"
                                        f" FedaPay for payout {lines[0]['payout_id']} again, and follows it if it is"
                                        " shown again (nothing is created).")
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


FOUND_AGAIN = ("note: 1 payout(s) FedaPay had answered 404 for in an earlier run were found again: their rows go on"
               " (started if pending, followed otherwise), none was created again")


def test_a_payout_that_answered_404_once_is_followed_again_when_fedapay_shows_it(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(2)))
    report = tmp_path / "r.csv"
    assert run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch).code == 0
    fedapay_mock.advance_clock(60)  # both sent
    fedapay_mock.arm_fault("retrieve_payout", "status", times=1, status=404)  # a proxy's hiccup, another key's reply
    waited = run_bulk(fedapay_mock, payroll, "--wait", "--report", str(report), monkeypatch=monkeypatch)
    assert waited.code == 1, waited.out + waited.err
    assert NOTE in waited.out
    assert sorted(line["status"] for line in _report(report)) == ["conflict (check by hand)", "sent"]
    again = run_bulk(fedapay_mock, payroll, "--wait", "--report", str(report), monkeypatch=monkeypatch)
    assert again.code == 0, again.out + again.err
    assert FOUND_AGAIN in again.out
    assert NOTE not in again.out
    assert [(line["status"], line["error"]) for line in _report(report)] == [("sent", ""), ("sent", "")]
    stats = fedapay_mock.stats()
    assert (stats["created"], stats["started"], stats["requests"]["create_payout"]) == (2, 2, 2)


def test_a_pending_payout_that_answered_404_is_started_once_fedapay_shows_it_again(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(2)))
    report = tmp_path / "r.csv"
    # Killed while its start waits for a 503: nothing started, both rows `starting` (checked first next run).
    fedapay_mock.arm_fault("start_payouts", "status", status=503, delay=5)
    assert run_until(fedapay_mock, [payroll], lambda stats: stats["requests"].get("start_payouts", 0) >= 1) is None
    fedapay_mock.arm_fault("retrieve_payout", "status", times=2, status=404)  # the next run's key is another's
    checked = run_bulk(fedapay_mock, payroll, "--report", str(report), monkeypatch=monkeypatch)
    assert checked.code == 1, checked.out + checked.err
    assert [line["status"] for line in _report(report)] == ["conflict (check by hand)"] * 2
    assert fedapay_mock.stats()["started"] == 0
    resumed = run_bulk(fedapay_mock, payroll, "--report", str(report), monkeypatch=monkeypatch)  # the right key
    assert resumed.code == 0, resumed.out + resumed.err
    assert "note: 2 payout(s) FedaPay had answered 404 for in an earlier run were found again" in resumed.out
    assert [(line["status"], line["error"]) for line in _report(report)] == [("started", ""), ("started", "")]
    stats = fedapay_mock.stats()
    assert (stats["created"], stats["started"], stats["requests"]["create_payout"]) == (2, 2, 2)


def test_only_conflicts_of_a_404_are_asked_again_in_a_journal_written_before_they_were_marked(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(3)))
    report = tmp_path / "r.csv"
    assert run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch).code == 0
    other = "FedaPay answered another payout: its id is not the one asked for"
    with sqlite3.connect(tmp_path / "p.csv.journal.sqlite") as db:
        # As the previous version left them: a 404's conflict told only by its text, and another conflict.
        db.execute("ALTER TABLE rows DROP COLUMN gone")
        db.execute("UPDATE rows SET state = 'conflict', error = ? WHERE row = 2", (other,))
        db.execute("UPDATE rows SET state = 'conflict', error = 'payout ' || payout_id || ' no longer exists at"
                   " FedaPay (http://x answers 404 for it): it was deleted there' WHERE row = 3")
    db.close()
    before = fedapay_mock.stats()["requests"].get("retrieve_payout", 0)
    again = run_bulk(fedapay_mock, payroll, "--report", str(report), monkeypatch=monkeypatch)
    assert again.code == 1, again.out + again.err
    assert FOUND_AGAIN in again.out
    assert fedapay_mock.stats()["requests"]["retrieve_payout"] == before + 1  # row 3's payout only
    assert [(line["status"], line["error"]) for line in _report(report)] == [
        ("conflict (check by hand)", other), ("started", ""), ("started", "")]
    assert fedapay_mock.stats()["created"] == 3


def test_a_payout_shown_again_as_another_payment_stays_a_conflict(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(1)))
    report = tmp_path / "r.csv"
    assert run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch).code == 0
    with sqlite3.connect(tmp_path / "p.csv.journal.sqlite") as db:
        # A 404 conflict whose id now answers with another amount: another account's payout under that id.
        db.execute("UPDATE rows SET state = 'conflict', gone = 1, amount = 999, error = 'earlier 404'")
    db.close()
    for _ in range(2):  # asked again each run, never taken as the row's
        again = run_bulk(fedapay_mock, payroll, "--report", str(report), monkeypatch=monkeypatch)
        assert again.code == 1, again.out + again.err
        (line,) = _report(report)
        assert line["status"] == "conflict (check by hand)"
        assert (f"payout {line['payout_id']} answered 404 in an earlier run, and {fedapay_mock.base_url} account=- now"
                " shows another payment under that id (amount 1000, not 999)") in line["error"]
        assert "found again" not in again.out
    stats = fedapay_mock.stats()
    assert (stats["created"], stats["started"], stats["requests"]["retrieve_payout"]) == (1, 1, 2)
