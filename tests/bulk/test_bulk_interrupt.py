"""Ctrl-C: the summary so far, one line saying how to resume, exit 130, no traceback; the journal stays
consistent, so the same command then pays each row exactly once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.bulk.bulk_support import payouts_by_reference, payroll_rows, process_env, run_bulk, run_until, write_csv

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

# The command as a user's shell runs it: Python's own Ctrl-C handler (a test runner may have replaced it).
COMMAND = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler);"
           " from fedapay_bulk.cli import main; sys.exit(main())")


def interrupt_when(
    fedapay_mock: MockServer, args: list[str], started: Callable[[dict[str, Any]], bool]
) -> tuple[int, str, str]:
    """Run the command in its own process, send it Ctrl-C (SIGINT) once `started(stats)` holds; its exit code,
    stdout and stderr."""
    process = subprocess.Popen(
        [sys.executable, "-c", COMMAND, "bulk", *args],
        env=process_env(fedapay_mock), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not started(fedapay_mock.stats()):
            assert process.poll() is None, "the run ended first"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, out, err


def test_ctrl_c_prints_the_summary_so_far_and_the_same_command_resumes(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = 40
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(rows)))
    report = tmp_path / "r.csv"
    fedapay_mock.arm_fault("create_payout", "delay_before_reply", times=12, delay=0.3)
    code, out, err = interrupt_when(  # creates under way, most rows not sent yet
        fedapay_mock, [payroll, "--concurrency", "2", "--report", str(report)], lambda stats: stats["created"] >= 2
    )
    assert code == 130, out + err
    assert "Traceback" not in err
    assert "KeyboardInterrupt" not in err
    assert err.endswith("interrupted: re-run the same command to resume\n")
    assert f"summary:\n  rows: {rows}\n" in out
    assert "not created " in out  # rows never sent are said so, not "unknown"
    assert f"journal: {tmp_path / 'p.csv.journal.sqlite'}" in out
    with report.open(encoding="utf-8") as handle:
        assert len(handle.readlines()) == rows + 1  # the report so far, one line per row
    resumed = run_bulk(fedapay_mock, payroll, "--wait", monkeypatch=monkeypatch)
    assert resumed.code == 0, resumed.out + resumed.err
    stats = fedapay_mock.stats()
    assert stats["created"] == rows
    assert stats["by_status"] == {"sent": rows}
    assert all(len(payouts) == 1 for payouts in payouts_by_reference(fedapay_mock).values())


@pytest.mark.parametrize("phase", ["look-up", "checking starts"])
def test_ctrl_c_before_any_create_still_writes_the_report_and_the_summary(
    phase: str, fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = 5
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(rows)))
    report = tmp_path / "r.csv"
    operation = "list_payouts"  # a new journal looks every row up first
    if phase == "checking starts":
        # A run killed while its start was in flight: its rows are `starting`, retrieved one by one first.
        fedapay_mock.arm_fault("start_payouts", "delay_before_reply", times=1, delay=5)
        assert run_until(fedapay_mock, [payroll], lambda s: s["requests"].get("start_payouts", 0) >= 1) is None
        operation = "retrieve_payout"
    before = fedapay_mock.stats()["requests"].get(operation, 0)
    fedapay_mock.arm_fault(operation, "delay_before_reply", times=rows, delay=5)
    code, out, err = interrupt_when(  # the phase's first request waits
        fedapay_mock, [payroll, "--report", str(report)],
        lambda stats: stats["requests"].get(operation, 0) > before,
    )
    assert code == 130, out + err
    assert "Traceback" not in err
    assert err.endswith("interrupted: re-run the same command to resume\n")
    assert f"summary:\n  rows: {rows}\n" in out
    with report.open(encoding="utf-8") as handle:
        assert len(handle.readlines()) == rows + 1  # the report so far, one line per row
    assert fedapay_mock.stats()["created"] == (rows if phase == "checking starts" else 0)


def test_ctrl_c_says_when_the_report_could_not_be_written(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(3)))
    folder = tmp_path / "reports"
    folder.mkdir()
    report = folder / "r.csv"
    fedapay_mock.arm_fault("start_payouts", "delay_before_reply", times=1, delay=20)

    def start_sent_and_folder_gone(stats: dict[str, Any]) -> bool:
        if not stats["requests"].get("start_payouts"):
            return False
        folder.rmdir()
        folder.write_text("now a file: the report cannot go in it\n")
        return True

    code, out, err = interrupt_when(fedapay_mock, [payroll, "--report", str(report)], start_sent_and_folder_gone)
    assert code == 130, out + err
    assert "Traceback" not in err
    assert "summary:\n  rows: 3\n" in out
    *_, said, last = err.splitlines()
    assert said.startswith(f"error: --report {report} could not be written: ")
    assert said.endswith("; the run itself is as summarized above (re-run the same command with another --report to"
                         " write it: nothing is paid twice)")
    assert last == "interrupted: re-run the same command to resume"
    assert not report.exists()


def test_a_ctrl_c_arriving_with_a_row_ends_the_starter_and_starts_nothing_more() -> None:
    """The starter waited for the next row with `asyncio.wait_for`, which on Python 3.11 drops a cancellation
    that comes in the same turn as the row: after one Ctrl-C it started its group 0.25 s later (payouts sent
    after the interrupt), then waited forever for a row, holding the journal's lock (a reviewer saw it in about
    1 run in 6 of a 200-row payroll). Here the row and the cancellation come in the same turn, every time."""
    import asyncio
    from types import SimpleNamespace

    from fedapay_bulk.engine import Run

    started: list[list[str]] = []

    async def start_group(group: list[str]) -> None:
        started.append(list(group))

    async def scenario() -> bool:
        starts: asyncio.Queue[Any] = asyncio.Queue()
        run: Any = SimpleNamespace(_start_group=start_group, options=SimpleNamespace(group_size=100))
        starter = asyncio.create_task(Run._starter(run, starts))
        await starts.put("row 1")
        for _ in range(3):  # the starter takes row 1 and waits for more, with its 0.25 s group timer running
            await asyncio.sleep(0)
        starts.put_nowait("row 2")
        starter.cancel()  # Ctrl-C, in the same turn as the row
        done, _ = await asyncio.wait([starter], timeout=2)
        return starter in done and starter.cancelled()

    assert asyncio.run(scenario()) is True
    assert started == []
