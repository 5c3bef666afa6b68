"""Control and format characters in a cell (C0/C1 controls, NUL, bidi overrides, zero-width characters) are
refused by the row checks, naming the row and the field, so nothing holding them is sent to FedaPay; the report
escapes them too, for a journal written before the checks refused them (fifteenth review: they were sent in the
name, reference and description, and written to the report raw)."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.bulk.bulk_support import run_bulk

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

HEADER = "First name,Last name,Email,Phone,Amount,Mode,Reference,Description\n"
GOOD = ["Ada", "Love", "ada@example.com", "+22997801111", "1000", "mtn_open", "EMP-001", "Salaire"]


@pytest.mark.parametrize(
    ("column", "cell", "field", "shown"),
    [
        (0, "Ada\u202eevoL", "firstname", "'Ada\\u202eevoL' contains \\u202e"),  # a bidi override
        (1, "Love\x1b[31m", "lastname", "'Love\\x1b[31m' contains \\x1b"),
        (1, "Lo\x00ve", "lastname", "'Lo\\x00ve' contains \\x00"),
        (2, "ada\u200b@example.com", "email", "'ada\\u200b@example.com' contains \\u200b"),  # zero width
        (6, "EMP\u200d-001", "reference", "'EMP\\u200d-001' contains \\u200d"),
        (7, "Salaire\x85novembre", "description", "'Salaire\\u0085novembre' contains \\u0085"),  # C1: NEL
        (7, "Salaire\x07\u2066x\u2069", "description", "contains \\x07, \\u2066, \\u2069"),
        (3, "+229\u200e97801111", "phone number", "'+229\\u200e97801111' contains \\u200e"),
    ],
    ids=["rlo", "esc", "nul", "zwsp", "zwj-reference", "c1-description", "several", "lrm-phone"],
)
def test_a_cell_with_a_control_or_format_character_is_refused_naming_row_and_field(
    column: int, cell: str, field: str, shown: str, fedapay_mock: MockServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    row = list(GOOD)
    row[column] = cell
    other = [*GOOD[:3], "+22997801112", "2000", "mtn_open", "EMP-002", "Salaire"]
    payroll = tmp_path / "p.csv"
    with payroll.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        csv.writer(out).writerows([other, row])
    outcome = run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    problems = [line for line in outcome.err.splitlines() if line.startswith("  ")]
    assert len(problems) == 1, outcome.err
    assert problems[0].startswith(f"  row 3: {field}: "), problems[0]
    assert shown in problems[0]
    assert problems[0].endswith(": a control or invisible character, which would be sent to FedaPay as it is; delete"
                                " it (error)")
    assert fedapay_mock.stats()["requests"] == {}
    assert not (tmp_path / "p.csv.journal.sqlite").exists()


def test_the_report_escapes_what_an_older_journal_holds(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A journal written before the checks refused such cells: its beneficiary and number reach the report escaped."""
    payroll = tmp_path / "p.csv"
    payroll.write_text(HEADER + ",".join(GOOD) + "\n", encoding="utf-8")
    assert run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch).code == 0
    with sqlite3.connect(tmp_path / "p.csv.journal.sqlite") as db:
        db.execute("UPDATE rows SET beneficiary = ?, phone = ?", ("Ada \u202eevoL\x1b[2J", "+229\x0097801111"))
    db.close()
    report = tmp_path / "r.csv"
    outcome = run_bulk(fedapay_mock, str(payroll), "--report", str(report), monkeypatch=monkeypatch)
    assert outcome.code == 0, outcome.out + outcome.err
    with report.open(encoding="utf-8", newline="") as handle:
        (line,) = list(csv.DictReader(handle))
    assert line["beneficiary"] == "Ada \\u202eevoL\\x1b[2J"
    assert line["phone"] == "+229\\x0097801111"
