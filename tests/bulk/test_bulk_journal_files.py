"""The journal's files as an operator leaves them: a killed run's WAL without its journal or beside another
one, a WAL deleted alone, a look-up cut short, two runs at once. Each is refused before anything is sent,
or resolved by looking every row up: never a row paid twice, never old amounts paid."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.bulk.bulk_support import (
    first_create_under_way,
    payouts_by_reference,
    payroll_rows,
    run_bulk,
    run_until,
    write_csv,
)

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

OTHER_KEY = "sk_sandbox_bulk_tests_rotated"  # idempotency keys are per API key: a rotated key replays nothing


def _sidecars(journal: Path) -> tuple[Path, Path]:
    return Path(f"{journal}-wal"), Path(f"{journal}-shm")


def _killed_after_creates(mock: MockServer, payroll: Path, journal: Path, creates: int) -> None:
    """A run SIGKILLed once the mock has `creates` more payouts: its WAL and index stay beside the journal."""
    before = mock.stats()["created"]
    args = [str(payroll), "--journal", str(journal), "--concurrency", "2"]
    assert run_until(mock, args, lambda s: s["created"] >= before + creates) is None
    assert all(p.exists() for p in (journal, *_sidecars(journal)))


def _each_reference_paid_once(mock: MockServer) -> dict[str, list[dict[str, Any]]]:
    found = payouts_by_reference(mock)
    assert all(len(payouts) == 1 for payouts in found.values()), {r: len(p) for r, p in found.items() if len(p) > 1}
    return found


def test_a_killed_runs_wal_without_its_journal_is_refused_not_applied_to_a_corrected_file(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = payroll_rows(60)
    payroll = write_csv(tmp_path / "p.csv", rows)
    journal = tmp_path / "p.csv.journal.sqlite"
    _killed_after_creates(fedapay_mock, payroll, journal, 10)
    journal.unlink()  # the operator deletes the journal the command printed; its -wal and -shm stay
    for row in rows:
        row[4] = str(int(row[4]) + 4000)  # and corrects every amount
    write_csv(payroll, rows)
    requests = fedapay_mock.stats()["requests"]
    refused = run_bulk(fedapay_mock, str(payroll), "--wait", monkeypatch=monkeypatch)
    assert refused.code == 2, refused.out + refused.err
    assert f"{journal}-wal and {journal}-shm remain without their journal" in refused.err
    assert fedapay_mock.stats()["requests"] == requests
    assert not journal.exists()
    for sidecar in _sidecars(journal):  # deleted on purpose, as the message says: the new journal looks up
        sidecar.unlink()
    paid = run_bulk(fedapay_mock, str(payroll), "--wait", monkeypatch=monkeypatch)
    assert paid.code == 0, paid.out + paid.err
    sent = [p for payouts in _each_reference_paid_once(fedapay_mock).values() for p in payouts if p["status"] == "sent"]
    assert sorted(p["amount"] for p in sent) == sorted(int(row[4]) for row in rows)  # the corrected amounts only


def test_a_wal_deleted_alone_after_a_kill_makes_the_next_run_look_every_row_up(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = write_csv(tmp_path / "p.csv", payroll_rows(40))
    journal = tmp_path / "p.csv.journal.sqlite"
    _killed_after_creates(fedapay_mock, payroll, journal, 15)
    for sidecar in _sidecars(journal):  # the journal's last changes are lost: it shows created rows as unsent
        sidecar.unlink()
    outcome = run_bulk(fedapay_mock, str(payroll), "--wait", monkeypatch=monkeypatch, api_key=OTHER_KEY)
    assert outcome.code == 0, outcome.out + outcome.err
    assert "already existed and were not created again" in outcome.out
    assert len(_each_reference_paid_once(fedapay_mock)) == 40
    assert fedapay_mock.stats()["by_status"] == {"sent": 40}


def test_a_journal_replaced_by_an_older_copy_beside_a_later_wal_is_refused(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = write_csv(tmp_path / "p.csv", payroll_rows(60))
    journal = tmp_path / "p.csv.journal.sqlite"
    _killed_after_creates(fedapay_mock, payroll, journal, 5)
    copy = tmp_path / "copy.sqlite"
    shutil.copy(journal, copy)  # a copy of the journal file alone (its WAL not with it)
    _killed_after_creates(fedapay_mock, payroll, journal, 10)
    shutil.copy(copy, journal)  # restored over the journal; the later run's WAL is still beside it
    requests = fedapay_mock.stats()["requests"]
    outcome = run_bulk(fedapay_mock, str(payroll), "--wait", monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    assert f"{journal}-wal is not the log of the journal {journal}" in outcome.err
    assert fedapay_mock.stats()["requests"] == requests
    assert journal.read_bytes() == copy.read_bytes()  # refused without applying the WAL to it


def test_a_look_up_cut_short_is_done_by_the_next_run(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(8)))
    assert run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch).code == 0
    journal = tmp_path / "p.csv.journal.sqlite"
    journal.unlink()  # journal lost: the next journal must look every row up
    fedapay_mock.arm_fault("list_payouts", "status", times=1, status=401)  # its look-up stops at the first page
    cut = run_bulk(fedapay_mock, payroll, "--adopt-existing", monkeypatch=monkeypatch, api_key=OTHER_KEY)
    assert cut.code == 2
    assert journal.exists()  # the new journal is in place, its look-up not done
    # The operator's --adopt-existing is the journal's until its look-up is done: not asked again.
    outcome = run_bulk(fedapay_mock, payroll, "--wait", monkeypatch=monkeypatch, api_key=OTHER_KEY)
    assert outcome.code == 0, outcome.out + outcome.err
    assert "8 payout(s) of this file already existed" in outcome.out
    assert fedapay_mock.stats()["created"] == 8
    assert len(_each_reference_paid_once(fedapay_mock)) == 8


def test_a_second_run_of_the_same_journal_is_refused_at_once(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(6)))
    fedapay_mock.arm_fault("create_payout", "delay_before_reply", times=6, delay=0.3)
    with first_create_under_way(fedapay_mock, payroll, "--concurrency", "1") as first:
        requests = fedapay_mock.stats()["requests"]["create_payout"]
        second = run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch)
        assert second.code == 2, second.out + second.err
        assert "another run of this journal is in progress" in second.err
        assert f"{tmp_path / 'p.csv.journal.sqlite.lock'}" in second.err
        assert fedapay_mock.stats()["requests"]["create_payout"] <= requests + 1  # only the first run's next one
        assert first.wait(timeout=60) == 0
    again = run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch)  # the lock went with the first run
    assert again.code == 0, again.out + again.err
    assert fedapay_mock.stats()["created"] == 6


def test_another_name_for_a_journal_in_use_or_its_deleted_lock_file_lets_no_second_run_in(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(6)))
    journal = tmp_path / "j.sqlite"
    fedapay_mock.arm_fault("create_payout", "delay_before_reply", times=6, delay=0.5)
    with first_create_under_way(fedapay_mock, payroll, "--concurrency", "1", "--journal", str(journal)) as first:
        (tmp_path / "symlink.sqlite").symlink_to(journal)
        os.link(journal, tmp_path / "hardlink.sqlite")
        Path(f"{journal}.lock").unlink()
        for name in ("symlink.sqlite", "hardlink.sqlite", "j.sqlite"):
            second = run_bulk(fedapay_mock, payroll, "--journal", str(tmp_path / name), monkeypatch=monkeypatch)
            assert second.code == 2, name + second.out + second.err
            assert "another run of this journal is in progress" in second.err, name
        assert first.wait(timeout=60) == 0
    assert fedapay_mock.stats()["created"] == 6
    assert fedapay_mock.stats()["requests"]["create_payout"] == 6
