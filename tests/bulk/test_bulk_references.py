"""A reference names one payment: --batch makes user references new too, and a reference FedaPay already
holds for another payment (next month's file reusing them) stops the run before anything is sent."""

from __future__ import annotations

import re
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
    assert "2 row(s) of this file already have a payout at FedaPay" in refused.err
    assert "did not create: 2 sent; this run sent nothing" in refused.err
    assert "row 2: reference: " in refused.err
    # Payout ids follow the order the server got the creates in, which the command's concurrency does not fix.
    assert re.search(r"is the reference of payout \d+ \(sent, 150000 XOF, created ", refused.err)
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
    assert "130 row(s) of this file already have a payout at FedaPay" in refused.err
    listed = [line for line in refused.err.splitlines() if line.startswith("  row ")]
    assert [int(line.split()[1].rstrip(":")) for line in listed] == list(range(2, 102))
    assert refused.err.endswith("\n  rows: 30 more like these, not shown (error)\n")  # no row, no "file:"


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
    # Started or already sent by then (the mock settles a started payout a moment later); its id is the order the
    # server got the creates in.
    paid_already = r"row 2: reference: 'EMP-001' is the reference of payout \d+ \((started|sent), 150000 XOF"
    assert re.search(paid_already, refused.err)
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


FAILING = "+2290197800000"  # the mock's rule: a number ending in 0000 fails


def test_failed_rows_are_said_how_to_pay_again_never_to_adopt_as_paid(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = "Prénom,Nom,Téléphone,Montant,Mode\n"
    failing, paid = f"Ada,Lovelace,{FAILING},1000,mtn_open\n", "Bob,K,+22997808080,2000,mtn_open\n"
    payroll = tmp_path / "p.csv"
    payroll.write_text(header + failing + paid, encoding="utf-8")
    first = run_bulk(fedapay_mock, str(payroll), "--wait", monkeypatch=monkeypatch)
    assert first.code == 1, first.out + first.err
    assert ("note: 1 row(s) failed (1,000 XOF): a failed payout is final at FedaPay, and re-running this command"
            " does not pay those rows again. To pay them, put them (status `failed` in the report) in a file of"
            " their own and pay that file with --batch LABEL (new references, so new payouts); never the whole"
            " file with --batch, which would pay every row again") in first.out
    # The operator's first guess: the failed row alone in a file, no batch. Its derived reference is the one
    # already used by the failed payout: refused, saying the payout failed and how to pay it, not "adopt it".
    retry = tmp_path / "retry.csv"
    retry.write_text(header + failing, encoding="utf-8")
    refused = run_bulk(fedapay_mock, str(retry), monkeypatch=monkeypatch)
    assert refused.code == 2, refused.out + refused.err
    assert "1 row(s) of this file already have a payout at FedaPay" in refused.err
    assert "did not create: 1 failed; this run sent nothing" in refused.err
    assert ("The 1 failed payout(s) paid nothing, and --adopt-existing would record their rows as failed, not pay"
            " them: to pay those rows, put them in a file of their own and pay it with --batch LABEL") in refused.err
    assert "count as this file's" not in refused.err  # no advice to adopt a failed payout
    assert "row 2: reference: " in refused.err
    assert "(failed, 1000 XOF, created " in refused.err
    assert "; it failed: it paid nothing (error)" in refused.err
    # The whole file again (its journal lost): the sent row may be adopted, the failed one is said apart.
    (tmp_path / "p.csv.journal.sqlite").unlink()
    both = run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch)
    assert both.code == 2, both.out + both.err
    assert "did not create: 1 sent, 1 failed; this run sent nothing" in both.err
    assert "re-run with --adopt-existing: the payouts found then count as this file's" in both.err
    assert "The 1 failed payout(s) paid nothing" in both.err
    created = fedapay_mock.stats()["created"]
    again = run_bulk(fedapay_mock, str(retry), "--batch", "retry-1", monkeypatch=monkeypatch)
    assert again.code == 0, again.out + again.err  # a new payout for the failed row (the mock fails it again)
    assert fedapay_mock.stats()["created"] == created + 1


def test_payouts_under_way_are_counted_by_status_in_the_refusal(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    november = tmp_path / "nov.csv"
    november.write_text(NOVEMBER, encoding="utf-8")
    fedapay_mock.arm_fault("start_payouts", "status", times=4, status=400)  # left pending by the first run
    assert run_bulk(fedapay_mock, str(november), monkeypatch=monkeypatch).code == 1
    (tmp_path / "nov.csv.journal.sqlite").unlink()
    refused = run_bulk(fedapay_mock, str(november), monkeypatch=monkeypatch)
    assert refused.code == 2, refused.out + refused.err
    assert "did not create: 2 not yet sent or failed (pending 2); this run sent nothing" in refused.err
    assert "pending ones are started" in refused.err
    assert "failed payout" not in refused.err
    taken = run_bulk(fedapay_mock, str(november), "--adopt-existing", "--wait", monkeypatch=monkeypatch)
    assert taken.code == 0, taken.out + taken.err
    assert fedapay_mock.stats()["created"] == 2
