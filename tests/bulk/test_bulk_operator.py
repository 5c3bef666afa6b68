"""Operator mistakes end in one line and exit 2 before anything is sent; text from the file never drives the
terminal; a refused key after payouts were made exits 1 with the summary; a huge Retry-After is capped."""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from fedapay_bulk import BulkOptions, pay_file
from fedapay_bulk.engine import MAX_RATE_LIMIT_PAUSE, Throttle
from fedapay_payouts import InvalidArgumentError

from tests.bulk.bulk_support import API_KEY, payroll_rows, run_bulk, write_csv

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["missing.csv", "--dry-run"], "missing.csv does not exist"),
        ([".", "--dry-run"], "is a folder, not a CSV file"),
        (["p.csv", "--journal", "nowhere/j.sqlite"], "--journal"),
        (["p.csv", "--journal", "."], "--journal"),
        (["p.csv", "--wait-timeout", "nan"], "--wait-timeout"),
        (["p.csv", "--wait-timeout", "inf"], "--wait-timeout"),
        (["p.csv", "--wait-timeout", "-1"], "--wait-timeout"),
        (["p.csv", "--concurrency", "0"], "--concurrency"),
        (["p.csv", "--concurrency", "100000"], "--concurrency"),
        (["p.csv", "--batch", "a:b"], "--batch"),
        # Not a regular file, said as what it is (a device was "a folder", a FIFO "does not exist"; seventeenth review)
        (["p.csv", "--journal", "/dev/null"], "--journal: is a device"),
        (["fifo.csv", "--dry-run"], "is a FIFO (named pipe), not a CSV file"),
    ],
)
def test_an_operator_mistake_is_one_line_and_exit_2(
    args: list[str], named: str, fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_csv(tmp_path / "p.csv", payroll_rows(2))
    os.mkfifo(tmp_path / "fifo.csv")
    monkeypatch.chdir(tmp_path)
    outcome = run_bulk(fedapay_mock, *args, monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    assert named in outcome.err
    assert "Traceback" not in outcome.err
    assert fedapay_mock.stats()["requests"] == {}


@pytest.mark.parametrize(("field", "value"), [("wait_timeout", math.nan), ("wait_timeout", 0.0), ("concurrency", 0)])
def test_the_library_form_refuses_the_same_options(field: str, value: float, tmp_path: Path) -> None:
    payroll = write_csv(tmp_path / "p.csv", payroll_rows(1))
    options: Any = {field: value}
    with pytest.raises(InvalidArgumentError) as caught:
        pay_file(payroll, dataclasses.replace(BulkOptions(), **options), api_key=API_KEY,
                 base_url="http://127.0.0.1:9/v1")
    assert caught.value.argument == field


def test_escape_sequences_from_the_file_never_reach_the_terminal(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = payroll_rows(2)
    rows[0][5] = "mtn_open\x1b]0;pwned\x07\x1b[1A\x1b[2K"
    cell = run_bulk(fedapay_mock, str(write_csv(tmp_path / "a.csv", rows)), "--dry-run", monkeypatch=monkeypatch)
    header = ["First name", "Last name", "Phone number", "Amount", "\x1b[2J\x1b[31mEVIL"]
    named = run_bulk(fedapay_mock, str(write_csv(tmp_path / "h.csv", [["a", "b", "+22997808080", "1", "x"]],
                                                 header=header)), "--dry-run", monkeypatch=monkeypatch)
    for outcome in (cell, named):
        assert outcome.code == 2
        assert "\x1b" not in outcome.out + outcome.err
        assert "\x07" not in outcome.out + outcome.err
    assert "row 2: mode: 'mtn_open\\x1b]0;pwned" in cell.err  # shown, escaped, and refused
    assert "row 1: \\x1b[2J\\x1b[31mEVIL: unknown column" in named.err


def test_a_mode_the_spec_does_not_name_yet_is_sent_and_text_that_is_no_mode_is_refused(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The spec gives `mode` no enum on purpose (FedaPay adds operators): a well-formed new mode goes through.
    spec = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text(encoding="utf-8"))
    assert "enum" not in spec["components"]["schemas"]["Payout"]["properties"]["mode"]
    new = run_bulk(fedapay_mock, str(write_csv(tmp_path / "n.csv", [[*payroll_rows(1)[0][:5], "wave_sn"]])),
                   "--dry-run", monkeypatch=monkeypatch)
    assert new.code == 0, new.out + new.err
    assert "wave_sn" in new.out
    wrong = run_bulk(fedapay_mock, str(write_csv(tmp_path / "w.csv", [[*payroll_rows(1)[0][:5], "MTN Open"]])),
                     "--dry-run", monkeypatch=monkeypatch)
    assert wrong.code == 2
    assert "'MTN Open' is not a mode name" in wrong.err


def test_a_key_refused_after_payouts_were_made_exits_1_with_the_summary(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fedapay_mock.arm_fault("start_payouts", "status", times=1, status=403)  # every create done, the start refused
    report = tmp_path / "report.csv"
    outcome = run_bulk(fedapay_mock, str(write_csv(tmp_path / "p.csv", payroll_rows(4))), "--report", str(report),
                       monkeypatch=monkeypatch)
    assert outcome.code == 1, outcome.out + outcome.err
    assert "refused this key or account and the run stopped, after payouts may have been created" in outcome.err
    assert "pending: 4" in outcome.out
    assert f"report: {report}" in outcome.out
    assert report.exists()
    assert fedapay_mock.stats()["created"] == 4


def test_a_key_refused_before_anything_was_sent_exits_2(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fedapay_mock.arm_fault("create_payout", "status", times=10, status=401)
    outcome = run_bulk(fedapay_mock, str(write_csv(tmp_path / "p.csv", payroll_rows(3))), "--concurrency", "1",
                       monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    assert "nothing was sent" in outcome.err
    assert fedapay_mock.stats()["created"] == 0


def test_a_huge_retry_after_is_capped() -> None:
    throttle = Throttle()
    throttle.pause(999_999_999)
    import time

    assert throttle.until - time.monotonic() <= MAX_RATE_LIMIT_PAUSE
    assert throttle.longest_asked == 999_999_999


def test_a_capped_pause_is_said_in_the_output(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("fedapay_bulk.engine.MAX_RATE_LIMIT_PAUSE", 0.2)  # the cap is a minute; a test waits less
    fedapay_mock.arm_fault("create_payout", "status", times=1, status=429, retry_after=999_999_999)
    outcome = run_bulk(fedapay_mock, str(write_csv(tmp_path / "p.csv", payroll_rows(2))), "--concurrency", "1",
                       monkeypatch=monkeypatch)
    assert outcome.code == 0, outcome.out + outcome.err
    assert "FedaPay asked to wait up to 1e+09 s (Retry-After); each pause was cut to 0.2 s" in outcome.out
    assert fedapay_mock.stats()["created"] == 2


def test_a_key_refused_after_a_create_whose_reply_was_lost_exits_1_and_the_next_run_finds_the_payout(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fedapay_mock.arm_fault("create_payout", "drop_after_store", times=1)  # stored, its reply lost
    fedapay_mock.arm_fault("create_payout", "status", times=50, status=401)  # then every retry refused
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(1)))
    outcome = run_bulk(fedapay_mock, payroll, "--concurrency", "1", monkeypatch=monkeypatch)
    assert outcome.code == 1, outcome.out + outcome.err
    assert "nothing was sent" not in outcome.err
    assert "payouts may have been created" in outcome.err
    assert fedapay_mock.stats()["created"] == 1
    fedapay_mock.app.faults.reset()  # the key works again
    again = run_bulk(fedapay_mock, payroll, "--wait", monkeypatch=monkeypatch)
    assert again.code == 0, again.out + again.err
    assert "1 payout(s) of this file already existed" in again.out
    assert fedapay_mock.stats()["created"] == 1
    assert fedapay_mock.stats()["by_status"] == {"sent": 1}
