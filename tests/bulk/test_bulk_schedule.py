"""`--schedule-at` and the "scheduled at" column: every form the spec accepts is parsed once, with its
meaning (no zone = UTC, never local time), and what the checks accepted is what the run sends."""

from __future__ import annotations

import datetime
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fedapay_bulk.checks import OfflineClient, client_form
from fedapay_bulk.engine import BulkOptions, pay_file
from fedapay_bulk.when import parse_schedule, wire

from tests.bulk.bulk_support import (
    API_KEY,
    payouts_by_reference,
    payroll_rows,
    process_env,
    run_bulk,
    run_until,
    write_csv,
)

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer


def _scheduled_at(mock: MockServer) -> set[datetime.datetime]:
    return {
        datetime.datetime.fromisoformat(str(p["scheduled_at"]).replace("Z", "+00:00"))
        for payouts in payouts_by_reference(mock).values() for p in payouts
    }


def test_a_time_without_a_zone_is_utc_on_a_machine_in_another_zone(fedapay_mock: MockServer, tmp_path: Path) -> None:
    when = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=4)).replace(microsecond=0)
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(3)))
    env = process_env(fedapay_mock, TZ="Asia/Tokyo")  # UTC+9: read as local time, 4 h ahead was 5 h ago
    code = run_until(fedapay_mock, [payroll, "--schedule-at", when.strftime("%Y-%m-%d %H:%M:%S")], lambda s: False,
                     env=env)
    assert code == 0
    assert fedapay_mock.stats()["by_status"] == {"scheduled": 3}
    assert _scheduled_at(fedapay_mock) == {when}


@pytest.mark.parametrize(
    "form", ["2030-01-01 10:00:00 UTC", "2030-01-01 11:00:00 +0100", "2030-01-01T05:00:00-05:00",
             "2030-01-01 10:00:00", "2030-01-01T10:00:00Z"],
)
def test_every_form_the_checks_accept_is_sent_as_its_instant(
    form: str, fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(2)))
    outcome = run_bulk(fedapay_mock, payroll, "--schedule-at", form, monkeypatch=monkeypatch)
    assert outcome.code == 0, outcome.out + outcome.err
    assert fedapay_mock.stats()["by_status"] == {"scheduled": 2}
    assert _scheduled_at(fedapay_mock) == {datetime.datetime(2030, 1, 1, 10, tzinfo=datetime.UTC)}


def test_the_files_column_is_parsed_the_same_way(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [[*row, when] for row, when in zip(payroll_rows(2), ["2030-01-01 10:00:00 UTC", "2030-01-01 10:00:00"],
                                               strict=True)]
    payroll = write_csv(tmp_path / "p.csv", rows, header=["First name", "Last name", "Email", "Phone number",
                                                          "Amount", "Mode", "Scheduled at"])
    outcome = run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch)
    assert outcome.code == 0, outcome.out + outcome.err
    assert _scheduled_at(fedapay_mock) == {datetime.datetime(2030, 1, 1, 10, tzinfo=datetime.UTC)}


@pytest.mark.parametrize("form", ["2030-02-31 10:00:00", "next monday", "2030-01-01 10:00", "2001-01-01 10:00:00 UTC"])
def test_a_schedule_the_run_cannot_use_is_refused_before_anything_is_sent(
    form: str, fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(2)))
    outcome = run_bulk(fedapay_mock, payroll, "--schedule-at", form, monkeypatch=monkeypatch)
    assert outcome.code == 2
    assert "--schedule-at" in outcome.err
    assert "Traceback" not in outcome.err
    assert fedapay_mock.stats()["requests"] == {}


def test_wire_form_is_utc_with_z() -> None:
    assert wire(parse_schedule("2030-06-01 12:30:00.25 +0230")) == "2030-06-01T10:00:00.250000Z"


def test_a_schedule_sent_now_stays_starting_while_its_start_is_in_flight(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=3)  # within the 5 s margin: sent now
    payroll = write_csv(tmp_path / "p.csv", payroll_rows(1))
    journal = tmp_path / "j.sqlite"
    fedapay_mock.arm_fault("start_payouts", "delay_before_reply", delay=2.0)
    options = BulkOptions(journal=journal, schedule_at=wire(soon))
    monkeypatch.setenv("FEDAPAY_API_KEY", API_KEY)
    monkeypatch.setenv("FEDAPAY_BASE_URL", fedapay_mock.base_url)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(pay_file, payroll, options)
        deadline = time.monotonic() + 30
        while fedapay_mock.stats()["started"] == 0:  # FedaPay has started it; the reply is held back
            assert time.monotonic() < deadline
            assert not running.done()
            time.sleep(0.01)
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
            state, late = db.execute("SELECT state, late FROM rows").fetchone()  # the note's own column
        result = running.result(timeout=30)
    assert state == "starting"  # a start possibly in flight: a crash now makes the next run check, not start blind
    assert "sent now" in late
    assert result.complete
    assert fedapay_mock.stats()["started"] == 1


def test_a_scheduled_payroll_resumes_after_its_time_and_late_rows_not_yet_created_need_send_late(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    when = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=6)
    header = ["First name", "Last name", "Email", "Phone number", "Amount", "Mode", "Scheduled at"]
    text = when.strftime("%Y-%m-%d %H:%M:%S.%f")
    scheduled = write_csv(tmp_path / "s.csv", [[*row, text] for row in payroll_rows(2)], header=header)
    held = write_csv(tmp_path / "h.csv", [[*row[:4], "7000", *row[5:], text] for row in payroll_rows(2)],
                     header=header)
    assert run_bulk(fedapay_mock, str(scheduled), monkeypatch=monkeypatch).code == 0
    fedapay_mock.arm_fault("create_payout", "status", times=1_000, status=401)  # h.csv: refused, nothing created
    assert run_bulk(fedapay_mock, str(held), monkeypatch=monkeypatch).code == 2
    fedapay_mock.app.faults.reset()
    while datetime.datetime.now(datetime.UTC) <= when:
        time.sleep(0.1)
    resumed = run_bulk(fedapay_mock, str(scheduled), "--wait", monkeypatch=monkeypatch)  # its journal has both
    assert resumed.code == 0, resumed.out + resumed.err
    assert "sent: 2" in resumed.out
    late = run_bulk(fedapay_mock, str(held), monkeypatch=monkeypatch)
    assert late.code == 2, late.out + late.err
    assert "row 2: scheduled at:" in late.err
    assert "row 3: scheduled at:" in late.err
    assert "--send-late" in late.err
    assert "another --journal" not in late.err
    assert fedapay_mock.stats()["created"] == 2
    sent = run_bulk(fedapay_mock, str(held), "--send-late", "--wait", monkeypatch=monkeypatch)
    assert sent.code == 0, sent.out + sent.err
    stats = fedapay_mock.stats()
    assert stats["created"] == 4
    assert stats["by_status"] == {"sent": 4}


def test_the_checks_form_of_a_past_schedule_is_the_clients_form() -> None:
    """A passed schedule's digest is computed without the client (which refuses the past): the same bytes."""
    offline = OfflineClient()
    try:
        for text in ["2030-01-01 10:00:00 UTC", "2030-01-01 11:00:00 +0100", "2030-01-01T05:00:00-05:00",
                     "2030-01-01 10:00:00", "2030-01-01T10:00:00Z", "2030-01-01T10:00:00.5+02:00"]:
            assert client_form(text) == offline.start_item(text), text
    finally:
        offline.close()
