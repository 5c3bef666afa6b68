"""A reference names one payment: --batch makes user references new too, and a reference FedaPay already
holds for another payment (next month's file reusing them) stops the run before anything is sent."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.bulk.bulk_support import payouts_by_reference, payroll_rows, run_bulk, write_csv

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

ROOT = Path(__file__).resolve().parents[2]
NOVEMBER = (
    "Prénom,Nom,Téléphone,Montant,Mode,Référence,Description\n"
    "Ada,Lovelace,+22997808080,150000,mtn_open,EMP-001,Salaire novembre\n"
    "Koffi,Mensah,+2290197808081,95000,moov,EMP-002,Salaire novembre\n"
)


def test_batch_pays_a_file_with_a_reference_column_again(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = tmp_path / "payroll.csv"
    shutil.copy(ROOT / "examples" / "payroll.csv", payroll)  # the README's example: a Référence column
    assert run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch).code == 0
    again = run_bulk(fedapay_mock, str(payroll), "--batch", "december", "--wait", monkeypatch=monkeypatch)
    assert again.code == 0, again.out + again.err
    assert "sent: 5 (640,000 XOF)" in again.out
    assert fedapay_mock.stats()["created"] == 10
    found = payouts_by_reference(fedapay_mock)
    assert {f"PAY-2026-11-00{n}:december" for n in range(1, 6)} <= set(found)
    assert all(len(payouts) == 1 for payouts in found.values())


def test_next_months_file_reusing_references_is_refused_before_anything_is_sent(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    november, december = tmp_path / "nov.csv", tmp_path / "dec.csv"
    november.write_text(NOVEMBER, encoding="utf-8")
    december.write_text(NOVEMBER.replace("novembre", "décembre"), encoding="utf-8")
    assert run_bulk(fedapay_mock, str(november), monkeypatch=monkeypatch).code == 0
    requests = fedapay_mock.stats()["requests"]
    refused = run_bulk(fedapay_mock, str(december), "--wait", monkeypatch=monkeypatch)
    assert refused.code == 2, refused.out + refused.err
    assert "row 2: reference: 'EMP-001' is already the reference of payout" in refused.err
    assert "row 3: reference: 'EMP-002'" in refused.err
    assert "description 'Salaire novembre', not 'Salaire décembre'" in refused.err
    assert "--batch" in refused.err
    assert fedapay_mock.stats()["requests"]["create_payout"] == requests["create_payout"]
    assert run_bulk(fedapay_mock, str(december), "--wait", monkeypatch=monkeypatch).code == 2  # still refused
    paid = run_bulk(fedapay_mock, str(december), "--batch", "2026-12", "--wait", monkeypatch=monkeypatch)
    assert paid.code == 0, paid.out + paid.err
    assert "sent: 2 (245,000 XOF)" in paid.out
    assert set(payouts_by_reference(fedapay_mock)) == {"EMP-001", "EMP-002", "EMP-001:2026-12", "EMP-002:2026-12"}


@pytest.mark.parametrize("derived", [False, True], ids=["reference-column", "derived-references"])
def test_next_months_identical_file_is_refused_not_reported_as_paid(
    derived: bool, fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Same references (or none: the same derived ones), amounts and description: last month's payouts match
    # every row. They are not this new journal's, so they must not count as this month's payment.
    text = NOVEMBER.replace(",Référence", "").replace(",EMP-001", "").replace(",EMP-002", "") if derived else NOVEMBER
    november, december = tmp_path / "nov.csv", tmp_path / "dec.csv"
    november.write_text(text, encoding="utf-8")
    december.write_text(text, encoding="utf-8")
    assert run_bulk(fedapay_mock, str(november), "--wait", monkeypatch=monkeypatch).code == 0
    requests = fedapay_mock.stats()["requests"]
    report = tmp_path / "r.csv"
    refused = run_bulk(fedapay_mock, str(december), "--wait", "--report", str(report), monkeypatch=monkeypatch)
    assert refused.code == 2, refused.out + refused.err
    assert "2 row(s) of this file are already paid at FedaPay" in refused.err
    assert "row 2: reference: " in refused.err
    assert "is the reference of payout 1 (sent, 150000 XOF, created " in refused.err
    assert "row 3: reference: " in refused.err
    assert "--batch LABEL" in refused.err
    assert "--adopt-existing" in refused.err
    assert "already existed" not in refused.out
    assert "sent:" not in refused.out
    assert not report.exists()
    assert fedapay_mock.stats()["requests"]["create_payout"] == requests["create_payout"]
    assert run_bulk(fedapay_mock, str(december), "--wait", monkeypatch=monkeypatch).code == 2  # still refused
    paid = run_bulk(fedapay_mock, str(december), "--batch", "2026-12", "--wait", monkeypatch=monkeypatch)
    assert paid.code == 0, paid.out + paid.err
    assert "sent: 2 (245,000 XOF)" in paid.out
    stats = fedapay_mock.stats()
    assert stats["created"] == 4
    assert stats["by_status"] == {"sent": 4}


def test_a_lost_journal_is_taken_over_only_with_adopt_existing(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    november = tmp_path / "nov.csv"
    november.write_text(NOVEMBER, encoding="utf-8")
    assert run_bulk(fedapay_mock, str(november), monkeypatch=monkeypatch).code == 0
    (tmp_path / "nov.csv.journal.sqlite").unlink()  # lost
    requests = fedapay_mock.stats()["requests"]
    refused = run_bulk(fedapay_mock, str(november), monkeypatch=monkeypatch)
    assert refused.code == 2, refused.out + refused.err
    assert "--adopt-existing" in refused.err
    assert fedapay_mock.stats()["requests"].get("start_payouts") == requests.get("start_payouts")
    taken = run_bulk(fedapay_mock, str(november), "--adopt-existing", "--wait", monkeypatch=monkeypatch)
    assert taken.code == 0, taken.out + taken.err
    assert "2 payout(s) of this file already existed and were not created again" in taken.out
    assert "sent: 2 (245,000 XOF)" in taken.out
    assert fedapay_mock.stats()["created"] == 2
    assert set(payouts_by_reference(fedapay_mock)) == {"EMP-001", "EMP-002"}


def test_a_long_refusal_names_the_first_rows_and_counts_the_others(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(130)))
    assert run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch).code == 0
    (tmp_path / "p.csv.journal.sqlite").unlink()
    refused = run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch)  # found newest first: rows 131 down to 2
    assert refused.code == 2, refused.out + refused.err
    assert "130 row(s) of this file are already paid" in refused.err
    listed = [line for line in refused.err.splitlines() if line.startswith("  row ")]
    assert [int(line.split()[1].rstrip(":")) for line in listed] == list(range(2, 102))
    assert refused.err.endswith("  file: rows: 30 more like these, not shown (error)\n")


def test_a_reference_of_a_payout_with_another_amount_is_refused(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    november, corrected = tmp_path / "nov.csv", tmp_path / "corrected.csv"
    november.write_text(NOVEMBER, encoding="utf-8")
    corrected.write_text(NOVEMBER.replace("95000", "96000"), encoding="utf-8")
    assert run_bulk(fedapay_mock, str(november), monkeypatch=monkeypatch).code == 0
    refused = run_bulk(fedapay_mock, str(corrected), monkeypatch=monkeypatch)
    assert refused.code == 2, refused.out + refused.err
    assert "row 3: reference: 'EMP-002' is already the reference of payout" in refused.err
    assert "amount 95000, not 96000" in refused.err
    # The same payment, not a conflict: listed as paid by a payout this (new) journal did not create.
    assert "row 2: reference: 'EMP-001' is already" not in refused.err
    assert "row 2: reference: 'EMP-001' is the reference of payout 1 (started, 150000 XOF" in refused.err
    assert fedapay_mock.stats()["created"] == 2


@pytest.mark.parametrize(
    ("december", "shown"),
    [
        ("Koffi,Mensah,+22997808099,150000,mtn_open,EMP-001,Salaire\n", "firstname 'Ada', not 'Koffi'"),
        ("Ada,Lovelace,+22997808099,150000,mtn_open,EMP-001,Salaire\n", "number +22997808080, not +22997808099"),
    ],
    ids=["another-person", "another-number"],
)
def test_a_reference_paid_to_another_beneficiary_is_refused_not_counted_as_paid(
    december: str, shown: str, fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = "Prénom,Nom,Téléphone,Montant,Mode,Référence,Description\n"
    november, later = tmp_path / "nov.csv", tmp_path / "dec.csv"
    november.write_text(header + "Ada,Lovelace,+22997808080,150000,mtn_open,EMP-001,Salaire\n", encoding="utf-8")
    later.write_text(header + december, encoding="utf-8")
    assert run_bulk(fedapay_mock, str(november), monkeypatch=monkeypatch).code == 0
    refused = run_bulk(fedapay_mock, str(later), "--report", str(tmp_path / "r.csv"), monkeypatch=monkeypatch)
    assert refused.code == 2, refused.out + refused.err
    assert "row 2: reference: 'EMP-001' is already the reference of payout" in refused.err
    assert shown in refused.err
    assert "already existed" not in refused.out
    assert fedapay_mock.stats()["created"] == 1


def test_a_reference_with_the_batch_separator_is_refused(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = tmp_path / "p.csv"
    payroll.write_text(NOVEMBER.replace("EMP-002", "EMP-001:2026-12"), encoding="utf-8")
    refused = run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch)
    assert refused.code == 2, refused.out + refused.err
    assert "row 3: reference: 'EMP-001:2026-12' contains ':'" in refused.err
    assert "row 2" not in refused.err
    assert fedapay_mock.stats()["requests"] == {}
