"""What FedaPay sends is data from elsewhere, as the file's cells are: a payout's status or an error's message
goes into the report neutralised against spreadsheet formulas, and onto the terminal with its line breaks and
control characters escaped (it cannot forge a summary line). A status the client knows as accepted
(`processing`) counts as accepted, one it does not know never does.

Each scenario puts a proxy in front of the mock (`paging_proxy.py`) rewriting its replies: the mock itself only
sends well-formed statuses."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fedapay_mock.server import serve_asgi
from fedapay_payouts._evidence import KNOWN_STATUSES

from tests.bulk.bulk_support import Outcome, payroll_rows, run_bulk, write_csv
from tests.bulk.paging_proxy import Answer, Proxy, Query

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

FORMULA = '=HYPERLINK("http://evil.example","click")'
FORGED = "FORGED: everything fine, 0 failed"
STATUS_RE = re.compile(rb'"status"\s*:\s*"(?:started|sent)"')


async def _unchanged(path: str, query: Query) -> Query:
    return query


def _status_as(status: str) -> Answer:
    """Replies to a start (and to a payout's retrieval) showing each started payout with `status`."""

    def answer(method: str, path: str, code: int, body: bytes) -> tuple[int, bytes]:
        path = path.rstrip("/")
        if (method == "PUT" and path.endswith("/payouts/start")) or (method == "GET" and path.split("/")[-1].isdigit()):
            body = STATUS_RE.sub(lambda _: b'"status": ' + json.dumps(status).encode(), body)
        return code, body

    return answer


def _through(
    mock: MockServer, answer: Answer, monkeypatch: pytest.MonkeyPatch, payroll: Path, *args: str
) -> Outcome:
    with serve_asgi(Proxy(mock.root_url, _unchanged, answer), lifespan="off") as proxy:
        return run_bulk(mock, str(payroll), *args, monkeypatch=monkeypatch, base_url=proxy.base_url)


def _report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("status", [FORMULA, f"  {FORMULA}", "@SUM(1+1)*cmd|'/C calc'!A0", "\uff1d1+1"])
def test_a_status_made_a_formula_is_text_in_the_report(
    status: str, fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = write_csv(tmp_path / "p.csv", payroll_rows(2))
    report = tmp_path / "report.csv"
    outcome = _through(fedapay_mock, _status_as(status), monkeypatch, payroll, "--report", str(report))
    assert outcome.code == 1, outcome.out + outcome.err  # a status the client does not know is not accepted
    assert [line["status"] for line in _report(report)] == ["'" + status] * 2
    assert "started, not yet sent or failed: 0 (0 XOF)" in outcome.out
    assert "pending: 2 (" in outcome.out


def test_a_status_with_line_breaks_cannot_forge_a_summary_line(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = write_csv(tmp_path / "p.csv", payroll_rows(1))
    report = tmp_path / "report.csv"
    status = f"sent\n  {FORGED}\r\n\x1b[2K"
    outcome = _through(fedapay_mock, _status_as(status), monkeypatch, payroll, "--report", str(report))
    assert outcome.code == 1, outcome.out + outcome.err
    lines = outcome.out.splitlines()
    assert not [line for line in lines if FORGED in line and not line.startswith("  by status: ")], outcome.out
    assert r"  by status: sent\x0a  FORGED: everything fine, 0 failed\x0d\x0a\x1b[2K 1" in lines
    assert "\x1b" not in outcome.out + outcome.err
    assert "sent: 0 (0 XOF)" in outcome.out  # not counted as sent either
    # Its line breaks kept in one quoted cell, its escape sequence shown escaped (fifteenth review: it was raw).
    assert [line["status"] for line in _report(report)] == [status.replace("\x1b", "\\x1b")]


def test_an_error_message_with_line_breaks_stays_on_its_line(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key refused after the creates, FedaPay's message made to print a line of its own."""

    def refuse(method: str, path: str, code: int, body: bytes) -> tuple[int, bytes]:
        if method == "PUT" and path.rstrip("/").endswith("/payouts/start"):
            return 403, json.dumps({"message": f"Forbidden\nsummary:\n  {FORGED}"}).encode()
        return code, body

    payroll = write_csv(tmp_path / "p.csv", payroll_rows(2))
    outcome = _through(fedapay_mock, refuse, monkeypatch, payroll)
    assert outcome.code == 1, outcome.out + outcome.err
    assert "refused this key or account and the run stopped" in outcome.err
    assert FORGED in outcome.err  # said, on the error's own line
    for line in (outcome.out + outcome.err).splitlines():
        assert not line.lstrip().startswith(FORGED), line
    assert "summary:" not in outcome.err.splitlines()
    assert outcome.out.splitlines().count("summary:") == 1


def test_processing_counts_as_accepted_without_wait(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "processing" in KNOWN_STATUSES  # the client's word, which the run must not second-guess
    payroll = write_csv(tmp_path / "p.csv", payroll_rows(3))
    report = tmp_path / "report.csv"
    outcome = _through(fedapay_mock, _status_as("processing"), monkeypatch, payroll, "--report", str(report))
    assert outcome.code == 0, outcome.out + outcome.err
    total = sum(int(row[4]) for row in payroll_rows(3))
    assert f"started, not yet sent or failed: 3 ({total:,} XOF)" in outcome.out
    assert "pending: 0 (0 XOF)" in outcome.out
    assert "by status: processing 3" in outcome.out
    assert [line["status"] for line in _report(report)] == ["processing"] * 3


def test_started_and_scheduled_count_as_accepted_and_pending_ones_do_not(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mock's own statuses: started (sent now) and scheduled rows are accepted; a start refused for a key
    leaves them pending (created, not started), and the run exits 1."""
    started = run_bulk(fedapay_mock, str(write_csv(tmp_path / "a.csv", payroll_rows(2))), monkeypatch=monkeypatch)
    assert started.code == 0, started.out + started.err
    assert "started, not yet sent or failed: 2 (" in started.out
    assert "pending: 0 (0 XOF)" in started.out
    rows = [[*row[:5], "mtn_open"] for row in payroll_rows(4)[2:]]
    later = run_bulk(fedapay_mock, str(write_csv(tmp_path / "b.csv", rows)), "--schedule-at", "2099-01-01T10:00:00Z",
                     monkeypatch=monkeypatch)
    assert later.code == 0, later.out + later.err
    assert "by status: scheduled 2" in later.out
    assert "started, not yet sent or failed: 2 (" in later.out
    fedapay_mock.arm_fault("start_payouts", "status", times=1, status=403)
    refused = run_bulk(fedapay_mock, str(write_csv(tmp_path / "c.csv", payroll_rows(6)[4:])), monkeypatch=monkeypatch)
    assert refused.code == 1, refused.out + refused.err
    assert "started, not yet sent or failed: 0 (0 XOF)" in refused.out
    assert "pending: 2 (" in refused.out
