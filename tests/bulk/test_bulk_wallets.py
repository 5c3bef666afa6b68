"""One wallet however its number is written (fifteenth review): Benin's legacy 8-digit form and the 10-digit `01`
form of its 2024 plan pay the same wallet, so the checks across rows (duplicates, at most 3 payouts per number)
and the look-up of existing payouts compare wallets (`fedapay_payouts._wallets`), not the numbers' text."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.bulk.bulk_support import payouts_by_reference, run_bulk

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

HEADER = "First name,Last name,Phone,Amount,Mode,Reference\n"


def test_one_wallet_written_both_ways_is_a_duplicate(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both rows were sent without --allow-duplicates: one person paid twice."""
    payroll = tmp_path / "p.csv"
    payroll.write_text(
        "First name,Last name,Phone,Amount,Mode\n"
        "Ada,Lovelace,+22997808080,50000,mtn_open\n"
        "Ada,Lovelace,+2290197808080,50000,mtn_open\n",
        encoding="utf-8",
    )
    refused = run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch)
    assert refused.code == 2, refused.out + refused.err
    assert ("  row 3: duplicate: same beneficiary and amount (50000 XOF) as row 2 (the wallet row 2 writes"
            " +22997808080): pass --allow-duplicates if both are meant (warning)") in refused.err
    assert fedapay_mock.stats()["requests"] == {}
    allowed = run_bulk(fedapay_mock, str(payroll), "--allow-duplicates", monkeypatch=monkeypatch)
    assert allowed.code == 0, allowed.out + allowed.err
    assert fedapay_mock.stats()["created"] == 2


def test_a_fourth_payout_to_one_wallet_written_otherwise_is_refused_before_anything_is_sent(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It passed the checks, 3 payouts were started and FedaPay refused the 4th's start: a pending payout left."""
    payroll = tmp_path / "p.csv"
    payroll.write_text(
        "First name,Last name,Phone,Amount,Mode\n"
        "Bo,Ka,+22997808181,1000,mtn_open\n"
        "Bo,Ka,+229 97 80 81 81,2000,mtn_open\n"
        "Bo,Ka,0197808181,3000,mtn_open\n"
        "Bo,Ka,+2290197808181,4000,mtn_open\n"
        "Cy,Ka,+2290197808182,4000,mtn_open\n",
        encoding="utf-8",
    )
    outcome = run_bulk(fedapay_mock, str(payroll), "--country", "bj", monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    problems = [line for line in outcome.err.splitlines() if line.startswith("  ")]
    assert problems == [
        "  row 5: phone number: payout number 4 to +2290197808181 (the wallet row 2 writes +22997808181) in this"
        " file: FedaPay allows at most 3 per number in 24 hours (error)"
    ]
    assert fedapay_mock.stats()["requests"] == {}


def test_a_payout_found_for_the_wallet_written_otherwise_is_the_rows(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file paid, its journal lost, the file's number then written in the 10-digit form: the payout FedaPay holds
    pays that wallet. It was refused as another person's payment under the row's reference."""
    payroll = tmp_path / "p.csv"
    payroll.write_text(HEADER + "Ada,Lovelace,+22997808080,150000,mtn_open,EMP-001\n", encoding="utf-8")
    assert run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch).code == 0
    (tmp_path / "p.csv.journal.sqlite").unlink()  # lost
    payroll.write_text(HEADER + "Ada,Lovelace,+2290197808080,150000,mtn_open,EMP-001\n", encoding="utf-8")
    taken = run_bulk(fedapay_mock, str(payroll), "--adopt-existing", "--wait", monkeypatch=monkeypatch)
    assert taken.code == 0, taken.out + taken.err
    assert "1 payout(s) of this file already existed and were not created again" in taken.out
    assert "sent: 1 (150,000 XOF)" in taken.out
    assert fedapay_mock.stats()["created"] == 1
    assert len(payouts_by_reference(fedapay_mock)["EMP-001"]) == 1


def test_a_payout_for_another_wallet_under_the_rows_reference_is_still_refused(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same digits in Togo are another wallet: the wallet rule widens nothing else."""
    payroll = tmp_path / "p.csv"
    payroll.write_text(HEADER + "Ada,Lovelace,+22997808080,150000,mtn_open,EMP-001\n", encoding="utf-8")
    assert run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch).code == 0
    (tmp_path / "p.csv.journal.sqlite").unlink()
    payroll.write_text(HEADER + "Ada,Lovelace,+22897808080,150000,mtn_open,EMP-001\n", encoding="utf-8")
    refused = run_bulk(fedapay_mock, str(payroll), "--adopt-existing", monkeypatch=monkeypatch)
    assert refused.code == 2, refused.out + refused.err
    assert "beneficiary number +22997808080, not +22897808080" in refused.err
    assert fedapay_mock.stats()["created"] == 1
