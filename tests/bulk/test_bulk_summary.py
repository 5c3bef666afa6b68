"""The summary counts money that moved (fees and debit of sent payouts only), never adds currencies together,
and the report never lands on the payroll file or the journal's files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fedapay_bulk import BulkOptions, pay_file
from fedapay_payouts import InvalidArgumentError

from tests.bulk.bulk_support import API_KEY, payroll_rows, run_bulk, write_csv

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer


def _fees(amount: int) -> int:
    return amount * 5 // 1000  # the mock's formula (docs/mock.md, Fees)


def test_fees_and_amount_debited_count_sent_payouts_only(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = payroll_rows(6)
    rows[2][3] = "+2290197800000"  # the mock's rule: a number ending in 0000 fails (FedaPay shows its fees too)
    payroll = write_csv(tmp_path / "p.csv", rows)
    outcome = run_bulk(fedapay_mock, str(payroll), "--wait", monkeypatch=monkeypatch)
    assert outcome.code == 1, outcome.out + outcome.err
    sent = [int(row[4]) for index, row in enumerate(rows) if index != 2]
    assert f"sent: 5 ({sum(sent):,} XOF)" in outcome.out
    assert f"failed: 1 ({int(rows[2][4]):,} XOF)" in outcome.out
    assert (f"fees (sent payouts only): {sum(_fees(a) for a in sent):,} XOF; amount debited (sent payouts only):"
            f" {sum(sent):,} XOF") in outcome.out


def test_a_file_of_two_currencies_gets_a_total_per_currency(fedapay_mock: MockServer, tmp_path: Path) -> None:
    payroll = tmp_path / "m.csv"
    payroll.write_text(
        "firstname,lastname,phone,amount,mode,currency\n"
        "Ada,Lovelace,+22997808071,150000,mtn_open,XOF\n"
        "Mamadou,Barry,+224621000001,900000,orange_gn,GNF\n",
        encoding="utf-8",
    )
    result = pay_file(payroll, BulkOptions(wait=True), api_key=API_KEY, base_url=fedapay_mock.base_url)
    assert result.summary is not None
    assert result.summary.sent.amounts == {"XOF": 150_000, "GNF": 900_000}
    assert result.summary.fees == {"XOF": _fees(150_000), "GNF": _fees(900_000)}
    assert result.summary.amount_debited == {"XOF": 150_000, "GNF": 900_000}
    lines = result.summary.lines()
    assert "sent: 2 (900,000 GNF, 150,000 XOF)" in lines
    assert "failed: 0 (0 GNF, 0 XOF)" in lines
    assert (f"fees (sent payouts only): {_fees(900_000):,} GNF, {_fees(150_000):,} XOF; amount debited (sent payouts"
            " only): 900,000 GNF, 150,000 XOF") in lines


@pytest.mark.parametrize(
    "target",
    ["p.csv", "p.csv.journal.sqlite", "p.csv.journal.sqlite-wal", "p.csv.journal.sqlite-shm",
     "p.csv.journal.sqlite.lock", "link-to-journal.sqlite", "hard-link-to-p.csv", "sub/../p.csv"],
)
def test_a_report_that_would_overwrite_the_file_or_the_journal_is_refused(
    target: str, fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = write_csv(tmp_path / "p.csv", payroll_rows(3))
    journal = tmp_path / "p.csv.journal.sqlite"
    assert run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch).code == 0
    (tmp_path / "link-to-journal.sqlite").symlink_to(journal)
    os.link(payroll, tmp_path / "hard-link-to-p.csv")
    (tmp_path / "sub").mkdir()
    before = {path: path.read_bytes() for path in tmp_path.iterdir() if path.is_file()}
    requests = fedapay_mock.stats()["requests"]
    monkeypatch.chdir(tmp_path)
    outcome = run_bulk(fedapay_mock, "p.csv", "--report", target, monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    assert outcome.err.startswith(f"error: --report: {target} is ")
    assert len(outcome.err.splitlines()) == 1
    assert "nothing was sent" in outcome.err
    assert fedapay_mock.stats()["requests"] == requests
    assert {path: path.read_bytes() for path in tmp_path.iterdir() if path.is_file()} == before


def test_the_library_form_refuses_a_report_over_the_journal(tmp_path: Path) -> None:
    payroll = write_csv(tmp_path / "p.csv", payroll_rows(1))
    journal = tmp_path / "j.sqlite"
    with pytest.raises(InvalidArgumentError) as caught:
        pay_file(payroll, BulkOptions(journal=journal, report=journal), api_key=API_KEY,
                 base_url="http://127.0.0.1:9/v1")
    assert caught.value.argument == "report"
    assert not journal.exists()
