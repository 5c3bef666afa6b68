"""Exactly once across crashes: the command is SIGKILLed at random points (during creates, in the middle
of a group's start, while polling) and re-run until it completes; the mock's counters must then show
each row created once and started once.

Scale: by default a 1,000-row file with 20 kills for the plain scenario, and 200 rows with 6 kills for
the journal-lost and fault scenarios (the same code paths; together they stay well under a minute on
2 cores). `FEDAPAY_BULK_FULL=1` runs all three at 1,000 rows and 20 kills, as the issue states them.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.bulk.bulk_support import payouts_by_reference, payroll_rows, run_until, write_csv

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

FULL = os.environ.get("FEDAPAY_BULK_FULL") == "1"


def _forget(journal: Path) -> None:
    for path in (journal, Path(f"{journal}-wal"), Path(f"{journal}-shm")):
        path.unlink(missing_ok=True)


def _reached(counter: Callable[[dict[str, Any]], int], threshold: int) -> Callable[[dict[str, Any]], bool]:
    """A kill point: the mock's `counter` has reached `threshold`."""
    return lambda stats: counter(stats) >= threshold


def crash_and_resume(
    mock: MockServer, tmp_path: Path, *, rows: int, kills: int, seed: int, lose_journal: bool = False,
    faults: bool = False,
) -> dict[str, Any]:
    """Kill the command `kills` times at random points, then run it to completion with --wait."""
    payroll = write_csv(tmp_path / "payroll.csv", payroll_rows(rows))
    journal = tmp_path / "payroll.journal.sqlite"
    args = [str(payroll), "--journal", str(journal)]
    rng = random.Random(seed)
    killed: list[str] = []
    for index in range(kills):
        adopt: list[str] = []
        if lose_journal and index % 2 == 1:
            _forget(journal)
            adopt = ["--adopt-existing"]  # the operator knows this file's journal was lost
        if faults:
            mock.arm_fault("create_payout", "drop_after_store", times=2)
            mock.arm_fault("start_payouts", "drop_after_store", times=1)
        before = mock.stats()
        if index == kills - 1:
            # The last kill lands while --wait polls.
            kind, extra = "poll", ["--wait"]
            when = _reached(lambda s: s["requests"].get("retrieve_payout", 0),
                            before["requests"].get("retrieve_payout", 0) + rng.randint(1, 50))
        elif index % 3 == 2:
            # In the middle of a group's start: FedaPay has started the group, its reply is not back yet.
            mock.arm_fault("start_payouts", "delay_before_reply", delay=5.0)
            kind, extra = "start", []
            when = _reached(lambda s: s["started"], before["started"] + 1)
        else:
            kind, extra = "create", []
            step = rng.randint(1, max(2, rows // kills))
            when = _reached(lambda s: s["created"], min(rows, before["created"] + step))

        code = run_until(mock, [*args, *extra, *adopt], when)
        if code is None:
            killed.append(kind)
        else:
            assert code in (0, 1), f"run {index} exited {code}"
    if lose_journal:
        _forget(journal)
    if faults:
        mock.arm_fault("create_payout", "drop_after_store", times=2)
        mock.arm_fault("start_payouts", "drop_after_store", times=1)
    final = run_until(mock, [*args, "--wait", *(["--adopt-existing"] if lose_journal else [])], lambda stats: False)
    assert final == 0
    stats = mock.stats()
    assert stats["created"] == rows, stats
    assert stats["started"] == rows, stats
    assert stats["payouts_total"] == rows
    assert stats["by_status"] == {"sent": rows}
    found = payouts_by_reference(mock)
    assert len(found) == rows
    assert all(len(payouts) == 1 for payouts in found.values())
    assert len(killed) >= kills // 2, killed  # most runs were really killed (not finished first)
    assert "start" in killed
    return stats


def test_killed_twenty_times_pays_each_row_once(fedapay_mock: MockServer, tmp_path: Path) -> None:
    crash_and_resume(fedapay_mock, tmp_path, rows=1000, kills=20, seed=14)


def test_killed_with_journal_lost_pays_each_row_once(fedapay_mock: MockServer, tmp_path: Path) -> None:
    rows, kills = (1000, 20) if FULL else (200, 6)
    crash_and_resume(fedapay_mock, tmp_path, rows=rows, kills=kills, seed=15, lose_journal=True)


def test_killed_with_dropped_replies_pays_each_row_once(fedapay_mock: MockServer, tmp_path: Path) -> None:
    rows, kills = (1000, 20) if FULL else (200, 6)
    crash_and_resume(fedapay_mock, tmp_path, rows=rows, kills=kills, seed=16, faults=True)


def test_journal_lost_after_a_complete_run_creates_nothing(fedapay_mock: MockServer, tmp_path: Path) -> None:
    payroll = write_csv(tmp_path / "payroll.csv", payroll_rows(40))
    journal = tmp_path / "j.sqlite"
    assert run_until(fedapay_mock, [str(payroll), "--journal", str(journal)], lambda s: False) == 0
    _forget(journal)
    requests_before = fedapay_mock.stats()["requests"]
    args = [str(payroll), "--journal", str(journal), "--adopt-existing"]
    assert run_until(fedapay_mock, args, lambda s: False) == 0
    stats = fedapay_mock.stats()
    assert stats["created"] == 40
    assert stats["started"] == 40
    assert stats["requests"]["create_payout"] == requests_before["create_payout"]  # found, not re-sent
    assert stats["requests"].get("start_payouts") == requests_before.get("start_payouts")
