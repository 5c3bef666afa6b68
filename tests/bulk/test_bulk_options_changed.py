"""The very file a journal records (the same bytes) run with other options shaping its rows (`--mode`,
`--currency`, `--country`, `--schedule-at`, `--batch`) is refused as that, never as "the file differs": the
operator is told the file is unchanged and which options to give back, nothing is sent (exit 2), and the
journal's own options finish the run. A journal made before its options were recorded still reads."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fedapay_bulk import BulkOptions, OptionsChangedError, pay_file

from tests.bulk.bulk_support import API_KEY, HEADER, payroll_rows, run_bulk, write_csv

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

NO_MODE = HEADER[:-1]  # every row takes --mode


def _payroll(path: Path, national: bool = False) -> Path:
    rows = [row[:-1] for row in payroll_rows(3)]
    if national:  # Benin's 8-digit numbers, read with --country
        for index, row in enumerate(rows):
            row[3] = f"9780807{index}"
    return write_csv(path, rows, NO_MODE)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("first", "second", "named", "back"),
    [
        (["--mode", "mtn_open"], ["--mode", "moov"], "--mode mtn_open", ["--mode", "mtn_open"]),
        (["--mode", "moov", "--currency", "xof"], ["--mode", "moov", "--currency", "GNF"], "--currency XOF",
         ["--mode", "moov", "--currency", "XOF"]),
        (["--mode", "moov", "--country", "bj"], ["--mode", "moov", "--country", "tg"], "--country bj",
         ["--mode", "moov", "--country", "BJ"]),
        (["--mode", "moov", "--schedule-at", "2099-01-01T10:00:00Z"],
         ["--mode", "moov", "--schedule-at", "2099-01-02T10:00:00Z"], "--schedule-at 2099-01-01T10:00:00Z",
         ["--mode", "moov", "--schedule-at", "2099-01-01 10:00:00"]),  # the same time in another form
        (["--mode", "moov", "--schedule-at", "2099-01-01T10:00:00Z"], ["--mode", "moov"],
         "--schedule-at 2099-01-01T10:00:00Z", ["--mode", "moov", "--schedule-at", "2099-01-01T11:00:00+01:00"]),
        (["--mode", "moov"], ["--mode", "moov", "--schedule-at", "2099-01-01T10:00:00Z"], "without --schedule-at",
         ["--mode", "moov"]),
    ],
    ids=["mode", "currency", "country", "schedule", "schedule-dropped", "schedule-added"],
)
def test_the_same_file_with_other_options_says_so_and_sends_nothing(
    first: list[str], second: list[str], named: str, back: list[str], fedapay_mock: MockServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payroll = _payroll(tmp_path / "p.csv", national="--country" in first)
    journal = tmp_path / "p.csv.journal.sqlite"
    paid = run_bulk(fedapay_mock, str(payroll), *first, monkeypatch=monkeypatch)
    assert paid.code == 0, paid.out + paid.err
    kept = _digest(journal)
    requests = fedapay_mock.stats()["requests"]

    other = run_bulk(fedapay_mock, str(payroll), *second, monkeypatch=monkeypatch)
    assert other.code == 2, other.out + other.err
    line = other.err.splitlines()[0]
    assert line.startswith(f"error: {payroll} is unchanged (the same bytes its journal {journal} records)"), line
    assert "nothing was sent" in line
    assert f"Re-run it with the journal's options to finish it: {named}." in line
    assert "differs from the file" not in other.err
    assert "Restore" not in other.err
    assert fedapay_mock.stats()["requests"] == requests
    assert _digest(journal) == kept

    resumed = run_bulk(fedapay_mock, str(payroll), *back, monkeypatch=monkeypatch)
    assert resumed.code == 0, resumed.out + resumed.err
    assert fedapay_mock.stats()["created"] == 3  # nothing paid twice


def test_the_library_form_names_each_option_that_differs(fedapay_mock: MockServer, tmp_path: Path) -> None:
    payroll = _payroll(tmp_path / "p.csv")
    journal = tmp_path / "j.sqlite"
    url = fedapay_mock.base_url
    pay_file(payroll, BulkOptions(journal=journal, mode="mtn_open", batch="may"), api_key=API_KEY, base_url=url)
    with pytest.raises(OptionsChangedError) as caught:
        pay_file(payroll, BulkOptions(journal=journal, mode="moov", batch="june"), api_key=API_KEY, base_url=url)
    assert [(p.field, p.message) for p in caught.value.problems] == [
        ("--mode", "moov in this run; mtn_open in the journal's run"),
        ("--batch", "june in this run; may in the journal's run"),
    ]
    assert "--mode, --batch differ from the journal's run" in caught.value.summary
    assert fedapay_mock.stats()["created"] == 3


def test_a_journal_without_recorded_options_is_still_read(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A journal of an earlier release has no `options` in its meta: the file is still said to be unchanged."""
    payroll = _payroll(tmp_path / "p.csv")
    journal = tmp_path / "p.csv.journal.sqlite"
    assert run_bulk(fedapay_mock, str(payroll), "--mode", "mtn_open", monkeypatch=monkeypatch).code == 0
    db = sqlite3.connect(journal)
    with db:
        assert db.execute("DELETE FROM meta WHERE key = 'options'").rowcount == 1
    db.close()

    other = run_bulk(fedapay_mock, str(payroll), "--mode", "moov", monkeypatch=monkeypatch)
    assert other.code == 2, other.out + other.err
    line = other.err.splitlines()[0]
    assert line.startswith(f"error: {payroll} is unchanged"), line
    assert "this journal does not record them" in line
    assert "Restore" not in other.err
    assert fedapay_mock.stats()["created"] == 3

    resumed = run_bulk(fedapay_mock, str(payroll), "--mode", "mtn_open", monkeypatch=monkeypatch)
    assert resumed.code == 0, resumed.out + resumed.err
    assert fedapay_mock.stats()["created"] == 3


def test_a_changed_file_is_still_refused_as_changed(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = _payroll(tmp_path / "p.csv")
    assert run_bulk(fedapay_mock, str(payroll), "--mode", "mtn_open", monkeypatch=monkeypatch).code == 0
    payroll.write_bytes(payroll.read_bytes().replace(b",1000", b",1001"))
    changed = run_bulk(fedapay_mock, str(payroll), "--mode", "mtn_open", monkeypatch=monkeypatch)
    assert changed.code == 2, changed.out + changed.err
    assert "differs from the file its journal" in changed.err
    assert "is unchanged" not in changed.err
