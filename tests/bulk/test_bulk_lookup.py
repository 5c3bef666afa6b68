"""The look-up cannot miss a payout because the list moved under it: payouts of others created or deleted
while it pages (newest first) shift every later payout by a page position; rows the pass may have missed are
looked up one by one before any is created, so a moving list never makes a second payout.

The API key is rotated between the runs (idempotency keys are per API key): a row created again would be a
second payout, not a replay."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fedapay_payouts import FedaPay

from tests.bulk.bulk_support import (
    API_KEY,
    payouts_by_reference,
    payroll_rows,
    process_env,
    run_until,
    spawn,
    write_csv,
)

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

OTHER_KEY = "sk_sandbox_bulk_tests_rotated"
ROWS = 150  # a page and a half of payouts (pages of 100)


def _others(mock: MockServer, count: int) -> list[int]:
    """`count` payouts of another integration on the same account (pending, newest first in the list)."""
    with FedaPay(API_KEY, base_url=mock.base_url) as client:
        return [
            client.payouts.create(amount=500 + i, currency="XOF", mode="moov",
                                  customer={"firstname": "Other", "lastname": str(i)}).id
            for i in range(count)
        ]


def _delete(mock: MockServer, ids: list[int]) -> None:
    with FedaPay(API_KEY, base_url=mock.base_url) as client:
        for payout_id in ids:
            client.payouts.delete(payout_id)


def _wait_for_request(mock: MockServer, operation: str, count: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while mock.stats()["requests"].get(operation, 0) < count:
        assert process.poll() is None, "the run ended first"
        assert time.monotonic() < deadline, f"no {operation} request"
        time.sleep(0.01)


@pytest.mark.parametrize("shift", ["deleted", "created"])
def test_payouts_of_others_moving_the_list_during_the_look_up_never_make_a_second_payout(
    shift: str, fedapay_mock: MockServer, tmp_path: Path
) -> None:
    payroll = write_csv(tmp_path / "p.csv", payroll_rows(ROWS))
    journal = tmp_path / "p.csv.journal.sqlite"
    # A run killed once every row is created (its first start hangs): its WAL is then lost, so the journal
    # shows every row unsent and the next run must find all 150 payouts by looking them up.
    fedapay_mock.arm_fault("start_payouts", "delay_before_reply", times=1, delay=2)
    assert run_until(fedapay_mock, [str(payroll)], lambda s: s["created"] >= ROWS) is None
    for sidecar in (Path(f"{journal}-wal"), Path(f"{journal}-shm")):
        sidecar.unlink()
    deleted = _others(fedapay_mock, 10) if shift == "deleted" else []  # page 1: these 10 and 90 of ours
    before = fedapay_mock.stats()["requests"]
    # The look-up's first page is computed, then its reply waits: the list moves before page 2 is asked for.
    fedapay_mock.arm_fault("list_payouts", "delay_before_reply", times=1, delay=3)
    process = spawn(fedapay_mock, str(payroll), env=process_env(fedapay_mock, api_key=OTHER_KEY))
    try:
        _wait_for_request(fedapay_mock, "list_payouts", before.get("list_payouts", 0) + 1, process)
        if shift == "deleted":
            _delete(fedapay_mock, deleted)  # page 2 now starts 10 payouts later: 10 of ours were never listed
        else:
            _others(fedapay_mock, 100)  # page 2 is now page 1 again: nothing new on it
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        assert process.stderr is not None
        process.stderr.close()
    stats = fedapay_mock.stats()
    others = 100 if shift == "created" else 0
    assert stats["requests"].get("create_payout", 0) == before.get("create_payout", 0) + others  # none of ours again
    ours = {ref: payouts for ref, payouts in payouts_by_reference(fedapay_mock).items() if ref.startswith("fpb-")}
    assert len(ours) == ROWS
    assert all(len(payouts) == 1 for payouts in ours.values())
    assert all(payouts[0]["status"] != "pending" for payouts in ours.values())  # every row started, once
