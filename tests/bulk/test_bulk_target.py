"""A journal pays one base URL and account, bound only once a request there succeeded: a first run that
reached no server (a mistyped FEDAPAY_BASE_URL) or that the server refused (a wrong FEDAPAY_ACCOUNT_ID)
leaves it free for the right one; one through which a payout may have been created is never rebound, not
even after its last commits were lost; one bound where nothing was ever created says so, and what to do."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.bulk.bulk_support import payouts_by_reference, payroll_rows, run_bulk, run_until, write_csv

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

NOWHERE = "http://127.0.0.1:1/v1"  # a mistyped port: nothing listens, the request is never sent


def _elsewhere(mock: MockServer) -> str:
    """The same mock under another name: another target for the journal, a server that answers."""
    return mock.base_url.replace("127.0.0.1", "localhost")


def _meta(journal: Path) -> dict[str, str]:
    with sqlite3.connect(journal) as db:
        return {str(k): str(v) for k, v in db.execute("SELECT key, value FROM meta")}


def _error_line(err: str) -> str:
    return next(line for line in err.splitlines() if line.startswith("error: "))


def test_a_run_that_reached_no_server_binds_nothing_and_the_right_url_pays(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(5)))
    journal = tmp_path / "p.csv.journal.sqlite"
    typo = run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch, base_url=NOWHERE)
    assert typo.code == 2, typo.out + typo.err
    assert "the request was not sent" in typo.err
    assert "target" not in _meta(journal)  # the journal is there, bound to nothing
    fixed = run_bulk(fedapay_mock, payroll, "--wait", monkeypatch=monkeypatch)
    assert fixed.code == 0, fixed.out + fixed.err
    assert fedapay_mock.stats()["created"] == 5
    assert _meta(journal)["target"] == f"{fedapay_mock.base_url} account=-"
    assert _meta(journal)["target_use"] == "payouts"


def test_an_account_fedapay_refuses_binds_nothing_and_the_right_account_pays(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(4)))
    monkeypatch.setenv("FEDAPAY_ACCOUNT_ID", "999")  # not this key's account: FedaPay refuses the look-up
    fedapay_mock.arm_fault("list_payouts", "status", times=1, status=403)
    wrong = run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch)
    assert wrong.code == 2, wrong.out + wrong.err
    assert fedapay_mock.stats()["requests"].get("create_payout") is None
    monkeypatch.setenv("FEDAPAY_ACCOUNT_ID", "42")
    right = run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch)
    assert right.code == 0, right.out + right.err
    assert fedapay_mock.stats()["created"] == 4
    assert _meta(tmp_path / "p.csv.journal.sqlite")["target"] == f"{fedapay_mock.base_url} account=42"


def test_a_journal_of_an_earlier_version_bound_before_any_request_is_freed(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Earlier versions bound the journal before the first request: such a journal, whose rows were never sent
    and whose look-up never completed, is taken as bound to nothing."""
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(3)))
    journal = tmp_path / "p.csv.journal.sqlite"
    assert run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch, base_url=NOWHERE).code == 2
    with sqlite3.connect(journal) as db:  # as the earlier version left it
        db.execute("INSERT OR REPLACE INTO meta VALUES ('target', ?)", (f"{NOWHERE} account=-",))
    outcome = run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch)
    assert outcome.code == 0, outcome.out + outcome.err
    assert fedapay_mock.stats()["created"] == 3


def test_a_journal_that_paid_is_never_rebound(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(3)))
    assert run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch).code == 0
    requests = fedapay_mock.stats()["requests"]
    other_url = run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch, base_url=_elsewhere(fedapay_mock))
    monkeypatch.setenv("FEDAPAY_ACCOUNT_ID", "7")
    other_account = run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch)
    for refused in (other_url, other_account):
        assert refused.code == 2, refused.out + refused.err
        line = _error_line(refused.err)
        assert f"pays {fedapay_mock.base_url} account=-, where payouts may have been created through it" in line
        assert "nothing was sent" in line
        assert f"run it against {fedapay_mock.base_url} account=- again" in refused.err
        assert "--journal NEW.sqlite" in refused.err
        assert "nothing was ever created" not in refused.err
    assert fedapay_mock.stats()["requests"] == requests


def test_a_killed_run_whose_wal_is_lost_is_still_never_rebound(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mark that creates were sent is in the journal file before the first of them: a WAL lost with the
    rows' `creating` marks cannot make the journal look like one through which nothing was created."""
    payroll = write_csv(tmp_path / "p.csv", payroll_rows(40))
    journal = tmp_path / "p.csv.journal.sqlite"
    assert run_until(fedapay_mock, [str(payroll), "--concurrency", "2"], lambda s: s["created"] >= 3) is None
    for sidecar in (Path(f"{journal}-wal"), Path(f"{journal}-shm")):
        sidecar.unlink()
    created = fedapay_mock.stats()["created"]
    refused = run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch, base_url=_elsewhere(fedapay_mock))
    assert refused.code == 2, refused.out + refused.err
    assert "where payouts may have been created through it" in _error_line(refused.err)
    assert fedapay_mock.stats()["created"] == created
    resumed = run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch)  # at its own target: looked up, paid
    assert resumed.code == 0, resumed.out + resumed.err
    assert sorted(len(p) for p in payouts_by_reference(fedapay_mock).values()) == [1] * 40


def test_a_journal_whose_creates_were_all_refused_says_nothing_was_created_and_how_to_go_on(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(3)))
    journal = tmp_path / "p.csv.journal.sqlite"
    fedapay_mock.arm_fault("create_payout", "status", times=1, status=403)  # the look-up answered, the create not
    first = run_bulk(fedapay_mock, payroll, "--concurrency", "1", monkeypatch=monkeypatch)
    assert first.code == 2, first.out + first.err
    assert "refused this key or account, the run stopped; nothing was sent" in first.err
    elsewhere = _elsewhere(fedapay_mock)
    refused = run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch, base_url=elsewhere)
    assert refused.code == 2, refused.out + refused.err
    line = _error_line(refused.err)
    assert f"is bound to {fedapay_mock.base_url} account=-" in line
    assert "nothing was ever created through it" in line
    assert f"to pay this file at {elsewhere} account=-, delete {journal}" in refused.err
    assert fedapay_mock.stats()["created"] == 0
    journal.unlink()  # as it says
    paid = run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch, base_url=elsewhere)
    assert paid.code == 0, paid.out + paid.err
    assert fedapay_mock.stats()["created"] == 3
